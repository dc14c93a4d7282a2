//! The `migrate` command any app can mount (feature `cli`), working on the migrations embedded
//! in the app's own binary.
//!
//! ```no_run
//! use clap::{Parser, Subcommand};
//!
//! static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("../migrations");
//!
//! #[derive(Parser)]
//! struct Cli {
//!     #[command(subcommand)]
//!     command: Command,
//! }
//!
//! #[derive(Subcommand)]
//! enum Command {
//!     /// Run the app.
//!     Serve,
//!     /// Inspect and apply database migrations.
//!     Migrate(waterline::cli::MigrateCommand),
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     match Cli::parse().command {
//!         Command::Serve => std::process::ExitCode::SUCCESS,
//!         // The app's runner, with its table and policies: flags override single settings.
//!         Command::Migrate(migrate) => migrate.run_with(MIGRATIONS.runner(), None),
//!     }
//! }
//! ```
//!
//! Exit codes: 0 success; 1 a migration or database error (a refusal, a failed migration, a
//! lost connection mid-run); 2 a usage error (bad arguments, no or unusable database URL, a
//! bad name for `new`); 3 `verify` found migrations pending, failed, running, drifted or
//! missing, or `lint --strict` found advice; 4 the database could not be reached or refused
//! the login; 5 stopped by SIGTERM or Ctrl-C between migrations; 130 aborted by a second
//! signal.

mod advice;
mod commands;
mod database;
mod lint;
mod new;
mod output;
mod signals;
mod version;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use clap::{Args, Subcommand, ValueEnum};

use self::database::{AnyConnection, ConnectFailure, DatabaseUrl};
pub use self::version::VersionArg;
use crate::runner::{Locking, Runner};
use crate::{Error, Migrations};

/// Examples and exit codes, at the end of `--help`.
const HELP_AFTER: &str = "Examples:
  migrate status                         every migration and its state
  migrate plan                           the SQL `up` would run, changing nothing
  migrate up                             apply every pending migration
  migrate verify --json                  exit 3 unless every migration is applied as embedded
  migrate mark 3 applied                 record migration 3 as applied without running it
  migrate --lock lease up                behind PgBouncer's transaction pooling
  migrate completions bash               a completion script for bash

The database URL comes from --database-url, DATABASE_URL, or DATABASE_URL in a .env file.

Exit codes: 0 success; 1 a migration or database error; 2 a usage error; 3 verify found
migrations not applied as embedded (or lint --strict found advice); 4 the database could
not be reached or refused the login; 5 stopped by SIGTERM or Ctrl-C between migrations
(what ran is recorded, the lock released); 130 aborted at once by a second signal.";

/// Success.
pub const EXIT_OK: u8 = 0;
/// A migration or database error.
pub const EXIT_FAILED: u8 = 1;
/// A usage or configuration error.
pub const EXIT_USAGE: u8 = 2;
/// `verify` found migrations that are not applied as embedded, or `lint --strict` found advice.
pub const EXIT_NOT_UP_TO_DATE: u8 = 3;
/// The database could not be reached or refused the login: an outage, not a typo.
pub const EXIT_UNREACHABLE: u8 = 4;
/// Stopped by SIGTERM or Ctrl-C: the migration in progress finished and was recorded, the
/// lock was released, and the rest is pending.
pub const EXIT_STOPPED: u8 = 5;
/// A second SIGTERM or Ctrl-C aborted the run at once, as a kill would: the next run settles
/// what it left (see the guide's guarantees).
pub const EXIT_ABORTED: u8 = 130;

/// `migrate`: inspect and apply the migrations embedded in this binary.
///
/// Mount it as a subcommand of the app's own clap parser and hand it the app's migrations;
/// [`run`](Self::run) returns the process's exit code. It can also be parsed on its own, as a
/// test or a small tool would:
///
/// ```
/// use clap::Parser;
///
/// static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("../migrations");
///
/// #[derive(Parser)]
/// struct Tool {
///     #[command(flatten)]
///     migrate: waterline::cli::MigrateCommand,
/// }
///
/// let dir = std::env::temp_dir().join(format!("waterline-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let url = format!("sqlite://{}", dir.join("app.db").display());
/// let tool = Tool::parse_from(["tool", "up", "--database-url", &url]);
/// assert_eq!(tool.migrate.run(&MIGRATIONS), std::process::ExitCode::SUCCESS);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Clone, Args)]
#[command(
    about = "Inspect and apply the migrations embedded in this binary",
    long_about = None,
    after_help = HELP_AFTER
)]
#[non_exhaustive]
pub struct MigrateCommand {
    /// The subcommand to run.
    #[command(subcommand)]
    pub action: Action,

    /// Database URL: postgres://..., mysql://... (or mariadb://...), sqlite://PATH or a file path
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,

    /// The tracking table [default: the app's, else waterline_migrations]
    #[arg(long, global = true)]
    pub table: Option<String>,

    /// How long to wait for the database server to accept the connection and log in
    #[arg(long, global = true, default_value = "10s", value_parser = humantime::parse_duration)]
    pub connect_timeout: Duration,

    /// How long to wait for another process's migration lock, e.g. 30s or 2m [default: the
    /// app's, else 60s]
    #[arg(long, global = true, value_parser = humantime::parse_duration)]
    pub lock_timeout: Option<Duration>,

    /// How replicas keep out of each other's way: a session lock, a lease row (behind
    /// PgBouncer's transaction pooling), or none (a migration never runs twice, but replicas
    /// that meet stop instead of waiting) [default: the app's, else session]
    #[arg(long, global = true, value_enum)]
    pub lock: Option<LockMode>,

    /// How long a lease lasts unless renewed (renewed before each migration): longer than the
    /// longest migration, as short as a dead holder may keep others waiting; implies `--lock
    /// lease` [default: 60s]
    #[arg(long, global = true, value_parser = humantime::parse_duration)]
    pub lease: Option<Duration>,

    /// How long each try of a migration waits for a table lock before it gives way and tries
    /// again later, so that queries queued behind it wait at most this; 0 waits as long as
    /// the server lets it [default: the app's, else 500ms]
    #[arg(long, global = true, value_parser = humantime::parse_duration)]
    pub ddl_lock_timeout: Option<Duration>,

    /// How long, in all, a migration keeps giving way and trying again before the run stops
    /// [default: the app's, else 5m]
    #[arg(long, global = true, value_parser = humantime::parse_duration)]
    pub ddl_lock_budget: Option<Duration>,

    /// Take no migration lock: the same as `--lock off`
    #[arg(long, global = true, conflicts_with = "lock")]
    pub no_lock: bool,

    /// Apply pending migrations older than the newest applied one (the app's runner may
    /// allow it already)
    #[arg(long, global = true)]
    pub allow_out_of_order: bool,

    /// Go on, and count as up to date, when the database records migrations this binary
    /// does not embed, whatever they are: the same as `--ahead allow` (the app's runner may
    /// say so already)
    #[arg(long, global = true, conflicts_with = "ahead")]
    pub ignore_missing: bool,

    /// When the database records migrations this binary does not embed: go on if each only
    /// adds to the schema (expand-only), refuse, or go on whatever they are (allow)
    /// [default: the app's, else expand-only]
    #[arg(long, global = true, value_enum)]
    pub ahead: Option<AheadMode>,

    /// Keep diesel_migrations' `__diesel_schema_migrations` in step with the tracking table,
    /// for teams that still run diesel_cli or may go back (the app's runner may say so
    /// already)
    #[arg(long, global = true)]
    pub keep_diesel_table: bool,
}

/// Shown without the database URL's password, wherever the URL came from.
impl std::fmt::Debug for MigrateCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let url = self
            .database_url
            .as_deref()
            .map(|url| match DatabaseUrl::parse(url) {
                Ok(url) => url.redacted(),
                Err(_) => "<not shown: not a URL waterline accepts>".to_owned(),
            });
        f.debug_struct("MigrateCommand")
            .field("action", &self.action)
            .field("database_url", &url)
            .field("table", &self.table)
            .field("connect_timeout", &self.connect_timeout)
            .field("lock_timeout", &self.lock_timeout)
            .field("lock", &self.lock)
            .field("lease", &self.lease)
            .field("no_lock", &self.no_lock)
            .field("ddl_lock_timeout", &self.ddl_lock_timeout)
            .field("ddl_lock_budget", &self.ddl_lock_budget)
            .field("allow_out_of_order", &self.allow_out_of_order)
            .field("ignore_missing", &self.ignore_missing)
            .field("ahead", &self.ahead)
            .field("keep_diesel_table", &self.keep_diesel_table)
            .finish()
    }
}

/// The `migrate` subcommands.
#[derive(Debug, Clone, Subcommand)]
#[non_exhaustive]
pub enum Action {
    /// Show every migration: version, name, state, when applied, how long it took
    Status {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Apply pending migrations, in order
    Up {
        /// Stop after this version
        #[arg(long, value_name = "VERSION")]
        to: Option<VersionArg>,
        /// Print the SQL that would run, and change nothing
        #[arg(long)]
        dry_run: bool,
        /// Apply them all in one transaction: all or none (PostgreSQL and SQLite)
        #[arg(long)]
        single_transaction: bool,
        /// Stop before the first background migration, as the app's start-up does, leaving
        /// it and those after it to the app's background run (by default `up` runs them too,
        /// resuming a backfill after its last checkpoint)
        #[arg(long)]
        defer_background: bool,
    },
    /// Revert applied migrations with their down scripts (the newest one by default)
    Down {
        /// Revert every migration newer than this version, which stays applied
        #[arg(long, value_name = "VERSION", conflicts_with_all = ["steps", "all"])]
        to: Option<VersionArg>,
        /// Revert this many migrations, newest first
        #[arg(long, conflicts_with = "all")]
        steps: Option<usize>,
        /// Revert every applied migration, version 0 included
        #[arg(long)]
        all: bool,
    },
    /// Revert the newest applied migration and apply it again
    Redo,
    /// Print the exact SQL `up` would run, in order, and change nothing
    Plan {
        /// Stop after this version
        #[arg(long, value_name = "VERSION")]
        to: Option<VersionArg>,
        /// Print JSON instead of SQL
        #[arg(long)]
        json: bool,
    },
    /// Apply one migration, whatever its place in the order
    Run {
        /// The migration's version
        version: VersionArg,
        /// Run it even if it is already applied (it must be safe to repeat)
        #[arg(long)]
        force: bool,
    },
    /// Record a migration as applied or unapplied without running it
    Mark {
        /// The migration's version
        version: VersionArg,
        /// What to record
        state: MarkAs,
    },
    /// Accept the new checksum of an edited applied migration, or clear a rolled-back failure
    #[command(group = clap::ArgGroup::new("which").required(true).args(["version", "all"]))]
    Repair {
        /// The migration to repair
        version: Option<VersionArg>,
        /// Repair every row that needs it
        #[arg(long)]
        all: bool,
        /// Say what would be repaired, and change nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Record every migration up to VERSION as applied without running it (adopt a database)
    Baseline {
        /// The newest migration the database already has
        #[arg(required_unless_present = "from_diesel")]
        version: Option<VersionArg>,
        /// Adopt what diesel_migrations recorded in __diesel_schema_migrations instead
        #[arg(long, conflicts_with = "version")]
        from_diesel: bool,
    },
    /// Exit with 3 when anything is pending, failed, running, drifted or missing (a CI gate
    /// or a readiness probe)
    Verify {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Show what the lints find in the embedded migrations (or a folder): advice, and the
    /// statements the parser could not check
    Lint {
        /// Exit with 3 when there is any advice, as `lint = strict` fails a build
        #[arg(long)]
        strict: bool,
        /// Also list the statements the parser could not read, which no rule checked
        #[arg(long)]
        unchecked: bool,
        /// Lint this folder instead of the embedded migrations
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Print a shell completion script: `migrate completions bash > /etc/bash_completion.d/app`
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
    /// Write the next migration into the migrations folder
    New {
        /// Its name, in lowercase snake_case
        name: String,
        /// The migrations folder (default: the folder this binary embedded, when built here)
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

/// The `--lock` choices: see [`Locking`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[non_exhaustive]
pub enum LockMode {
    /// A session lock: advisory lock, `GET_LOCK`, or the SQLite file's lock
    Session,
    /// A lease row in `<table>_lock`, renewed before each migration
    Lease,
    /// No lock
    Off,
}

/// `--ahead`: what a run does past migrations the binary does not embed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AheadMode {
    /// Go on when each of them only adds to the schema (the default)
    ExpandOnly,
    /// Refuse, whatever they are
    Refuse,
    /// Go on, whatever they are
    Allow,
}

/// What `mark` records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MarkAs {
    /// Applied, without running it
    Applied,
    /// Not applied: its row is removed
    Unapplied,
}

/// Why a command stopped: what to print and the exit code.
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn usage(message: impl Into<String>) -> Failure {
        Failure {
            code: EXIT_USAGE,
            message: message.into(),
        }
    }
}

impl MigrateCommand {
    /// Runs the command on `migrations`, prints what it did, and returns the exit code.
    pub fn run(&self, migrations: &Migrations) -> ExitCode {
        self.run_with(migrations.runner(), None)
    }

    /// As [`run`](Self::run), with `default_url` used when neither `--database-url` nor
    /// `DATABASE_URL` is given (an app's embedded SQLite file, say).
    pub fn run_with_default_database(
        &self,
        migrations: &Migrations,
        default_url: Option<&str>,
    ) -> ExitCode {
        self.run_with(migrations.runner(), default_url)
    }

    /// Runs the command with the app's own configured runner, the one it migrates with at
    /// start-up: its tracking table, lock, timeouts and policies are the command's, and each
    /// flag given on the command line overrides its one setting. An app that sets
    /// `.table("applied_migrations")` and mounts the command this way cannot have
    /// `migrate` look at another table.
    ///
    /// ```no_run
    /// # use clap::Parser;
    /// static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("../migrations");
    ///
    /// /// The one place the app's migration settings live.
    /// fn runner() -> waterline::Runner<'static> {
    ///     MIGRATIONS.runner().table("applied_migrations").ignore_missing(true)
    /// }
    ///
    /// #[derive(Parser)]
    /// struct Cli {
    ///     #[command(subcommand)]
    ///     migrate: Option<Command>,
    /// }
    ///
    /// #[derive(clap::Subcommand)]
    /// enum Command {
    ///     Migrate(waterline::cli::MigrateCommand),
    /// }
    ///
    /// fn main() -> std::process::ExitCode {
    ///     match Cli::parse().migrate {
    ///         Some(Command::Migrate(migrate)) => migrate.run_with(runner(), None),
    ///         None => std::process::ExitCode::SUCCESS, // start the app, migrating with runner()
    ///     }
    /// }
    /// ```
    pub fn run_with(&self, runner: Runner<'_>, default_url: Option<&str>) -> ExitCode {
        match self.execute(runner, default_url) {
            Ok(code) => ExitCode::from(code),
            Err(failure) => {
                output::error(&failure.message);
                ExitCode::from(failure.code)
            }
        }
    }

    fn execute(&self, runner: Runner<'_>, default_url: Option<&str>) -> Result<u8, Failure> {
        let migrations = runner.migrations();
        match &self.action {
            Action::New { name, dir } => return new_migration(migrations, name, dir.as_deref()),
            Action::Completions { shell } => return completions(*shell),
            Action::Lint {
                strict,
                unchecked,
                dir,
            } => return lint::lint(migrations, *strict, *unchecked, dir.as_deref()),
            _ => {}
        }
        // DATABASE_URL from a `.env` file (in this folder or one above), when neither the
        // flag nor the environment gives one.
        let from_dotenv = dotenvy::var("DATABASE_URL").ok();
        let url = self
            .database_url
            .as_deref()
            .or(from_dotenv.as_deref())
            .or(default_url)
            .ok_or_else(|| {
                Failure::usage("no database: pass --database-url or set DATABASE_URL")
            })?;
        let url = DatabaseUrl::parse(url).map_err(Failure::usage)?;
        // A command that only reads never creates a database.
        let only_reads = matches!(
            self.action,
            Action::Status { .. } | Action::Plan { .. } | Action::Verify { .. }
        );
        let url = match only_reads {
            true => url.read_only(),
            false => url,
        };
        let mut conn =
            url.connect_within(self.connect_timeout)
                .map_err(|failure| match failure {
                    ConnectFailure::NotCompiledIn(message) => Failure::usage(message),
                    ConnectFailure::Unreachable(message) => Failure {
                        code: EXIT_UNREACHABLE,
                        message,
                    },
                })?;
        let scrub = |error: Error| {
            let text = advice::for_cli(&error.to_string());
            let message = url
                .password()
                .map_or(text.clone(), |password| text.replace(password, "***"));
            // A bad --table is a usage error, like any bad argument.
            let code = match error {
                Error::InvalidTableName { .. } => EXIT_USAGE,
                Error::Stopped { .. } => EXIT_STOPPED,
                _ => EXIT_FAILED,
            };
            Failure { code, message }
        };
        let runner = self.configure(runner);
        self.act(&runner, &mut conn).map_err(scrub)
    }

    /// `runner` with each setting given on the command line in place of its own.
    fn configure<'m>(&self, mut runner: Runner<'m>) -> Runner<'m> {
        if let Some(table) = &self.table {
            runner = runner.table(table);
        }
        if let Some(timeout) = self.lock_timeout {
            runner = runner.lock_timeout(timeout);
        }
        let lease = self.lease.unwrap_or(crate::runner::DEFAULT_LEASE);
        let locking = match (self.no_lock, self.lock, self.lease) {
            (true, _, _) | (false, Some(LockMode::Off), _) => Some(Locking::Off),
            (false, Some(LockMode::Session), _) => Some(Locking::Session),
            (false, Some(LockMode::Lease), _) | (false, None, Some(_)) => {
                Some(Locking::Lease(lease))
            }
            (false, None, None) => None,
        };
        if let Some(locking) = locking {
            runner = runner.lock_with(locking);
        }
        if self.allow_out_of_order {
            runner = runner.allow_out_of_order(true);
        }
        if self.ignore_missing {
            runner = runner.ignore_missing(true);
        }
        if let Some(ahead) = self.ahead {
            runner = runner.ahead(match ahead {
                AheadMode::ExpandOnly => crate::Ahead::ExpandOnly,
                AheadMode::Refuse => crate::Ahead::Refuse,
                AheadMode::Allow => crate::Ahead::Allow,
            });
        }
        if self.ddl_lock_timeout.is_some() || self.ddl_lock_budget.is_some() {
            let current = runner.current_lock_retry();
            runner = runner.lock_retry(
                self.ddl_lock_timeout.unwrap_or(current.timeout),
                self.ddl_lock_budget.unwrap_or(current.budget),
            );
        }
        if self.keep_diesel_table {
            runner = runner.keep_diesel_table(true);
        }
        runner
            .stop_on(&signals::stop_on_signal())
            .on_progress(output::progress)
    }

    /// Runs the command's action: one function per command, in [`commands`].
    fn act(&self, runner: &Runner<'_>, conn: &mut AnyConnection) -> Result<u8, Error> {
        let one = |version: &VersionArg| version.resolve(runner.migrations());
        let some = |version: &Option<VersionArg>| version.as_ref().map(one);
        match &self.action {
            Action::Status { json } => commands::status(runner, conn, *json),
            Action::Up {
                to, dry_run: true, ..
            } => commands::plan(runner, conn, some(to), false),
            Action::Plan { to, json } => commands::plan(runner, conn, some(to), *json),
            Action::Up {
                to,
                dry_run: false,
                single_transaction,
                defer_background,
            } => commands::up(
                runner,
                conn,
                some(to),
                *single_transaction,
                *defer_background,
            ),
            Action::Down { to, steps, all } => commands::down(runner, conn, some(to), *steps, *all),
            Action::Redo => commands::redo(runner, conn),
            Action::Run { version, force } => commands::run(runner, conn, one(version), *force),
            Action::Mark { version, state } => commands::mark(runner, conn, one(version), *state),
            Action::Repair {
                version,
                all: _,
                dry_run,
            } => commands::repair(runner, conn, some(version), *dry_run),
            Action::Baseline {
                version,
                from_diesel,
            } => commands::baseline(runner, conn, some(version), *from_diesel),
            Action::Verify { json } => commands::verify(runner, conn, *json),
            Action::New { .. } | Action::Lint { .. } | Action::Completions { .. } => {
                unreachable!("handled without a database")
            }
        }
    }
}

/// Prints the completion script of `shell` for this binary's `migrate` command.
fn completions(shell: clap_complete::Shell) -> Result<u8, Failure> {
    use clap::{Args, Command};
    let name = std::env::args_os()
        .next()
        .and_then(|path| {
            std::path::Path::new(&path)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "migrate".to_owned());
    let mut command = MigrateCommand::augment_args(Command::new(name.clone()));
    clap_complete::generate(shell, &mut command, name, &mut std::io::stdout());
    Ok(EXIT_OK)
}

/// `path` as reached from `here`: relative when it lies below, else as it is.
fn shown_from(here: &std::path::Path, path: &std::path::Path) -> String {
    match path.strip_prefix(here) {
        Ok(below) if !below.as_os_str().is_empty() => below.display().to_string(),
        _ => path.display().to_string(),
    }
}

fn new_migration(
    migrations: &Migrations,
    name: &str,
    dir: Option<&std::path::Path>,
) -> Result<u8, Failure> {
    let (dir, label) = match dir {
        Some(dir) => (dir.to_path_buf(), dir.display().to_string()),
        // The folder the binary embedded, wherever the command runs from: shown as it is
        // reached from here, so what is printed is where it is written.
        None => match migrations.source_dir() {
            Some(source) => {
                let here = std::env::current_dir().unwrap_or_default();
                (source.to_path_buf(), shown_from(&here, source))
            }
            None => (
                PathBuf::from(migrations.folder()),
                migrations.folder().to_owned(),
            ),
        },
    };
    let files =
        new::next_migration(&dir, &label, name, SystemTime::now()).map_err(Failure::usage)?;
    for file in &files {
        let written = std::fs::create_dir_all(file.path.parent().expect("a file has a folder"))
            .and_then(|()| std::fs::write(&file.path, &file.text));
        written.map_err(|e| {
            Failure::usage(format!("could not write `{}`: {e}", file.path.display()))
        })?;
        output::out(&format!("created {}", file.shown));
    }
    output::out("write its SQL, then build: the build fails until the migration holds a statement");
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn new_shows_the_folder_it_writes_to_from_where_it_runs() {
        let folder = Path::new("/src/app/migrations");
        assert_eq!(shown_from(Path::new("/src/app"), folder), "migrations");
        assert_eq!(shown_from(Path::new("/tmp"), folder), "/src/app/migrations");
        assert_eq!(shown_from(folder, folder), "/src/app/migrations");
    }
}
