//! Lock-safe DDL on a busy database: a migration that waits for a table lock behind a long
//! transaction gives way after its lock timeout instead of queueing every query of the table
//! behind it, names the session that holds the lock, and applies once that session ends;
//! after its budget it stops, having applied and recorded nothing. PostgreSQL and MariaDB,
//! when their URLs are set (SQLite has one writer and no lock queue: no test runs there).

#![cfg(any(feature = "postgres", feature = "mysql"))]

mod common;

use std::sync::mpsc;
use std::time::Duration;

use common::{set, Inspect, TestConnection};
use waterline::{Backend, Error, Progress};

/// The most a test waits for an event that the code under test must send; reached only when
/// it is broken.
const FAILSAFE: Duration = Duration::from_secs(60);

fn base() -> waterline::Migrations {
    set(&[(
        "001_create_reports.sql",
        "CREATE TABLE reports (id INTEGER);",
    )])
}

fn with_total() -> waterline::Migrations {
    set(&[
        (
            "001_create_reports.sql",
            "CREATE TABLE reports (id INTEGER);",
        ),
        (
            "002_add_total.sql",
            "ALTER TABLE reports ADD COLUMN total INTEGER;",
        ),
    ])
}

/// Opens a transaction on `conn` that reads `reports`, as a long report query does, named
/// `nightly-report` where the server shows names.
fn hold_the_table<C: TestConnection + Inspect>(conn: &mut C) {
    if C::BACKEND == Backend::Postgres {
        conn.run("SET application_name = 'nightly-report'");
    }
    conn.run("BEGIN");
    conn.run("SELECT COUNT(*) FROM reports");
}

/// A database with `reports`, and a second connection holding it in an open transaction.
fn busy_table<C: TestConnection + Inspect>(db: &common::TestDb<C>) -> (C, C) {
    let mut conn = db.connect();
    base().run_pending(&mut conn).unwrap();
    let mut blocker = db.connect();
    hold_the_table(&mut blocker);
    (conn, blocker)
}

/// How a blocker is named: PostgreSQL names the application, MariaDB the thread and user.
fn names_the_blocker<C: TestConnection>(blockers: &[String]) -> bool {
    match C::BACKEND {
        Backend::Postgres => blockers.iter().any(|b| b.contains("nightly-report")),
        _ => blockers.iter().any(|b| b.starts_with("thread ")),
    }
}

on_servers! {
    fn a_migration_gives_way_to_a_long_transaction_and_applies_when_it_ends(db) {
        let (mut conn, mut blocker) = busy_table(&db);

        let (gave_way, events) = mpsc::channel::<Vec<String>>();
        let url = db.url.clone();
        let migrating = std::thread::spawn(move || {
            let mut conn = <Conn as diesel::Connection>::establish(&url).unwrap();
            let migrations = with_total();
            let report = migrations
                .runner()
                .lock_retry(Duration::from_millis(100), Duration::from_secs(120))
                .on_progress(move |event| {
                    if let Progress::GaveWay { blockers, .. } = event {
                        let _ = gave_way.send(blockers.to_vec());
                    }
                })
                .run_pending(&mut conn);
            report.map(|r| r.migrations.len())
        });
        let blockers = events.recv_timeout(FAILSAFE).expect("the migration gave way");
        assert!(names_the_blocker::<Conn>(&blockers), "{blockers:?}");
        // While it gives way, the table's other queries are not queued behind it.
        let mut reader = db.connect();
        if Conn::BACKEND == Backend::Postgres {
            reader.run("SET statement_timeout = '5s'");
        }
        assert_eq!(reader.count(&format!("SELECT CAST(COUNT(*) AS {}) AS n FROM reports", common::int64::<Conn>())), 0);
        blocker.run("COMMIT");
        assert_eq!(migrating.join().unwrap().unwrap(), 1, "applied once the blocker ended");
        assert!(conn.column_exists("reports", "total"));
        let rows = conn.rows("waterline_migrations");
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().all(|row| row.status == "applied" && row.error.is_none()));
    }

    fn after_its_budget_it_stops_naming_the_blocker_having_recorded_nothing(db) {
        let (mut conn, mut blocker) = busy_table(&db);
        let error = with_total()
            .runner()
            .lock_retry(Duration::from_millis(100), Duration::from_secs(3))
            .run_pending(&mut conn)
            .unwrap_err();
        let Error::LockRetriesExhausted { migration, tries, blockers, .. } = &error else {
            panic!("{error}")
        };
        assert_eq!(migration.version, 2);
        assert!(*tries >= 2, "{error}");
        assert!(names_the_blocker::<Conn>(blockers), "{error}");
        assert!(error.to_string().contains("nothing of it was applied or recorded"), "{error}");
        assert_eq!(conn.rows("waterline_migrations").len(), 1, "no row for 002");
        assert!(!conn.column_exists("reports", "total"));
        // The next start, once the blocker is gone, just applies it.
        blocker.run("COMMIT");
        assert_eq!(with_total().run_pending(&mut conn).unwrap().migrations.len(), 1);
    }
}

/// The statement timeout a migration declares.
mod statement_timeout {
    use super::*;

    on_servers! {
        fn a_statement_timeout_directive_bounds_each_statement_and_leaves_the_session_as_it_was(db) {
            let mut conn = db.connect();
            let (sleep, setting) = match Conn::BACKEND {
                Backend::Postgres => ("SELECT pg_sleep(3);", "SELECT current_setting('statement_timeout') AS t"),
                _ => ("SELECT SLEEP(3);", "SELECT CAST(@@max_statement_time AS CHAR) AS t"),
            };
            let before = conn.text(setting);
            let slow = format!("-- waterline:statement-timeout(500ms)\n{sleep}");
            let migrations = set(&[
                ("001_create_reports.sql", "CREATE TABLE reports (id INTEGER);"),
                ("002_slow.sql", &slow),
            ]);
            let error = migrations.run_pending(&mut conn).unwrap_err();
            let Error::MigrationFailed { migration, transient, .. } = &error else { panic!("{error}") };
            assert_eq!(migration.version, 2);
            assert!(transient.as_deref().is_some_and(|t| t.contains("statement")), "{error}");
            assert_eq!(conn.text(setting), before, "the session's own timeout is back");
        }
    }
}
