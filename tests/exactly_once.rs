//! Exactly once off the beaten path: the tracking table spelled two ways, runs without the
//! lock, `repair` after a partly applied failure, scripts that commit inside themselves, and
//! failures that are not the file's fault. Each test runs on SQLite, and on PostgreSQL and
//! MariaDB when their URLs are set.

mod common;

use std::sync::Mutex;
use std::time::Duration;

use common::{set, Inspect, TestConnection};
use waterline::{Backend, Error, Progress, State};

/// A ledger table, then two migrations that each add a row to it: run twice, a row doubles.
fn ledger() -> waterline::Migrations {
    set(&[
        (
            "001_create_ledger.sql",
            "CREATE TABLE ledger (entry INTEGER NOT NULL);",
        ),
        ("002_first_entry.sql", "INSERT INTO ledger VALUES (2);"),
        ("003_second_entry.sql", "INSERT INTO ledger VALUES (3);"),
    ])
}

/// The ledger's entries, in order, duplicates kept.
fn entries<C: TestConnection>(conn: &mut C) -> Vec<String> {
    let cast = common::int64::<C>();
    (0..=3)
        .flat_map(|entry| {
            let sql =
                format!("SELECT CAST(COUNT(*) AS {cast}) AS n FROM ledger WHERE entry = {entry}");
            let times = conn.count(&sql) as usize;
            std::iter::repeat_n(entry.to_string(), times)
        })
        .collect()
}

fn statuses<C: TestConnection>(conn: &mut C) -> Vec<(i64, String)> {
    conn.rows("waterline_migrations")
        .into_iter()
        .map(|r| (r.version, r.status))
        .collect()
}

/// The tracking table named with its schema, as an operator might spell it.
fn qualified<C: TestConnection>(db: &common::TestDb<C>) -> String {
    match C::BACKEND {
        Backend::Postgres => "public.waterline_migrations".to_owned(),
        Backend::Mysql => format!("{}.waterline_migrations", db.name),
        Backend::Sqlite => "main.waterline_migrations".to_owned(),
    }
}

on_every_backend! {
    fn one_tracking_table_spelled_two_ways_is_one_lock(db) {
        let migrations = ledger();
        let other = Mutex::new(db.connect());
        let table = qualified(&db);
        let contender = Mutex::new(None);
        let mut conn = db.connect();
        migrations
            .runner()
            .on_progress(|progress| {
                if let Progress::Started { migration, .. } = progress {
                    if migration.version() == 2 {
                        // This process holds the lock of `waterline_migrations`; the same table
                        // by its qualified name must be the same lock.
                        let result = migrations
                            .runner()
                            .table(table.as_str())
                            .lock_timeout(Duration::from_millis(200))
                            .run_pending(&mut *other.lock().unwrap());
                        *contender.lock().unwrap() = Some(result);
                    }
                }
            })
            .run_pending(&mut conn)
            .unwrap();
        let contender = contender.into_inner().unwrap().expect("the observer ran");
        assert!(matches!(contender, Err(Error::LockTimeout { .. })), "{contender:?}");
        assert_eq!(entries(&mut conn), ["2", "3"]);
    }

    fn without_the_lock_a_migration_another_process_claimed_is_never_run(db) {
        let migrations = ledger();
        let other = Mutex::new(db.connect());
        let overtaken = Mutex::new(None);
        let mut conn = db.connect();
        let result = migrations
            .runner()
            .locking(false)
            .on_progress(|progress| {
                if let Progress::Started { migration, .. } = progress {
                    if migration.version() == 2 {
                        // A replica started at the same moment, also without the lock, gets
                        // there first.
                        let report = migrations.runner().locking(false).run_pending(&mut *other.lock().unwrap());
                        *overtaken.lock().unwrap() = Some(report);
                    }
                }
            })
            .run_pending(&mut conn);
        let overtaken = overtaken.into_inner().unwrap().expect("the observer ran").unwrap();
        assert_eq!(overtaken.migrations.iter().map(|r| r.version).collect::<Vec<_>>(), [2, 3]);
        let error = result.unwrap_err();
        assert!(matches!(error, Error::Claimed { .. }), "{error:?}");
        assert_eq!(error.version(), Some(2));
        let text = error.to_string();
        assert!(text.starts_with("migration 002 `migrations/002_first_entry.sql` was claimed by another process"), "{text}");
        assert!(text.contains("`waterline_migrations`") && text.contains("nothing of it ran here"), "{text}");
        assert_eq!(entries(&mut conn), ["2", "3"], "a migration ran twice");
        assert_eq!(statuses(&mut conn), [(1, "applied".into()), (2, "applied".into()), (3, "applied".into())]);
        assert!(migrations.run_pending(&mut conn).unwrap().is_empty());
    }

    fn without_the_lock_a_failed_migration_is_retried_by_one_process_only(db) {
        let broken = set(&[
            ("001_create_ledger.sql", "CREATE TABLE ledger (entry INTEGER NOT NULL);"),
            ("002_first_entry.sql", "INSERT INTO ledger VALUES (2);\nINSERT INTO nowhere VALUES (1);"),
        ]);
        let fixed = ledger();
        let mut conn = db.connect();
        broken.runner().locking(false).run_pending(&mut conn).unwrap_err();
        if Conn::BACKEND == Backend::Mysql {
            // MySQL committed the first INSERT: an operator settles it before anything retries.
            conn.run("DELETE FROM ledger");
            fixed.runner().mark_unapplied(&mut conn, 2).unwrap();
            conn.run(
                "INSERT INTO waterline_migrations (version, name, checksum, checksum_algorithm, status, started_at, applied_by, transactional) \
                 VALUES (2, 'first_entry', 'x', 'sha256-lf-v1', 'failed', '2026-11-22 01:02:03', 'web-1', 1)"
            );
        }
        let other = Mutex::new(db.connect());
        let overtaken = Mutex::new(None);
        let result = fixed
            .runner()
            .locking(false)
            .on_progress(|progress| {
                if let Progress::Started { migration, .. } = progress {
                    if migration.version() == 2 {
                        let report = fixed.runner().locking(false).run_pending(&mut *other.lock().unwrap());
                        *overtaken.lock().unwrap() = Some(report);
                    }
                }
            })
            .run_pending(&mut conn);
        let overtaken = overtaken.into_inner().unwrap().expect("the observer ran").unwrap();
        assert_eq!(overtaken.migrations.iter().map(|r| r.version).collect::<Vec<_>>(), [2, 3]);
        let error = result.unwrap_err();
        assert!(matches!(error, Error::Claimed { .. }), "{error:?}");
        assert_eq!(entries(&mut conn), ["2", "3"], "a migration ran twice");
        assert_eq!(statuses(&mut conn), [(1, "applied".into()), (2, "applied".into()), (3, "applied".into())]);
    }

    fn repair_never_clears_a_partly_applied_failure(db) {
        let mut conn = db.connect();
        let files = |third: &'static str| {
            set(&[
                ("001_create_ledger.sql", "CREATE TABLE ledger (entry INTEGER NOT NULL);"),
                ("002_entry_and_table.sql", match third {
                    "broken" => "-- waterline:no-transaction\nINSERT INTO ledger VALUES (2);\nCREATE TABLE side (id INTEGER);\nINSERT INTO nowhere VALUES (1);\n",
                    _ => "-- waterline:no-transaction\nINSERT INTO ledger VALUES (2);\nCREATE TABLE side (id INTEGER);\nINSERT INTO side VALUES (1);\n",
                }),
            ])
        };
        let error = files("broken").run_pending(&mut conn).unwrap_err();
        assert!(matches!(error, Error::MigrationFailed { rolled_back: false, .. }), "{error}");
        let repair = files("fixed").runner().repair(&mut conn).unwrap();
        assert!(repair.cleared.is_empty(), "{repair:?}");
        assert_eq!(repair.partly_applied.iter().map(|m| m.version).collect::<Vec<_>>(), [2]);
        assert_eq!(statuses(&mut conn)[1], (2, "failed".into()));
        let refused = files("fixed").run_pending(&mut conn).unwrap_err();
        assert!(matches!(refused, Error::Unfinished { .. }), "{refused}");
        assert_eq!(entries(&mut conn), ["2"], "the first statement ran twice");
        // The operator finishes it by hand and says so, version by version.
        conn.run("INSERT INTO side VALUES (1)");
        files("fixed").runner().mark_applied(&mut conn, 2).unwrap();
        assert!(files("fixed").run_pending(&mut conn).unwrap().is_empty());
        assert_eq!(entries(&mut conn), ["2"]);
    }

    fn a_script_that_commits_inside_itself_is_recorded_like_a_no_transaction_one(db) {
        let mut conn = db.connect();
        let files = |last: &'static str| {
            set(&[
                ("001_create_ledger.sql", "CREATE TABLE ledger (entry INTEGER NOT NULL);"),
                ("002_commits.sql", match last {
                    "broken" => "-- waterline:allow(transaction-control)\nBEGIN;\nINSERT INTO ledger VALUES (2);\nCOMMIT;\nINSERT INTO nowhere VALUES (1);\n",
                    _ => "-- waterline:allow(transaction-control)\nBEGIN;\nINSERT INTO ledger VALUES (2);\nCOMMIT;\nINSERT INTO ledger VALUES (3);\n",
                }),
            ])
        };
        let error = files("broken").run_pending(&mut conn).unwrap_err();
        let text = error.to_string();
        assert!(matches!(error, Error::MigrationFailed { rolled_back: false, .. }), "{text}");
        assert!(!text.contains("rolled back") && text.contains("may be partly applied"), "{text}");
        assert_eq!(entries(&mut conn), ["2"]);
        let refused = files("fixed").run_pending(&mut conn).unwrap_err();
        assert!(matches!(refused, Error::Unfinished { .. }), "{refused}");
        assert_eq!(entries(&mut conn), ["2"], "the committed half ran twice");
    }

    fn a_failed_transactional_migration_is_retried_at_the_next_start(db) {
        if Conn::BACKEND == Backend::Mysql {
            return; // MySQL commits DDL as it goes: no migration there leaves nothing behind.
        }
        let migrations = set(&[
            ("001_create_ledger.sql", "CREATE TABLE ledger (entry INTEGER NOT NULL);"),
            ("002_copy_from_gate.sql", "INSERT INTO ledger SELECT id FROM gate;"),
        ]);
        let mut conn = db.connect();
        // `gate` is not there yet: a condition of the database, not a fault of the file.
        let error = migrations.run_pending(&mut conn).unwrap_err();
        assert!(matches!(error, Error::MigrationFailed { rolled_back: true, .. }), "{error}");
        let status = migrations.runner().status(&mut conn).unwrap();
        assert_eq!(status.migrations[1].state, State::Failed);
        conn.run("CREATE TABLE gate (id INTEGER); INSERT INTO gate VALUES (2);");
        let report = migrations.run_pending(&mut conn).unwrap();
        assert_eq!(report.migrations.iter().map(|r| r.version).collect::<Vec<_>>(), [2]);
        assert_eq!(entries(&mut conn), ["2"]);
        assert_eq!(statuses(&mut conn)[1], (2, "applied".into()));
    }
}

#[cfg(feature = "postgres")]
mod postgres_only {
    use super::*;

    fn db() -> Option<common::TestDb<diesel::PgConnection>> {
        common::TestDb::new()
    }

    #[test]
    fn a_lock_timeout_is_named_as_the_cause_and_retried_at_the_next_start() {
        let Some(db) = db() else { return };
        let migrations = set(&[
            (
                "001_create_ledger.sql",
                "CREATE TABLE ledger (entry INTEGER NOT NULL);",
            ),
            (
                "002_add_note.sql",
                "ALTER TABLE ledger ADD COLUMN note TEXT;",
            ),
        ]);
        let mut conn = db.connect();
        migrations
            .runner()
            .target(1)
            .run_pending(&mut conn)
            .unwrap();
        let mut reader = db.connect();
        reader.run("BEGIN; LOCK TABLE ledger IN ACCESS SHARE MODE;");
        conn.run("SET lock_timeout = '100ms'");
        // Lock-safe DDL off: the session's own lock timeout fails the migration at once.
        let error = migrations
            .runner()
            .lock_retry(std::time::Duration::ZERO, std::time::Duration::ZERO)
            .run_pending(&mut conn)
            .unwrap_err();
        let text = error.to_string();
        assert!(
            matches!(
                error,
                Error::MigrationFailed {
                    rolled_back: true,
                    ..
                }
            ),
            "{text}"
        );
        assert!(
            text.contains("lock timeout") && text.contains("not of the file"),
            "{text}"
        );
        assert!(text.contains("runs again at the next start"), "{text}");
        reader.run("COMMIT");
        let report = migrations.run_pending(&mut conn).unwrap();
        assert_eq!(report.migrations.len(), 1);
    }

    #[test]
    fn a_connection_lost_mid_migration_is_not_said_to_be_recorded() {
        let Some(db) = db() else { return };
        let migrations = set(&[
            (
                "001_create_ledger.sql",
                "CREATE TABLE ledger (entry INTEGER NOT NULL);",
            ),
            (
                "002_add_note.sql",
                "ALTER TABLE ledger ADD COLUMN note TEXT;",
            ),
        ]);
        let mut conn = db.connect();
        migrations
            .runner()
            .target(1)
            .run_pending(&mut conn)
            .unwrap();
        let mut reader = db.connect();
        reader.run("BEGIN; LOCK TABLE ledger IN ACCESS SHARE MODE;");
        let mut admin = db.connect();
        let error = std::thread::scope(|scope| {
            let run = scope.spawn(|| migrations.run_pending(&mut conn));
            // Wait until the migration queues behind the reader, then end its connection.
            let waiting = "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM pg_stat_activity \
                           WHERE datname = current_database() AND wait_event_type = 'Lock'";
            while admin.count(waiting) == 0 {
                std::thread::yield_now();
            }
            admin.run(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
            );
            run.join().unwrap().unwrap_err()
        });
        let text = error.to_string();
        assert!(!text.contains("recorded as failed"), "{text}");
        assert!(
            text.contains("the connection") && text.contains("runs again at the next start"),
            "{text}"
        );
        reader.run("COMMIT");
        let mut fresh = db.connect();
        assert_eq!(statuses(&mut fresh), [(1, "applied".into())]);
        assert_eq!(
            migrations.run_pending(&mut fresh).unwrap().migrations.len(),
            1
        );
    }

    #[test]
    fn a_begin_atomic_body_runs_as_one_statement_outside_a_transaction() {
        let Some(db) = db() else { return };
        let migrations = set(&[
            ("001_create_ledger.sql", "CREATE TABLE ledger (entry INTEGER NOT NULL);"),
            ("002_procedure.sql", "-- waterline:no-transaction\n\
                CREATE INDEX CONCURRENTLY ledger_entry ON ledger (entry);\n\
                CREATE PROCEDURE add_entries() LANGUAGE sql\n\
                BEGIN ATOMIC\n  INSERT INTO ledger VALUES (2);\n  INSERT INTO ledger VALUES (3);\nEND;\n\
                CALL add_entries();\n"),
        ]);
        let mut conn = db.connect();
        migrations.run_pending(&mut conn).unwrap();
        assert_eq!(entries(&mut conn), ["2", "3"]);
        assert_eq!(statuses(&mut conn)[1], (2, "applied".into()));
    }
}

/// A script that releases the session lock itself (as a proxy that moves the session would):
/// the release at the end of the run finds it gone, and says so.
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod released_by_a_script {
    use super::*;
    use std::cell::RefCell;

    thread_local! {
        static LOG: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }

    struct ThreadLog;

    impl std::io::Write for ThreadLog {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            LOG.with(|log| log.borrow_mut().extend_from_slice(buf));
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn capture() {
        static INSTALL: std::sync::Once = std::sync::Once::new();
        INSTALL.call_once(|| {
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::WARN)
                .with_ansi(false)
                .with_writer(|| ThreadLog)
                .finish();
            tracing::subscriber::set_global_default(subscriber).unwrap();
        });
    }

    fn check<C: TestConnection>(release_all: &str) {
        let Some(db) = common::TestDb::<C>::new() else {
            return;
        };
        capture();
        let migrations = set(&[
            (
                "001_create_ledger.sql",
                "CREATE TABLE ledger (entry INTEGER NOT NULL);",
            ),
            ("002_release.sql", release_all),
        ]);
        let mut conn = db.connect();
        migrations.run_pending(&mut conn).unwrap();
        let log = LOG.with(|log| String::from_utf8_lossy(&log.borrow()).into_owned());
        assert!(
            log.contains("the migration lock was not held when this run released it"),
            "{log}"
        );
        assert!(log.contains("use the lease lock there"), "{log}");
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn postgres() {
        check::<diesel::PgConnection>("SELECT pg_advisory_unlock_all();");
    }

    #[cfg(feature = "mysql")]
    #[test]
    fn mysql() {
        check::<diesel::MysqlConnection>("DO RELEASE_ALL_LOCKS();");
    }
}
