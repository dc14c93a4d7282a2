//! StreamVault, the example app of waterline: its schema lives in `migrations/`, embedded at
//! compile time, and `streamvault <command>` is waterline's `migrate` command on it.
//! `streamvault start` starts the app as a server would: it applies what is pending at
//! start-up, leaves background migrations (a long backfill) to a thread, and is ready at once.
//! Without `--database-url` or `DATABASE_URL` it uses the SQLite file `streamvault.db`.

use std::process::ExitCode;
use std::thread::JoinHandle;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser};
use waterline::{MigrationConnection, Progress, Report};

static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!();

/// The SQLite database used when no URL is given.
const DEFAULT_DATABASE: &str = "streamvault.db";

#[derive(Parser)]
#[command(
    name = "streamvault",
    version,
    about = "StreamVault's database, migrated by waterline"
)]
struct Cli {
    #[command(flatten)]
    migrate: waterline::cli::MigrateCommand,
}

/// The one place StreamVault's migration settings live: what it migrates with at start-up,
/// and what its `migrate` command uses, each flag overriding its one setting.
fn runner() -> waterline::Runner<'static> {
    MIGRATIONS.runner()
}

fn main() -> ExitCode {
    // The `migrate` commands, and beside them the app's own: `start`.
    let start = clap::Command::new("start").about(
        "Start StreamVault: apply pending migrations, run background migrations in a thread \
         (logging their progress), and wait for them",
    );
    let matches = Cli::command().subcommand(start).get_matches();
    if let Some(start) = matches.subcommand_matches("start") {
        // `--database-url` (or `DATABASE_URL`) is a global argument of the `migrate` command;
        // its other flags override settings of `migrate` only, and `start` refuses them.
        let ignored: Vec<String> = start
            .ids()
            .filter(|id| id.as_str() != "database_url")
            .filter(|id| start.value_source(id.as_str()) == Some(ValueSource::CommandLine))
            .map(|id| format!("--{}", id.as_str().replace('_', "-")))
            .collect();
        if !ignored.is_empty() {
            eprintln!(
                "error: `start` migrates with the app's own settings and takes only \
                 --database-url, not {}",
                ignored.join(", ")
            );
            return ExitCode::from(2);
        }
        let url = start
            .get_one::<String>("database_url")
            .map_or(DEFAULT_DATABASE, String::as_str);
        return self::start(url);
    }
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    cli.migrate.run_with(runner(), Some(DEFAULT_DATABASE))
}

/// `streamvault start`: connects to `url` (PostgreSQL, MySQL/MariaDB, or a SQLite file).
fn start(url: &str) -> ExitCode {
    let (database, feature, started) =
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            ("PostgreSQL", "postgres", postgres(url))
        } else if url.starts_with("mysql://") || url.starts_with("mariadb://") {
            (
                "MySQL",
                "mysql",
                mysql(&url.replacen("mariadb://", "mysql://", 1)),
            )
        } else {
            let path = url.strip_prefix("sqlite://").unwrap_or(url);
            ("SQLite", "sqlite", sqlite(path))
        };
    match started {
        Some(Ok(())) => ExitCode::SUCCESS,
        Some(Err(error)) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
        None => {
            eprintln!(
                "error: this binary was built without {database}; build it with `--features {feature}`"
            );
            ExitCode::from(2)
        }
    }
}

/// [`serve`] on each backend compiled in; `None` for one that is not.
#[cfg(feature = "postgres")]
fn postgres(url: &str) -> Option<Result<(), Failure>> {
    Some(serve::<diesel::PgConnection>(url.to_owned()))
}
#[cfg(not(feature = "postgres"))]
fn postgres(_: &str) -> Option<Result<(), Failure>> {
    None
}
#[cfg(feature = "mysql")]
fn mysql(url: &str) -> Option<Result<(), Failure>> {
    Some(serve::<diesel::MysqlConnection>(url.to_owned()))
}
#[cfg(not(feature = "mysql"))]
fn mysql(_: &str) -> Option<Result<(), Failure>> {
    None
}
#[cfg(feature = "sqlite")]
fn sqlite(path: &str) -> Option<Result<(), Failure>> {
    Some(serve::<diesel::SqliteConnection>(path.to_owned()))
}
#[cfg(not(feature = "sqlite"))]
fn sqlite(_: &str) -> Option<Result<(), Failure>> {
    None
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

/// Starts the app on a `C` connection to `url`. Start-up applies what is pending up to the
/// first background migration, quickly, under the migration lock; the background migrations
/// then run in a thread on a connection of their own while the app serves. Should the process
/// be killed part-way, the next start resumes the backfill after its last committed batch
/// (once the killed run's hold ends, `Runner::heartbeat_lease` after its last heartbeat).
fn serve<C>(url: String) -> Result<(), Failure>
where
    C: diesel::Connection + MigrationConnection + 'static,
{
    let mut conn = C::establish(&url)?;
    let report = runner().run_pending(&mut conn)?;
    println!("{report}");
    let background = match report.deferred.is_empty() {
        true => None,
        false => Some(run_in_background::<C>(url)?),
    };
    println!("StreamVault is ready");
    // A real server serves requests here, while the background thread works. The example has
    // nothing to serve: it waits for the thread, and stops.
    if let Some(thread) = background {
        let report = thread
            .join()
            .map_err(|_| "the background migrations panicked")??;
        println!("background migrations done: {report}");
    }
    Ok(())
}

/// Runs the background migrations in a thread, on a connection of its own.
fn run_in_background<C>(url: String) -> std::io::Result<JoinHandle<Result<Report, Failure>>>
where
    C: diesel::Connection + MigrationConnection + 'static,
{
    std::thread::Builder::new()
        .name("background-migrations".to_owned())
        .spawn(move || {
            let mut conn = C::establish(&url)?;
            let report = runner()
                .on_progress(log_progress)
                .run_background(&mut conn)?;
            Ok(report)
        })
}

/// Logs what the background run does, to standard error.
fn log_progress(progress: Progress<'_>) {
    match progress {
        Progress::Started { migration, .. } => {
            eprintln!("background: running {}", migration.id());
        }
        Progress::Batch { progress } => {
            let left = progress.eta.map_or(String::new(), |eta| {
                format!(", about {} s left", eta.as_secs())
            });
            eprintln!(
                "background: {} {}: {} of about {} rows, batch {} took {} ms, {:.0} rows/s{left}",
                progress.migration.id(),
                progress.backfill,
                progress.rows_done,
                progress.rows_total,
                progress.batches,
                progress.batch_time.as_millis(),
                progress.rate,
            );
        }
        Progress::Finished { ran, .. } => eprintln!("background: applied {ran}"),
        _ => {}
    }
}
