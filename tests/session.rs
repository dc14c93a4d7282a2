//! What a migration does to its session stays inside it: the next migration, and the
//! application that lent the connection, see the session as it was before the run.

mod common;

use common::{set, Inspect};

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;
    type Pg = diesel::PgConnection;

    #[test]
    fn a_search_path_set_by_a_migration_reaches_neither_the_next_migration_nor_the_app() {
        let Some(db) = common::TestDb::<Pg>::new() else {
            return;
        };
        let migrations = set(&[
            ("001_create_other.sql", "CREATE SCHEMA other;"),
            ("002_search_other.sql", "SET search_path TO other, public;"),
            (
                "003_create_accounts.sql",
                "CREATE TABLE accounts (id INTEGER);",
            ),
            ("004_search_only_other.sql", "SET search_path TO other;"),
            ("005_create_ledger.sql", "CREATE TABLE ledger (id INTEGER);"),
        ]);
        let mut conn = db.connect();
        conn.run("SET search_path TO \"$user\", public");
        migrations.run_pending(&mut conn).unwrap();
        let schema_of = |conn: &mut Pg, table: &str| {
            conn.text(&format!(
                "SELECT CAST(n.nspname AS TEXT) AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = '{table}'"
            ))
        };
        assert_eq!(
            schema_of(&mut conn, "accounts").as_deref(),
            Some("public"),
            "as if each migration ran in a process of its own"
        );
        assert_eq!(schema_of(&mut conn, "ledger").as_deref(), Some("public"));
        assert_eq!(
            schema_of(&mut conn, "waterline_migrations").as_deref(),
            Some("public")
        );
        assert_eq!(
            conn.text("SELECT current_setting('search_path') AS t")
                .as_deref(),
            Some("\"$user\", public")
        );
    }

    #[test]
    fn settings_a_migration_changes_are_restored_for_the_next_migration_and_the_app() {
        let Some(db) = common::TestDb::<Pg>::new() else {
            return;
        };
        let migrations = set(&[
            ("001_create_parents.sql", "CREATE TABLE parents (id INTEGER PRIMARY KEY);\nCREATE TABLE children (parent INTEGER REFERENCES parents (id));"),
            ("002_replica_role.sql", "SET session_replication_role = replica;\nSET statement_timeout = 1;"),
            ("003_record_what_it_sees.sql", "CREATE TABLE seen AS SELECT current_setting('statement_timeout') AS timeout, current_setting('session_replication_role') AS role;"),
            ("004_outside.sql", "-- waterline:no-transaction\nSET lock_timeout = '1ms';\nCREATE INDEX CONCURRENTLY parents_id ON parents (id);"),
        ]);
        let mut conn = db.connect();
        conn.run("SET statement_timeout = '5min'");
        migrations.run_pending(&mut conn).unwrap();
        assert_eq!(
            conn.text("SELECT timeout || ' ' || role AS t FROM seen")
                .as_deref(),
            Some("5min origin"),
            "the next migration saw the change"
        );
        assert_eq!(conn.text("SELECT current_setting('statement_timeout') || ' ' || current_setting('session_replication_role') || ' ' || current_setting('lock_timeout') AS t").as_deref(), Some("5min origin 0"));
        // The app's connection enforces foreign keys again.
        assert!(
            diesel::connection::SimpleConnection::batch_execute(
                &mut conn,
                "INSERT INTO children VALUES (42)"
            )
            .is_err(),
            "an orphan row was accepted"
        );
    }
}

#[cfg(feature = "mysql")]
mod mysql {
    use super::*;
    type My = diesel::MysqlConnection;

    #[test]
    fn autocommit_and_checks_a_migration_turns_off_are_restored() {
        let Some(db) = common::TestDb::<My>::new() else {
            return;
        };
        let migrations = set(&[
            (
                "001_create_ledger.sql",
                "CREATE TABLE ledger (entry INTEGER NOT NULL);",
            ),
            (
                "002_autocommit_off.sql",
                "SET autocommit = 0;\nSET foreign_key_checks = 0;\nINSERT INTO ledger VALUES (2);",
            ),
            ("003_entry.sql", "INSERT INTO ledger VALUES (3);"),
        ]);
        let mut conn = db.connect();
        let report = migrations.run_pending(&mut conn).unwrap();
        assert_eq!(report.migrations.len(), 3);
        let mut other = db.connect();
        let statuses: Vec<String> = other
            .rows("waterline_migrations")
            .into_iter()
            .map(|r| r.status)
            .collect();
        assert_eq!(
            statuses,
            ["applied", "applied", "applied"],
            "a row reported applied is not committed"
        );
        assert_eq!(
            other.count("SELECT CAST(COUNT(*) AS SIGNED) AS n FROM ledger"),
            2
        );
        // The app's next write on the same connection is committed.
        conn.run("INSERT INTO ledger VALUES (4)");
        assert_eq!(
            other.count("SELECT CAST(COUNT(*) AS SIGNED) AS n FROM ledger"),
            3,
            "the app's write was silently lost"
        );
        assert_eq!(
            conn.count("SELECT CAST(@@autocommit + @@foreign_key_checks AS SIGNED) AS n"),
            2
        );
    }
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;
    type Lite = diesel::SqliteConnection;

    const PARENTS: &str = "CREATE TABLE streamers (id INTEGER PRIMARY KEY, name TEXT);\n\
        CREATE TABLE streams (id INTEGER PRIMARY KEY, streamer INTEGER NOT NULL REFERENCES streamers (id) ON DELETE CASCADE);\n\
        INSERT INTO streamers VALUES (1, 'a'), (2, 'b');\n\
        INSERT INTO streams VALUES (10, 1), (11, 1), (12, 2);";

    /// SQLite's documented way to change a table: foreign keys off, a new table, copy, drop
    /// the old one, rename (https://www.sqlite.org/lang_altertable.html#otheralter).
    const REBUILD: &str = "PRAGMA foreign_keys = OFF;\n\
        CREATE TABLE streamers_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '');\n\
        INSERT INTO streamers_new SELECT id, COALESCE(name, '') FROM streamers;\n\
        DROP TABLE streamers;\n\
        ALTER TABLE streamers_new RENAME TO streamers;\n\
        PRAGMA foreign_keys = ON;";

    #[test]
    fn the_table_rebuild_recipe_keeps_every_child_row() {
        let Some(db) = common::TestDb::<Lite>::new() else {
            return;
        };
        let migrations = set(&[
            ("001_create_streamers.sql", PARENTS),
            ("002_rebuild_streamers.sql", REBUILD),
        ]);
        let mut conn = db.connect();
        conn.run("PRAGMA foreign_keys = ON");
        migrations.run_pending(&mut conn).unwrap();
        assert_eq!(
            conn.count("SELECT COUNT(*) AS n FROM streams"),
            3,
            "the rebuild deleted child rows"
        );
        assert_eq!(
            conn.count("SELECT foreign_keys AS n FROM pragma_foreign_keys"),
            1,
            "foreign keys stayed off for the app"
        );
    }

    #[test]
    fn a_rebuild_that_breaks_a_foreign_key_is_rolled_back() {
        let Some(db) = common::TestDb::<Lite>::new() else {
            return;
        };
        let breaking = REBUILD.replace(
            "SELECT id, COALESCE(name, '') FROM streamers",
            "SELECT id, name FROM streamers WHERE id = 1",
        );
        let migrations = set(&[
            ("001_create_streamers.sql", PARENTS),
            ("002_rebuild_streamers.sql", &breaking),
        ]);
        let mut conn = db.connect();
        conn.run("PRAGMA foreign_keys = ON");
        let error = migrations.run_pending(&mut conn).unwrap_err();
        let text = error.to_string();
        assert!(
            matches!(
                error,
                waterline::Error::MigrationFailed {
                    rolled_back: true,
                    ..
                }
            ),
            "{text}"
        );
        assert!(
            text.contains("foreign key") && text.contains("streams"),
            "{text}"
        );
        assert_eq!(
            conn.count("SELECT COUNT(*) AS n FROM streamers"),
            2,
            "not rolled back"
        );
        assert_eq!(
            conn.count("SELECT foreign_keys AS n FROM pragma_foreign_keys"),
            1
        );
    }
}

/// Every statement the runner sends before it owns the migration lock waits at most the lock
/// timeout, and says what it waited for.
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod bounded_waits {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    /// Runs `up` with a short lock timeout while `hold` keeps the tracking table locked from
    /// another session; the error, or a failure if the run is still waiting after a minute.
    fn run_while_locked<C: common::TestConnection + 'static>(
        db: &common::TestDb<C>,
        hold: &str,
    ) -> waterline::Error {
        let migrations = set(&[(
            "001_create_ledger.sql",
            "CREATE TABLE ledger (entry INTEGER NOT NULL);",
        )]);
        let mut conn = db.connect();
        migrations.run_pending(&mut conn).unwrap();
        let mut holder = db.connect();
        holder.run(hold);
        let url = db.url.clone();
        let (sent, received) = mpsc::channel();
        std::thread::spawn(move || {
            let migrations = set(&[
                (
                    "001_create_ledger.sql",
                    "CREATE TABLE ledger (entry INTEGER NOT NULL);",
                ),
                ("002_more.sql", "INSERT INTO ledger VALUES (2);"),
            ]);
            let mut conn = C::establish(&url).unwrap();
            let result = migrations
                .runner()
                .lock_timeout(Duration::from_millis(300))
                .run_pending(&mut conn);
            let _ = sent.send(result);
        });
        let result = received
            .recv_timeout(Duration::from_secs(60))
            .expect("the run still waits after a minute");
        result.unwrap_err()
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn postgres_a_locked_tracking_table_is_waited_for_only_up_to_the_lock_timeout() {
        let Some(db) = common::TestDb::<diesel::PgConnection>::new() else {
            return;
        };
        let error = run_while_locked(
            &db,
            "BEGIN; LOCK TABLE waterline_migrations IN ACCESS EXCLUSIVE MODE;",
        );
        let text = error.to_string();
        assert!(
            matches!(error, waterline::Error::TableLocked { .. }),
            "{text}"
        );
        assert!(
            text.contains("`waterline_migrations`")
                && text.contains("300ms")
                && text.contains("held by process"),
            "{text}"
        );
    }

    #[cfg(feature = "mysql")]
    #[test]
    fn mysql_a_locked_tracking_table_is_waited_for_only_up_to_the_lock_timeout() {
        let Some(db) = common::TestDb::<diesel::MysqlConnection>::new() else {
            return;
        };
        let error = run_while_locked(&db, "LOCK TABLES waterline_migrations WRITE");
        let text = error.to_string();
        assert!(
            matches!(error, waterline::Error::TableLocked { .. }),
            "{text}"
        );
        assert!(
            text.contains("`waterline_migrations`") && text.contains("300ms"),
            "{text}"
        );
    }
}

/// A run says what it waits for: a long migration is reported while it runs.
mod visible_waits {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;
    use waterline::Progress;

    /// Runs migration 2, `second`, while `holder` (after `hold`) keeps it waiting, and lets it
    /// go once the run has said it still runs.
    fn check<C: common::TestConnection>(
        second: &str,
        holder: impl FnOnce(&common::TestDb<C>) -> C,
        hold: &str,
        release: &str,
    ) {
        let Some(db) = common::TestDb::<C>::new() else {
            return;
        };
        let migrations = set(&[
            (
                "001_create_ledger.sql",
                "CREATE TABLE ledger (entry INTEGER NOT NULL);",
            ),
            ("002_entry.sql", second),
        ]);
        let mut conn = db.connect();
        migrations
            .runner()
            .target(1)
            .run_pending(&mut conn)
            .unwrap();
        let mut holder = holder(&db);
        holder.run(hold);
        let reported = AtomicBool::new(false);
        std::thread::scope(|scope| {
            let run = scope.spawn(|| {
                migrations
                    .runner()
                    .progress_interval(Duration::from_millis(50))
                    .on_progress(|event| {
                        if let Progress::StillRunning { migration, .. } = event {
                            assert_eq!(migration.version(), 2);
                            reported.store(true, Ordering::SeqCst);
                        }
                    })
                    .run_pending(&mut conn)
            });
            // Once the run has said the migration still runs, let it finish.
            while !reported.load(Ordering::SeqCst) {
                assert!(
                    !run.is_finished(),
                    "the migration ended without being reported"
                );
                std::thread::yield_now();
            }
            holder.run(release);
            run.join().unwrap().unwrap();
        });
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn postgres_a_long_migration_is_reported_while_it_runs() {
        let lock = "BEGIN; LOCK TABLE ledger IN ACCESS EXCLUSIVE MODE;";
        check::<diesel::PgConnection>(
            "INSERT INTO ledger VALUES (2);",
            |db| db.connect(),
            lock,
            "COMMIT",
        );
    }

    #[cfg(feature = "mysql")]
    #[test]
    fn mysql_a_long_migration_is_reported_while_it_runs() {
        let lock = "LOCK TABLES ledger WRITE";
        check::<diesel::MysqlConnection>(
            "INSERT INTO ledger VALUES (2);",
            |db| db.connect(),
            lock,
            "UNLOCK TABLES",
        );
    }

    #[cfg(feature = "sqlite")]
    #[test]
    fn sqlite_a_long_migration_is_reported_while_it_runs() {
        use diesel::Connection;
        // SQLite locks whole files: the migration writes to another database file, which the
        // test keeps locked, so that the run's own lock and tracking table are free.
        let dir = tempfile::tempdir().unwrap();
        let other = dir.path().join("other.db").to_string_lossy().into_owned();
        let second = format!(
            "-- waterline:no-transaction\nATTACH DATABASE '{other}' AS other;\nINSERT INTO other.entries VALUES (2);\nDETACH DATABASE other;"
        );
        let holder = |_: &common::TestDb<diesel::SqliteConnection>| {
            let mut conn = diesel::SqliteConnection::establish(&other).unwrap();
            conn.run("CREATE TABLE entries (entry INTEGER)");
            conn
        };
        check::<diesel::SqliteConnection>(&second, holder, "BEGIN EXCLUSIVE", "COMMIT");
    }
}

/// A role short of a privilege is told which operation failed and which privilege it needs.
#[cfg(feature = "postgres")]
mod privileges {
    use super::*;
    use diesel::Connection;

    #[test]
    fn a_role_without_select_is_told_it_needs_select_then_insert() {
        let Some(db) = common::TestDb::<diesel::PgConnection>::new() else {
            return;
        };
        let role = format!(
            "waterline_reader_{}",
            db.name.trim_start_matches("waterline_test_")
        );
        let migrations = set(&[(
            "001_create_ledger.sql",
            "CREATE TABLE ledger (entry INTEGER NOT NULL);",
        )]);
        let mut owner = db.connect();
        migrations.run_pending(&mut owner).unwrap();
        owner.run(&format!("CREATE ROLE {role} LOGIN"));
        let url = db.url.replacen("postgres@", &format!("{role}@"), 1);
        let mut reader = diesel::PgConnection::establish(&url).unwrap();

        let error = migrations.run_pending(&mut reader).unwrap_err();
        let text = error.to_string();
        assert!(
            matches!(error, waterline::Error::PermissionDenied { .. }),
            "{text}"
        );
        assert!(
            text.starts_with(
                "could not read the tracking table (tracking table `waterline_migrations`)"
            ),
            "{text}"
        );
        assert!(
            text.contains("needs SELECT on `waterline_migrations`"),
            "{text}"
        );

        owner.run(&format!(
            "GRANT SELECT ON waterline_migrations, waterline_migrations_layout TO {role}"
        ));
        assert!(
            migrations.run_pending(&mut reader).unwrap().is_empty(),
            "nothing pending needs no more"
        );

        let more = set(&[
            (
                "001_create_ledger.sql",
                "CREATE TABLE ledger (entry INTEGER NOT NULL);",
            ),
            ("002_nothing.sql", "SELECT 1;"),
        ]);
        let error = more.run_pending(&mut reader).unwrap_err();
        let text = error.to_string();
        assert!(
            matches!(error, waterline::Error::PermissionDenied { .. }),
            "{text}"
        );
        assert!(
            text.contains("INSERT, UPDATE and DELETE on `waterline_migrations`"),
            "{text}"
        );
        assert!(!text.contains("create the tracking table"), "{text}");
        drop(reader);
        owner.run(&format!("DROP OWNED BY {role}; DROP ROLE {role}"));
    }
}

/// SQLite records how long a migration ran, not the time to build its row.
#[cfg(feature = "sqlite")]
#[test]
fn sqlite_records_the_time_a_migration_took() {
    let Some(db) = common::TestDb::<diesel::SqliteConnection>::new() else {
        return;
    };
    let migrations = set(&[(
        "001_count.sql",
        "CREATE TABLE total AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000) SELECT COUNT(*) AS n FROM c;",
    )]);
    let mut conn = db.connect();
    let report = migrations.run_pending(&mut conn).unwrap();
    let took = report.migrations[0].duration.as_millis() as i64;
    assert!(took > 0, "the migration itself took {took} ms");
    let recorded = conn.rows("waterline_migrations")[0]
        .execution_ms
        .unwrap_or(0);
    assert!(
        recorded > 0 && recorded <= took,
        "recorded {recorded} ms of {took} ms"
    );
}

/// Reverting everything reverts everything, version 0 (diesel's initial setup) included.
#[cfg(feature = "sqlite")]
mod revert_all {
    use super::*;

    fn zero_based() -> waterline::Migrations {
        set(&[
            (
                "00000000000000_initial_setup/up.sql",
                "CREATE TABLE setup (id INTEGER);",
            ),
            ("00000000000000_initial_setup/down.sql", "DROP TABLE setup;"),
            (
                "20240101000000_create_ledger/up.sql",
                "CREATE TABLE ledger (entry INTEGER);",
            ),
            (
                "20240101000000_create_ledger/down.sql",
                "DROP TABLE ledger;",
            ),
        ])
    }

    #[test]
    fn revert_all_leaves_nothing_applied() {
        let Some(db) = common::TestDb::<diesel::SqliteConnection>::new() else {
            return;
        };
        let migrations = zero_based();
        let mut conn = db.connect();
        migrations.run_pending(&mut conn).unwrap();
        let report = migrations.runner().revert_all(&mut conn).unwrap();
        assert_eq!(
            report
                .migrations
                .iter()
                .map(|r| r.version_text.as_str())
                .collect::<Vec<_>>(),
            ["20240101000000", "00000000000000"]
        );
        assert!(!conn.table_exists("setup") && !conn.table_exists("ledger"));
        assert!(conn.rows("waterline_migrations").is_empty());
        // `revert_to(0)` keeps 0: it reverts what is newer than the version it names.
        migrations.run_pending(&mut conn).unwrap();
        migrations.runner().revert_to(&mut conn, 0).unwrap();
        assert_eq!(conn.rows("waterline_migrations").len(), 1);
    }

    #[test]
    fn down_all_on_the_command_line() {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("app.db").display().to_string();
        let run = |args: &[&str]| {
            std::process::Command::new(env!("CARGO_BIN_EXE_streamvault"))
                .env_remove("DATABASE_URL")
                .args(["--database-url", &url])
                .args(args)
                .output()
                .unwrap()
        };
        assert!(run(&["up"]).status.success());
        let down = run(&["down", "--all"]);
        assert!(
            down.status.success(),
            "{}",
            String::from_utf8_lossy(&down.stderr)
        );
        let verify = run(&["verify", "--json"]);
        let text = String::from_utf8_lossy(&verify.stdout);
        assert!(
            text.contains("\"applied\": 0") || text.contains("\"applied\":0"),
            "{text}"
        );
    }
}
