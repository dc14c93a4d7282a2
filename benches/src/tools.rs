//! Each tool's start-up call, timed alone: the connection is made before the clock starts.

use std::time::{Duration, Instant};

use diesel::Connection;
use diesel_migrations::MigrationHarness;

use crate::database::Backend;
use crate::workload::Workload;

/// A tool measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    /// waterline, a transaction per migration (the default).
    Waterline,
    /// waterline with `single_transaction(true)`.
    WaterlineTogether,
    /// diesel_migrations.
    Diesel,
    /// refinery.
    Refinery,
}

impl Tool {
    /// How the tool is named in the results.
    pub fn label(self) -> &'static str {
        match self {
            Tool::Waterline => "waterline",
            Tool::WaterlineTogether => "waterline, one transaction",
            Tool::Diesel => "diesel_migrations",
            Tool::Refinery => "refinery",
        }
    }

    /// The tools that run on `backend` (the peers support SQLite and PostgreSQL here).
    pub fn on(backend: Backend) -> &'static [Tool] {
        match backend {
            Backend::Mysql => &[Tool::Waterline],
            _ => &[
                Tool::Waterline,
                Tool::WaterlineTogether,
                Tool::Diesel,
                Tool::Refinery,
            ],
        }
    }
}

/// Times `tool` applying, or finding nothing to apply in, the database at `url`.
pub fn run(tool: Tool, backend: Backend, url: &str, workload: &Workload) -> Duration {
    match (tool, backend) {
        (Tool::Refinery, Backend::Sqlite) => {
            let mut conn = rusqlite::Connection::open(url).unwrap();
            timed(|| refinery_run(workload, &mut conn))
        }
        (Tool::Refinery, Backend::Postgres) => {
            let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
            timed(|| refinery_run(workload, &mut client))
        }
        (Tool::Diesel, Backend::Sqlite) => diesel_run(
            &mut diesel::SqliteConnection::establish(url).unwrap(),
            workload,
        ),
        (Tool::Diesel, Backend::Postgres) => {
            diesel_run(&mut diesel::PgConnection::establish(url).unwrap(), workload)
        }
        (_, Backend::Sqlite) => waterline_run(
            tool,
            &mut diesel::SqliteConnection::establish(url).unwrap(),
            workload,
        ),
        (_, Backend::Postgres) => waterline_run(
            tool,
            &mut diesel::PgConnection::establish(url).unwrap(),
            workload,
        ),
        (Tool::Waterline | Tool::WaterlineTogether, Backend::Mysql) => waterline_run(
            tool,
            &mut diesel::MysqlConnection::establish(url).unwrap(),
            workload,
        ),
        (Tool::Diesel | Tool::Refinery, Backend::Mysql) => {
            unreachable!("the peers are not measured on MariaDB")
        }
    }
}

fn timed(work: impl FnOnce()) -> Duration {
    let start = Instant::now();
    work();
    start.elapsed()
}

/// refinery's embedding macro builds its `Migration`s at every start; so does this.
fn refinery_run<C: refinery::Migrate>(workload: &Workload, conn: &mut C) {
    let migrations: Vec<refinery::Migration> = workload
        .refinery
        .iter()
        .map(|(name, sql)| refinery::Migration::unapplied(name, sql).unwrap())
        .collect();
    refinery::Runner::new(&migrations).run(conn).unwrap();
}

fn waterline_run<C: waterline::MigrationConnection>(
    tool: Tool,
    conn: &mut C,
    workload: &Workload,
) -> Duration {
    let migrations = workload.waterline();
    timed(|| {
        let runner = migrations
            .runner()
            .single_transaction(tool == Tool::WaterlineTogether);
        drop(runner.run_pending(conn).unwrap())
    })
}

fn diesel_run<C>(conn: &mut C, workload: &Workload) -> Duration
where
    C: MigrationHarness<C::Backend> + Connection,
{
    let migrations = diesel_migrations::EmbeddedMigrations::new(workload.diesel);
    timed(|| drop(conn.run_pending_migrations(migrations).unwrap()))
}

/// Connects as `tool` would, and nothing else: the round trips of connecting alone.
pub fn connect_only(tool: Tool, backend: Backend, url: &str) {
    match (tool, backend) {
        (Tool::Refinery, _) => drop(postgres::Client::connect(url, postgres::NoTls).unwrap()),
        (_, Backend::Mysql) => drop(diesel::MysqlConnection::establish(url).unwrap()),
        _ => drop(diesel::PgConnection::establish(url).unwrap()),
    }
}
