//! A minimal app per tool, built in release mode with 1,000 migrations embedded by the tool's
//! own macro: its release rebuild time after a migrations-only change, its stripped size, and
//! the wall time of a whole process start-up with nothing to apply.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::database::{Backend, Database, Servers};
use crate::tools::Tool;
use crate::workload;

/// The migrations each app embeds.
pub const SIZE: usize = 1000;

/// Release rebuilds timed per app.
const REBUILDS: usize = 5;

/// One built app.
pub struct App {
    /// The tool whose macro embeds the migrations.
    pub tool: Tool,
    dir: PathBuf,
    target: PathBuf,
}

/// What was measured of one app.
pub struct AppFigures {
    /// The tool.
    pub tool: Tool,
    /// Release rebuilds after one migration's SQL changed.
    pub rebuild: Vec<Duration>,
    /// The stripped binary's size.
    pub stripped_bytes: u64,
    /// Whole-process start-ups with every migration applied.
    pub start_up: Vec<Duration>,
}

/// Builds waterline's, diesel_migrations' and refinery's apps (in that order) under
/// `target/bench-apps`, then times their rebuilds and, `runs` times each, interleaved, their
/// whole-process no-op start-ups against PostgreSQL.
pub fn measure(workspace: &Path, servers: &Servers, runs: usize) -> Vec<AppFigures> {
    let root = workspace.join("target/bench-apps");
    let apps: Vec<App> = [Tool::Waterline, Tool::Diesel, Tool::Refinery]
        .iter()
        .map(|tool| App::build(*tool, &root, workspace, SIZE))
        .collect();
    let mut figures: Vec<AppFigures> = apps
        .iter()
        .map(|app| AppFigures {
            tool: app.tool,
            rebuild: Vec::new(),
            stripped_bytes: app.stripped_size(),
            start_up: Vec::new(),
        })
        .collect();
    // The order rotates, so that no app always follows refinery's long build (whose memory
    // use empties the page cache the next build would find warm).
    for round in 0..REBUILDS {
        for turn in 0..apps.len() {
            let index = (round + turn) % apps.len();
            figures[index].rebuild.push(apps[index].rebuild(round));
        }
    }
    let databases: Vec<Database> = apps
        .iter()
        .map(|_| Database::fresh(Backend::Postgres, servers, "app"))
        .collect();
    for (app, database) in apps.iter().zip(&databases) {
        let (_, applied) = app.start_up(&database.url);
        assert_eq!(
            applied,
            SIZE.to_string(),
            "{} applied {applied}",
            app.tool.label()
        );
    }
    for _ in 0..runs {
        for ((app, database), figures) in apps.iter().zip(&databases).zip(&mut figures) {
            figures.start_up.push(app.start_up(&database.url).0);
        }
    }
    figures
}

const WATERLINE_MAIN: &str = r#"use diesel::Connection;
static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!();
fn main() {
    let mut conn = diesel::PgConnection::establish(&std::env::var("DATABASE_URL").unwrap()).unwrap();
    println!("{}", MIGRATIONS.run_pending(&mut conn).unwrap().migrations.len());
}
"#;

const DIESEL_MAIN: &str = r#"use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
const MIGRATIONS: EmbeddedMigrations = embed_migrations!();
fn main() {
    let mut conn = diesel::PgConnection::establish(&std::env::var("DATABASE_URL").unwrap()).unwrap();
    println!("{}", conn.run_pending_migrations(MIGRATIONS).unwrap().len());
}
"#;

const REFINERY_MAIN: &str = r#"mod embedded {
    refinery::embed_migrations!("migrations");
}
fn main() {
    let mut client = postgres::Client::connect(&std::env::var("DATABASE_URL").unwrap(), postgres::NoTls).unwrap();
    println!("{}", embedded::migrations::runner().run(&mut client).unwrap().applied_migrations().len());
}
"#;

impl App {
    /// Writes the app's crate under `root` and builds it once.
    fn build(tool: Tool, root: &Path, workspace: &Path, size: usize) -> App {
        let name = match tool {
            Tool::Waterline | Tool::WaterlineTogether => "waterline",
            Tool::Diesel => "diesel",
            Tool::Refinery => "refinery",
        };
        let dir = root.join(name);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("src")).unwrap();
        fs::create_dir_all(dir.join("migrations")).unwrap();
        let runtime = workspace.join("runtime");
        let (dependencies, main) = match tool {
            Tool::Waterline | Tool::WaterlineTogether => {
                workload::write_waterline(&dir.join("migrations"), size);
                (
                    format!("waterline = {{ path = {runtime:?}, features = [\"postgres\"] }}\ndiesel = {{ version = \"2.3\", default-features = false, features = [\"postgres\"] }}"),
                    WATERLINE_MAIN,
                )
            }
            Tool::Diesel => {
                workload::write_diesel(&dir.join("migrations"), size);
                (
                    "diesel = { version = \"2.3\", default-features = false, features = [\"postgres\"] }\ndiesel_migrations = { version = \"2.3\", features = [\"postgres\"] }".to_owned(),
                    DIESEL_MAIN,
                )
            }
            Tool::Refinery => {
                workload::write_refinery(&dir.join("migrations"), size);
                ("refinery = { version = \"0.10\", features = [\"postgres\"] }\npostgres = \"0.19\"".to_owned(), REFINERY_MAIN)
            }
        };
        let manifest = format!(
            "[package]\nname = \"bench_app_{name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[dependencies]\n{dependencies}\n\n[workspace]\n"
        );
        fs::write(dir.join("Cargo.toml"), manifest).unwrap();
        fs::copy(workspace.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
        fs::write(dir.join("src/main.rs"), main).unwrap();
        let app = App {
            tool,
            dir,
            target: root.join("target"),
        };
        app.cargo_build();
        app
    }

    fn cargo_build(&self) -> Duration {
        cargo_build(&self.dir, &self.target, &["--release"])
    }

    fn binary(&self) -> PathBuf {
        let name = format!(
            "bench_app_{}",
            self.dir.file_name().unwrap().to_string_lossy()
        );
        self.target.join("release").join(name)
    }

    /// The release rebuild after one migration's SQL changed, after a build with nothing to
    /// do (untimed) has warmed cargo's and the file system's caches for this app.
    pub fn rebuild(&self, round: usize) -> Duration {
        self.cargo_build();
        let migrations = self.dir.join("migrations");
        let file = match self.tool {
            Tool::Diesel => migrations.join("0500_create_bench_0500/up.sql"),
            Tool::Refinery => migrations.join("V500__create_bench_0500.sql"),
            _ => migrations.join("0500_create_bench_0500.sql"),
        };
        let mut sql = fs::read_to_string(&file).unwrap();
        sql.push_str(&format!("-- edit {round}\n"));
        fs::write(&file, sql).unwrap();
        self.cargo_build()
    }

    /// The stripped size of the binary, in bytes.
    pub fn stripped_size(&self) -> u64 {
        let copy = self.target.join(format!(
            "{}-stripped",
            self.binary().file_name().unwrap().to_string_lossy()
        ));
        fs::copy(self.binary(), &copy).unwrap();
        let status = Command::new("strip").arg(&copy).status().unwrap();
        assert!(status.success());
        fs::metadata(&copy).unwrap().len()
    }

    /// A whole process start-up against `url`; prints how many it applied.
    pub fn start_up(&self, url: &str) -> (Duration, String) {
        let start = Instant::now();
        let output = Command::new(self.binary())
            .env("DATABASE_URL", url)
            .output()
            .unwrap();
        let elapsed = start.elapsed();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        (
            elapsed,
            String::from_utf8_lossy(&output.stdout).trim().to_owned(),
        )
    }
}

/// Runs `cargo build --quiet` with `args` in the crate `dir`, into `target`; its wall time.
/// Panics with cargo's output if the build fails.
pub fn cargo_build(dir: &Path, target: &Path, args: &[&str]) -> Duration {
    let start = Instant::now();
    let output = Command::new("cargo")
        .arg("build")
        .arg("--quiet")
        .args(args)
        .env("CARGO_TARGET_DIR", target)
        .current_dir(dir)
        .output()
        .unwrap();
    let elapsed = start.elapsed();
    assert!(
        output.status.success(),
        "building {}:\n{}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    elapsed
}
