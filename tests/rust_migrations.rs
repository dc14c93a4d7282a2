//! Migrations written in Rust, in the same history as SQL files: run in order, checksummed,
//! batched backfills that commit with their checkpoints and resume after a stop, background
//! migrations left to `run_background`, holds that keep two runs off one migration.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::Inspect;
use waterline::{Error, Progress, State, Stop};

static RUST: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/rust");

/// Inserts `count` streamers with ids 1..=count.
fn seed(conn: &mut impl Inspect, count: i64) {
    let rows: Vec<String> = (1..=count)
        .map(|id| format!("({id}, 'streamer {id}')"))
        .collect();
    for chunk in rows.chunks(500) {
        conn.run(&format!(
            "INSERT INTO streamers (id, name) VALUES {}",
            chunk.join(", ")
        ));
    }
}

/// `run_pending`, asked to stop once `batches` batches of a backfill are committed.
fn run_stopping_after_batches<C: waterline::MigrationConnection>(
    conn: &mut C,
    batches: u64,
) -> Result<waterline::Report, Error> {
    let stop = Stop::new();
    let asked = stop.clone();
    let runner = RUST.runner().stop_on(&stop).on_progress(move |progress| {
        if matches!(progress, Progress::Batch { progress } if progress.batches == batches) {
            asked.request();
        }
    });
    runner.run_pending(conn)
}

/// The batches the backfill of migration 3 logged.
fn logged_batches(conn: &mut impl Inspect) -> i64 {
    conn.count("SELECT COUNT(*) AS n FROM batch_log WHERE version = 3")
}

on_every_backend! {
    fn code_runs_in_version_order_and_background_migrations_wait_for_run_background(db) {
        let mut conn: Conn = db.connect();
        RUST.runner().target(1).run_pending(&mut conn).unwrap();
        seed(&mut conn, 100);
        let report = RUST.run_pending(&mut conn).unwrap();
        let ran: Vec<u64> = report.migrations.iter().map(|r| r.version).collect();
        assert_eq!(ran, [2, 3], "the SQL and Rust migrations before the background one");
        let deferred: Vec<u64> = report.deferred.iter().map(|m| m.version).collect();
        assert_eq!(deferred, [4, 5], "the background migration and every one after it");
        let shown = report.to_string();
        assert!(shown.ends_with("2 migrations left to the background run, from 004 `tests/fixtures/rust/004_prefer_h264.rs`"), "{shown}");
        assert!(conn.column_exists("streamers", "codec"));
        assert_eq!(conn.count("SELECT COUNT(*) AS n FROM streamers WHERE profile_image = 'default.png'"), 100);
        assert_eq!(logged_batches(&mut conn), 15, "100 keys in batches of 7");
        assert_eq!(conn.count("SELECT COUNT(*) AS n FROM streamers WHERE codec IS NOT NULL"), 0);
        // The next start-up has only the deferral left: one query, no lock, as a no-op.
        let said = AtomicU64::new(0);
        let again = RUST
            .runner()
            .on_progress(|progress| {
                if let Progress::Deferred { migration, waiting } = progress {
                    said.store(migration.version() * 10 + waiting as u64, Ordering::Relaxed);
                }
            })
            .run_pending(&mut conn)
            .unwrap();
        assert!(again.is_empty());
        assert_eq!(again.lock_wait, None, "a start-up that only defers takes no lock");
        let deferred: Vec<u64> = again.deferred.iter().map(|m| m.version).collect();
        assert_eq!(deferred, [4, 5]);
        assert_eq!(said.load(Ordering::Relaxed), 42, "observers hear of 004 and 2 waiting");
        let status = RUST.runner().status(&mut conn).unwrap();
        assert_eq!(status.count(State::Applied), 3);
        assert_eq!(status.count(State::Pending), 2);
        let rows = conn.rows("waterline_migrations");
        let code_checksum = RUST.iter().nth(2).unwrap().up().default_script().unwrap().checksum();
        assert_eq!(rows[2].checksum, code_checksum.to_string(), "the checksum of the source");

        let batches = AtomicU64::new(0);
        let report = RUST
            .runner()
            .on_progress(|progress| {
                if let Progress::Batch { progress } = progress {
                    batches.fetch_add(1, Ordering::Relaxed);
                    assert!(progress.rows_done <= progress.rows_total);
                }
            })
            .run_background(&mut conn)
            .unwrap();
        let ran: Vec<u64> = report.migrations.iter().map(|r| r.version).collect();
        assert_eq!(ran, [4, 5]);
        assert_eq!(batches.load(Ordering::Relaxed), 10, "100 rows to change, 10 a batch");
        assert_eq!(conn.count("SELECT COUNT(*) AS n FROM streamers WHERE codec = 'h264'"), 100);
        assert!(conn.index_exists("streamers_codec"));
        assert!(RUST.run_pending(&mut conn).unwrap().is_empty());
        let status = RUST.runner().status(&mut conn).unwrap();
        assert_eq!(status.count(State::Applied), 5);
    }

    fn a_stopped_backfill_resumes_after_its_last_committed_batch(db) {
        let mut conn: Conn = db.connect();
        RUST.runner().target(2).run_pending(&mut conn).unwrap();
        seed(&mut conn, 100);
        let stopped = run_stopping_after_batches(&mut conn, 4).unwrap_err();
        assert!(matches!(stopped, Error::Stopped { .. }), "{stopped}");
        assert_eq!(logged_batches(&mut conn), 4);
        assert_eq!(conn.count("SELECT COUNT(*) AS n FROM streamers WHERE profile_image IS NOT NULL"), 28);
        let rows = conn.rows("waterline_migrations");
        assert_eq!(rows[2].status, "running", "never `applied` while rows remain");
        let status = RUST.runner().status(&mut conn).unwrap();
        let backfill = status.migrations[2].backfill.clone().expect("its checkpoint");
        assert_eq!((backfill.rows_done, backfill.rows_total, backfill.batches), (28, 100, 4));
        assert!(!backfill.finished);
        assert_eq!(backfill.held_by, None, "stopped: its hold released");

        let report = RUST.run_pending(&mut conn).unwrap();
        assert_eq!(report.migrations.iter().map(|r| r.version).collect::<Vec<_>>(), [3]);
        assert_eq!(logged_batches(&mut conn), 15, "no batch twice, none skipped");
        assert_eq!(conn.count("SELECT COUNT(*) AS n FROM streamers WHERE profile_image = 'default.png'"), 100);
        let status = RUST.runner().status(&mut conn).unwrap();
        let backfill = status.migrations[2].backfill.clone().expect("its checkpoint");
        assert!(backfill.finished && backfill.rows_done == 100, "{backfill:?}");
        assert_eq!(
            conn.count(&format!(
                "SELECT CAST(SUM(batches) AS {}) AS n FROM waterline_migrations_checkpoints WHERE version = 3",
                common::int64::<Conn>()
            )),
            15
        );
    }

    fn a_migration_held_by_a_live_run_is_refused_and_a_dead_runs_is_taken_over(db) {
        let mut conn: Conn = db.connect();
        RUST.runner().target(2).run_pending(&mut conn).unwrap();
        seed(&mut conn, 20);
        // A run that stopped after its first batch: its row `running`; then another run's
        // hold, live.
        let stopped = run_stopping_after_batches(&mut conn, 1);
        assert!(matches!(stopped, Err(Error::Stopped { .. })));
        assert_eq!(logged_batches(&mut conn), 1);
        let future = match <Conn as common::TestConnection>::BACKEND {
            waterline::Backend::Postgres => "now() + interval '1 hour'",
            waterline::Backend::Mysql => "NOW(6) + INTERVAL 1 HOUR",
            waterline::Backend::Sqlite => "strftime('%Y-%m-%d %H:%M:%f', 'now', '+3600 seconds')",
        };
        conn.run(&format!(
            "INSERT INTO waterline_migrations_runs (version, holder, token, expires_at) VALUES (3, 'replica-b (pid 7)', 'x', {future})"
        ));
        let held = RUST.run_pending(&mut conn).unwrap_err();
        assert!(matches!(held, Error::HeldElsewhere { .. }), "{held}");
        assert!(held.to_string().contains("replica-b (pid 7)"), "{held}");
        assert_eq!(logged_batches(&mut conn), 1, "nothing of it ran here");
        conn.run("DELETE FROM waterline_migrations_runs");
        let past = future.replace("+ interval '1 hour'", "- interval '1 hour'").replace("+ INTERVAL 1 HOUR", "- INTERVAL 1 HOUR").replace("+3600", "-3600");
        conn.run(&format!(
            "INSERT INTO waterline_migrations_runs (version, holder, token, expires_at) VALUES (3, 'replica-b (pid 7)', 'x', {past})"
        ));
        let report = RUST.run_pending(&mut conn).unwrap();
        assert_eq!(report.migrations.len(), 1, "its hold ended: taken over");
        assert_eq!(logged_batches(&mut conn), 3);
    }

    fn an_edited_applied_rust_migration_is_drift(db) {
        let mut conn: Conn = db.connect();
        RUST.runner().target(2).run_pending(&mut conn).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rust");
        common::copy_folder(&fixtures, dir.path());
        let file = dir.path().join("002_add_codec.rs");
        let edited = std::fs::read_to_string(&file).unwrap().replace("VARCHAR(20)", "VARCHAR(40)");
        std::fs::write(&file, edited).unwrap();
        let folder = waterline::Migrations::from_folder(dir.path(), "tests/fixtures/rust").unwrap();
        let drift = folder.runner().target(2).run_pending(&mut conn).unwrap_err();
        assert!(matches!(drift, Error::ChecksumMismatch { .. }), "{drift}");
        assert!(drift.to_string().contains("002_add_codec.rs"), "{drift}");
    }

    fn a_set_read_at_run_time_refuses_to_run_code_it_does_not_have(db) {
        let mut conn: Conn = db.connect();
        let read = common::fixture("rust");
        let refused = read.run_pending(&mut conn).unwrap_err();
        assert!(matches!(refused, Error::CodeNotEmbedded { .. }), "{refused}");
        assert!(refused.to_string().contains("002_add_codec"), "{refused}");
        let rows = conn.rows("waterline_migrations");
        assert_eq!(rows.len(), 1, "only the SQL migration before it: {rows:?}");
        assert!(!conn.column_exists("streamers", "codec"));
    }

    fn rust_migrations_revert_with_down_and_a_backfill_runs_again_after(db) {
        let mut conn: Conn = db.connect();
        RUST.runner().target(1).run_pending(&mut conn).unwrap();
        seed(&mut conn, 30);
        let plan = RUST.runner().target(3).plan(&mut conn).unwrap();
        assert!(plan.migrations[0].rust && !plan.migrations[0].background);
        assert!(plan.migrations[0].statements.is_empty());
        assert!(plan.to_string().contains("-- Rust: the `up` function of tests/fixtures/rust/002_add_codec.rs\n"), "{plan}");
        RUST.runner().target(3).run_pending(&mut conn).unwrap();
        assert_eq!(logged_batches(&mut conn), 5);
        let reverted = RUST.runner().revert_steps(&mut conn, 2).unwrap();
        assert_eq!(reverted.migrations.iter().map(|r| r.version).collect::<Vec<_>>(), [3, 2]);
        assert!(!conn.column_exists("streamers", "codec"), "`down` of 002 ran");
        assert_eq!(logged_batches(&mut conn), 0, "`down` of 003 ran");
        assert_eq!(conn.count("SELECT COUNT(*) AS n FROM waterline_migrations_checkpoints"), 0);
        RUST.runner().target(3).run_pending(&mut conn).unwrap();
        assert_eq!(logged_batches(&mut conn), 5, "applied again, its backfill runs again");
        assert_eq!(conn.count("SELECT COUNT(*) AS n FROM streamers WHERE profile_image IS NULL"), 0);
    }

    fn an_older_binary_starts_beside_a_newer_ones_backfill_in_progress(db) {
        let mut conn: Conn = db.connect();
        RUST.runner().target(2).run_pending(&mut conn).unwrap();
        seed(&mut conn, 50);
        let stopped = run_stopping_after_batches(&mut conn, 1);
        assert!(matches!(stopped, Err(Error::Stopped { .. })));
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rust");
        let first = std::fs::read_to_string(fixtures.join("001_create_streamers.sql")).unwrap();
        let older = common::set(&[("001_create_streamers.sql", &first)]);
        let report = older.run_pending(&mut conn).unwrap();
        let ahead: Vec<u64> = report.ahead.iter().map(|m| m.version).collect();
        assert_eq!(ahead, [2], "the applied expand migration it lacks; 3 is in progress, also expand");
        let refused = older.runner().ahead(waterline::Ahead::Refuse).run_pending(&mut conn).unwrap_err();
        assert!(matches!(refused, Error::Unfinished { .. } | Error::MissingFromBinary { .. }), "{refused}");
    }
}

mod replicas {
    use super::*;

    on_every_backend! {
    fn two_replicas_running_background_migrations_at_once_run_each_batch_once(db) {
        let mut conn: Conn = db.connect();
        RUST.runner().target(3).run_pending(&mut conn).unwrap();
        seed(&mut conn, 600);
        let replicas: Vec<_> = (0..2)
            .map(|replica| {
                let mut conn: Conn = db.connect();
                std::thread::spawn(move || {
                    RUST.runner()
                        .applied_by(format!("replica {replica}"))
                        .heartbeat_lease(Duration::from_secs(30))
                        .run_background(&mut conn)
                })
            })
            .collect();
        let mut ran = Vec::new();
        for replica in replicas {
            let report = replica.join().unwrap().unwrap_or_else(|e| panic!("{e}"));
            ran.extend(report.migrations.iter().map(|r| r.version));
        }
        ran.sort_unstable();
        assert_eq!(ran, [4, 5], "each migration applied by one replica");
        assert_eq!(conn.count("SELECT COUNT(*) AS n FROM streamers WHERE codec = 'h264'"), 600);
        assert_eq!(
            conn.count("SELECT batches AS n FROM waterline_migrations_checkpoints WHERE version = 4"),
            60,
            "600 rows to change, 10 a batch, none twice"
        );
    }
    }
}

mod lock_safe {
    use super::*;

    on_servers! {
        fn a_batch_waits_for_row_locks_only_as_long_as_the_lock_retry_allows(db) {
            let mut conn: Conn = db.connect();
            RUST.runner().target(2).run_pending(&mut conn).unwrap();
            seed(&mut conn, 40);
            // An application transaction holds row 20, in the third batch, throughout the run.
            let mut app: Conn = db.connect();
            app.run("BEGIN");
            app.run("UPDATE streamers SET name = 'busy' WHERE id = 20");
            let failed = RUST
                .runner()
                .lock_retry(Duration::from_millis(50), Duration::from_millis(300))
                .run_pending(&mut conn)
                .unwrap_err();
            assert!(matches!(failed, Error::MigrationFailed { .. }), "{failed}");
            assert_eq!(failed.version(), Some(3), "{failed}");
            assert_eq!(logged_batches(&mut conn), 2, "the batches before the locked row committed");
            app.run("ROLLBACK");
            let report = RUST.run_pending(&mut conn).unwrap();
            assert_eq!(report.migrations.len(), 1, "resumed once the rows were free");
            assert_eq!(logged_batches(&mut conn), 6);
            assert_eq!(conn.count("SELECT COUNT(*) AS n FROM streamers WHERE profile_image IS NULL"), 0);
        }
    }
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
mod statement_timeout {
    use super::*;

    static SLOW: waterline::Migrations =
        waterline::embed_migrations!("tests/fixtures/rust-statement-timeout");

    on_servers! {
        fn a_resumable_migrations_statement_timeout_bounds_its_statements(db) {
            let mut conn: Conn = db.connect();
            let failed = SLOW.run_pending(&mut conn).unwrap_err();
            assert!(matches!(failed, Error::MigrationFailed { .. }), "{failed}");
            let shown = failed.to_string();
            assert!(
                shown.contains("statement timeout") || shown.contains("max_statement_time"),
                "the statement ran past `statement-timeout(100ms)`: {shown}"
            );
            let status = SLOW.runner().status(&mut conn).unwrap();
            assert_eq!(status.count(State::Applied), 0);
        }
    }
}
