//! A diesel_migrations folder and database, taken over with no file touched: the fixture
//! `tests/fixtures/diesel` mixes diesel's three version forms, version 0, names with dashes,
//! `metadata.toml`, a `down.sql` with no SQL, a data script and a README at the top. Each test
//! runs on SQLite, and on PostgreSQL and MariaDB when their URLs are set, against
//! diesel_migrations 2.3 itself.

mod common;

use std::path::{Path, PathBuf};

use common::{Inspect, TestConnection};
use diesel_migrations::{FileBasedMigrations, MigrationHarness};
use waterline::{Backend, Error};

/// The fixture, embedded as a diesel user would: this line and nothing else.
static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/diesel");

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/diesel")
}

/// The versions diesel_migrations applies, in its order: the text before the first `_`
/// without dashes.
const DIESEL_ORDER: [&str; 8] = [
    "00000000000000",
    "20140925132250",
    "20170605191432",
    "20170831230457",
    "202511190914430001",
    "20251119091444",
    "202511190914440002",
    "202511200000000000",
];

/// Every column and index of the app's tables, one per line in name order; `None` when there
/// are none. Tracking tables are left out.
fn schema<C: TestConnection + Inspect>(conn: &mut C) -> Option<String> {
    let ours = "NOT LIKE 'waterline%' AND {t} <> '__diesel_schema_migrations'";
    let not_tracking = |column: &str| ours.replace("{t}", column);
    let sql = match C::BACKEND {
        Backend::Postgres => format!(
            "SELECT string_agg(d, E'\\n' ORDER BY d) AS t FROM (\
             SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable AS d \
             FROM information_schema.columns WHERE table_schema = current_schema() AND table_name {} \
             UNION ALL SELECT 'index ' || indexdef FROM pg_indexes \
             WHERE schemaname = current_schema() AND tablename {}) s",
            not_tracking("table_name"),
            not_tracking("tablename")
        ),
        Backend::Mysql => {
            conn.run("SET SESSION group_concat_max_len = 1000000");
            format!(
                "SELECT CAST(GROUP_CONCAT(d ORDER BY d SEPARATOR '\\n') AS CHAR) AS t FROM (\
                 SELECT CONCAT('column ', TABLE_NAME, '.', COLUMN_NAME, ' ', COLUMN_TYPE, ' ', IS_NULLABLE) AS d \
                 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME {} \
                 UNION ALL SELECT CONCAT('index ', TABLE_NAME, '.', INDEX_NAME, '.', COLUMN_NAME, ' ', NON_UNIQUE) \
                 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME {}) s",
                not_tracking("TABLE_NAME"),
                not_tracking("TABLE_NAME")
            )
        }
        Backend::Sqlite => format!(
            "SELECT group_concat(d, char(10)) AS t FROM (SELECT type || ' ' || name || ': ' || sql AS d \
             FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' AND name {} ORDER BY d)",
            not_tracking("name")
        ),
    };
    conn.text(&sql)
}

/// The journal each fixture migration appends its name to, in the order they ran.
fn journal<C: TestConnection + Inspect>(conn: &mut C) -> Vec<String> {
    let entry = match C::BACKEND {
        Backend::Mysql => "CONCAT(position, ' ', name)",
        _ => "CAST(position AS VARCHAR(10)) || ' ' || name",
    };
    let sql = match C::BACKEND {
        Backend::Postgres => format!("SELECT string_agg({entry}, ',' ORDER BY position) AS t FROM journal"),
        Backend::Mysql => format!("SELECT CAST(GROUP_CONCAT({entry} ORDER BY position) AS CHAR) AS t FROM journal"),
        _ => format!("SELECT group_concat(e, ',') AS t FROM (SELECT {entry} AS e FROM journal ORDER BY position)"),
    };
    conn.text(&sql)
        .unwrap_or_default()
        .split(',')
        .map(str::to_owned)
        .collect()
}

/// The fixture applied with diesel_migrations 2.3; returns the versions it applied, in order.
fn apply_with_diesel<C>(conn: &mut C, dir: &Path) -> Vec<String>
where
    C: MigrationHarness<C::Backend> + diesel::Connection,
{
    let source = FileBasedMigrations::from_path(dir).unwrap();
    let applied = conn.run_pending_migrations(source).unwrap();
    applied.iter().map(ToString::to_string).collect()
}

on_every_backend! {
    fn the_folder_builds_unchanged_and_applies_as_diesel_migrations_does(db) {
        let by_diesel = common::TestDb::<Conn>::new().unwrap();
        let mut theirs = by_diesel.connect();
        let diesel_order = apply_with_diesel(&mut theirs, &fixture_dir());
        assert_eq!(diesel_order, DIESEL_ORDER);

        let mut ours = db.connect();
        let report = MIGRATIONS.run_pending(&mut ours).unwrap();
        let our_order: Vec<String> = report
            .migrations
            .iter()
            .map(|ran| waterline_core::diesel::recorded_version(&ran.version_text))
            .collect();
        assert_eq!(our_order, diesel_order, "the order of application");
        assert_eq!(journal(&mut ours), journal(&mut theirs), "the order each script ran in");
        let schema_ours = schema(&mut ours);
        assert!(schema_ours.as_deref().is_some_and(|s| s.contains("comments")), "{schema_ours:?}");
        assert_eq!(schema_ours, schema(&mut theirs), "the schema");
        // The top-level files are neither embedded nor run, and say so.
        assert_eq!(MIGRATIONS.len(), 8);
        let notices: Vec<&str> = MIGRATIONS.notices().collect();
        assert_eq!(notices.len(), 3, "{notices:#?}");
        assert!(notices[1].starts_with("`tests/fixtures/diesel/README.md` is not a migration"), "{notices:#?}");
        assert!(notices[2].starts_with("`tests/fixtures/diesel/backfill_data.sql` is not a migration"), "{notices:#?}");
    }

    fn a_database_diesel_migrated_is_adopted_and_then_migrated_on(db) {
        let mut conn = db.connect();
        apply_with_diesel(&mut conn, &fixture_dir());
        let status = MIGRATIONS.runner().status(&mut conn).unwrap();
        assert!(status.is_up_to_date(), "status tells what adoption will record: {status:?}");

        let report = MIGRATIONS.run_pending(&mut conn).unwrap();
        assert!(report.migrations.is_empty(), "nothing runs again: {report:?}");
        let rows = conn.rows("waterline_migrations");
        assert_eq!(rows.len(), 8);
        assert!(rows.iter().all(|row| row.status == "applied"));

        // A new migration, written by diesel_cli, applies; kept in step, diesel sees it too.
        let dir = tempfile::tempdir().unwrap();
        common::copy_folder(&fixture_dir(), dir.path());
        let new = dir.path().join("2026-01-02-030405-0000_add_tags");
        std::fs::create_dir(&new).unwrap();
        std::fs::write(new.join("up.sql"), "CREATE TABLE tags (id INTEGER PRIMARY KEY);").unwrap();
        std::fs::write(new.join("down.sql"), "DROP TABLE tags;").unwrap();
        let newer = waterline::Migrations::from_folder(dir.path(), "migrations").unwrap();
        let report = newer.runner().keep_diesel_table(true).run_pending(&mut conn).unwrap();
        let applied: Vec<&str> = report.migrations.iter().map(|ran| ran.name.as_str()).collect();
        assert_eq!(applied, ["add_tags"]);
        let source = FileBasedMigrations::from_path(dir.path()).unwrap();
        let pending = MigrationHarness::pending_migrations(&mut conn, source).unwrap();
        assert!(pending.is_empty(), "diesel_migrations finds nothing pending");

        newer.runner().keep_diesel_table(true).revert_last(&mut conn).unwrap();
        let source = FileBasedMigrations::from_path(dir.path()).unwrap();
        let pending = MigrationHarness::pending_migrations(&mut conn, source).unwrap();
        assert_eq!(pending.len(), 1, "a revert is kept in step too");
    }

    fn revert_all_leaves_an_empty_schema(db) {
        let mut conn = db.connect();
        MIGRATIONS.run_pending(&mut conn).unwrap();
        // The data fix with a comment-only down.sql is irreversible: revert-all stops there,
        // having reverted everything newer, and names it.
        let error = MIGRATIONS.runner().revert_all(&mut conn).unwrap_err();
        let Error::Irreversible { migration } = &error else { panic!("{error}") };
        assert_eq!(migration.version_text, "2017-08-31-230457");
        assert_eq!(conn.rows("waterline_migrations").len(), 4);
        // Its data cannot be put back; the operator says so, and revert-all goes on to the end.
        MIGRATIONS.runner().mark_unapplied(&mut conn, migration.version).unwrap();
        MIGRATIONS.runner().revert_all(&mut conn).unwrap();
        assert_eq!(schema(&mut conn), None, "every table is gone, version 0's included");
        assert!(conn.rows("waterline_migrations").is_empty());
    }
}

#[test]
fn a_concurrent_index_in_a_transactional_down_sql_is_caught() {
    // The real bug the lints found in a diesel project: diesel's own revert fails on it.
    let set = common::set(&[
        (
            "2017-08-31-230457_drop_email_index/up.sql",
            "DROP INDEX users_email;",
        ),
        (
            "2017-08-31-230457_drop_email_index/down.sql",
            "CREATE INDEX CONCURRENTLY users_email ON users (email);",
        ),
    ]);
    let failing = waterline_core::lint::failing(set.as_slice(), false);
    let found: Vec<(&str, &str)> = failing
        .iter()
        .map(|f| (f.rule.name, f.file.as_str()))
        .collect();
    assert_eq!(
        found,
        [(
            "needs-no-transaction",
            "migrations/2017-08-31-230457_drop_email_index/down.sql"
        )]
    );
}
