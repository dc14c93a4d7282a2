//! Lock-safe DDL on a busy PostgreSQL table: one session holds a transaction open on a table
//! it read (a long report) for `hold`, `clients` sessions query that table in a loop, and a
//! migration adds a column. Measured once with waterline (its default lock-safe DDL) and once
//! with diesel_migrations, each on a fresh database: the clients' query latencies while the
//! blocker holds and the migration runs, the migration's total time and how long after the
//! blocker ended it was done, and how many times it was recorded.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, RunQueryDsl};

use crate::database::{Backend, Database, Servers};

/// A tool under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    /// waterline with its default lock-safe DDL.
    Waterline,
    /// diesel_migrations 2.3.
    DieselMigrations,
}

impl Tool {
    /// The tool's name in tables.
    pub fn label(self) -> &'static str {
        match self {
            Tool::Waterline => "waterline",
            Tool::DieselMigrations => "diesel_migrations",
        }
    }
}

/// What one run found.
#[derive(Debug)]
pub struct Outcome {
    pub tool: Tool,
    /// Every client query's latency from the blocker's start to the migration's end.
    pub latencies: Vec<Duration>,
    /// From the migration's start to its end.
    pub migration: Duration,
    /// From the blocker's commit to the migration's end (zero when it ended first).
    pub after_blocker: Duration,
    /// How many times the tool's tracking table records the migration.
    pub recorded: i64,
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn count(conn: &mut PgConnection, sql: &str) -> i64 {
    let rows: Vec<Count> = diesel::sql_query(sql).load(conn).unwrap();
    rows[0].n
}

/// Runs the scenario with `tool`.
pub fn measure(tool: Tool, servers: &Servers, hold: Duration, clients: usize) -> Outcome {
    let db = Database::fresh(Backend::Postgres, servers, "locksafe");
    let mut setup = PgConnection::establish(&db.url).unwrap();
    setup
        .batch_execute(
            "CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);\
             INSERT INTO accounts SELECT g, g FROM generate_series(1, 1000) g;",
        )
        .unwrap();
    let folder = tempfile::tempdir().unwrap();
    let script = "ALTER TABLE accounts ADD COLUMN note TEXT;";
    match tool {
        Tool::Waterline => std::fs::write(folder.path().join("001_add_note.sql"), script).unwrap(),
        Tool::DieselMigrations => {
            let dir = folder.path().join("2026-12-05-000000_add_note");
            std::fs::create_dir(&dir).unwrap();
            std::fs::write(dir.join("up.sql"), script).unwrap();
        }
    }

    let stop = Arc::new(AtomicBool::new(false));
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let start = Arc::new(Barrier::new(clients + 2));
    let mut handles = Vec::new();
    for client in 0..clients {
        let (url, stop, latencies, start) = (
            db.url.clone(),
            stop.clone(),
            latencies.clone(),
            start.clone(),
        );
        handles.push(thread::spawn(move || {
            let mut conn = PgConnection::establish(&url).unwrap();
            let mut mine = Vec::new();
            start.wait();
            let mut n = client as i64;
            while !stop.load(Ordering::Relaxed) {
                n = n % 1000 + 1;
                let clock = Instant::now();
                count(
                    &mut conn,
                    &format!("SELECT CAST(balance AS BIGINT) AS n FROM accounts WHERE id = {n}"),
                );
                mine.push(clock.elapsed());
            }
            latencies.lock().unwrap().extend(mine);
        }));
    }
    let (url, start_blocker) = (db.url.clone(), start.clone());
    let committed = Arc::new(Mutex::new(None::<Instant>));
    let committed_at = committed.clone();
    let blocker = thread::spawn(move || {
        let mut conn = PgConnection::establish(&url).unwrap();
        conn.batch_execute(
            "SET application_name = 'nightly-report'; BEGIN; SELECT COUNT(*) FROM accounts;",
        )
        .unwrap();
        start_blocker.wait();
        thread::sleep(hold);
        conn.batch_execute("COMMIT").unwrap();
        *committed_at.lock().unwrap() = Some(Instant::now());
    });
    start.wait();
    // The clients and the blocker are running: the deploy starts, and migrates.
    thread::sleep(Duration::from_millis(500));
    let mut conn = PgConnection::establish(&db.url).unwrap();
    let clock = Instant::now();
    let recorded = match tool {
        Tool::Waterline => {
            let migrations =
                waterline::Migrations::from_folder(folder.path(), "migrations").unwrap();
            migrations.run_pending(&mut conn).unwrap();
            count(&mut conn, "SELECT COUNT(*) AS n FROM waterline_migrations")
        }
        Tool::DieselMigrations => {
            use diesel_migrations::{FileBasedMigrations, MigrationHarness};
            let source = FileBasedMigrations::from_path(folder.path()).unwrap();
            conn.run_pending_migrations(source).unwrap();
            count(
                &mut conn,
                "SELECT COUNT(*) AS n FROM __diesel_schema_migrations",
            )
        }
    };
    let migration = clock.elapsed();
    let ended = Instant::now();
    stop.store(true, Ordering::Relaxed);
    for handle in handles {
        handle.join().unwrap();
    }
    blocker.join().unwrap();
    let committed = committed.lock().unwrap().expect("the blocker committed");
    let latencies = std::mem::take(&mut *latencies.lock().unwrap());
    Outcome {
        tool,
        latencies,
        migration,
        after_blocker: ended.saturating_duration_since(committed),
        recorded,
    }
}
