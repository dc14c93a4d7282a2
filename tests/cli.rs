//! The `streamvault` binary, run as an operator would: every `migrate` command on SQLite, and
//! on PostgreSQL and MariaDB when their URLs are set, asserting what it prints, its exit code
//! and the database afterwards.

mod common;

use std::path::Path;

use assert_cmd::Command;
use common::{Inspect, TestConnection};
use serde_json::Value;

/// The StreamVault tables, in migration order.
const TABLES: [&str; 9] = [
    "streamers",
    "streams",
    "recordings",
    "recording_settings",
    "global_proxy_settings",
    "push_subscriptions",
    "system_config",
    "proxy_health",
    "waterline_migrations",
];

/// What one run of the binary did.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn streamvault(url: &str, args: &[&str]) -> Run {
    streamvault_with(url, args, &[])
}

fn streamvault_with(url: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::cargo_bin("streamvault").unwrap();
    command
        .env_remove("DATABASE_URL")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE");
    command.arg("--database-url").arg(url).args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// Runs a command that must succeed, and returns its standard output.
fn ok(url: &str, args: &[&str]) -> String {
    let run = streamvault(url, args);
    assert_eq!(
        run.code, 0,
        "{args:?} failed:\n{}{}",
        run.stdout, run.stderr
    );
    run.stdout
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

fn states(status: &Value) -> Vec<String> {
    status["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["state"].as_str().unwrap().to_owned())
        .collect()
}

fn has_tables<C: TestConnection>(conn: &mut C) -> Vec<bool> {
    TABLES
        .iter()
        .map(|table| conn.table_exists(table))
        .collect()
}

on_every_backend! {
    fn up_applies_every_migration_and_status_shows_them(db) {
        let stdout = ok(&db.url, &["up"]);
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), 14, "{stdout}");
        assert!(lines[0].starts_with("applied 001 create_streamers (") && lines[0].ends_with(" ms)"), "{stdout}");
        assert!(lines[10].starts_with("applied 011 backfill_recording_settings ("), "{stdout}");
        // The two written in Rust; `up` runs the background one too.
        assert!(lines[11].starts_with("applied 012 add_codec_preferences ("), "{stdout}");
        assert!(lines[12].starts_with("applied 013 default_profile_images ("), "{stdout}");
        assert!(lines[13].starts_with("applied 13 migrations in "), "{stdout}");
        let mut conn = db.connect();
        assert!(has_tables(&mut conn).iter().all(|exists| *exists));
        assert_eq!(conn.rows("waterline_migrations").len(), 13);

        let table = ok(&db.url, &["status"]);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines[0], "VERSION  NAME                           STATE    APPLIED AT               DURATION");
        assert!(lines[1].starts_with("001      create_streamers               applied  20"), "{table}");
        assert!(lines[1].contains(" UTC  ") && lines[1].ends_with(" ms"), "{table}");
        assert_eq!(lines[14], "13 migrations: 13 applied (tracking table waterline_migrations)");
        assert!(!table.contains('\u{1b}'), "colour in piped output");

        assert_eq!(ok(&db.url, &["up"]), "nothing to do: every migration is applied\n");
        assert_eq!(conn.rows("waterline_migrations").len(), 13);
    }

    fn status_and_verify_speak_json_with_stable_fields(db) {
        let fresh = streamvault(&db.url, &["verify", "--json"]);
        assert_eq!(fresh.code, 3, "verify must fail on a fresh database");
        let verdict = json(&fresh.stdout);
        assert_eq!(verdict["ok"], false);
        assert_eq!(verdict["summary"]["pending"], 13);
        assert_eq!(verdict["problems"].as_array().unwrap().len(), 13);

        ok(&db.url, &["up", "--to", "3"]);
        let status = json(&ok(&db.url, &["status", "--json"]));
        assert_eq!(status["table"], "waterline_migrations");
        assert_eq!(states(&status), [&["applied"; 3][..], &["pending"; 10][..]].concat());
        let first = &status["migrations"][0];
        let mut keys: Vec<&str> = first.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["applied_at", "applied_by", "backfill", "checksum", "embedded_checksum", "error", "execution_ms", "file", "name", "state", "version", "version_text"]);
        assert_eq!((first["version"].as_u64(), first["version_text"].as_str()), (Some(1), Some("001")));
        assert_eq!(first["checksum"], first["embedded_checksum"]);
        assert_eq!(status["summary"]["applied"], 3);
        assert_eq!(status["summary"]["total"], 13);

        ok(&db.url, &["up"]);
        let verified = streamvault(&db.url, &["verify"]);
        assert_eq!((verified.code, verified.stdout.as_str()), (0, "13 migrations: 13 applied (tracking table waterline_migrations)\n"));
        assert_eq!(json(&ok(&db.url, &["verify", "--json"]))["ok"], true);
    }

    fn plan_and_dry_run_print_the_sql_and_change_nothing(db) {
        ok(&db.url, &["up", "--to", "3"]);
        let plan = ok(&db.url, &["plan"]);
        assert!(plan.starts_with("-- 004 add_recording_path_to_streams (migrations/004_add_recording_path_to_streams/up.sql), "), "{plan}");
        assert!(plan.contains("ALTER TABLE streams ADD COLUMN recording_path VARCHAR(1000);"), "{plan}");
        assert_eq!(plan.matches("\n-- 0").count() + 1, 10, "{plan}");
        assert!(plan.contains("\n-- 013 default_profile_images (migrations/013_default_profile_images.rs), outside a transaction, in the background\n-- Rust: the `up` function of migrations/013_default_profile_images.rs\n\n"), "{plan}");
        assert_eq!(ok(&db.url, &["up", "--dry-run"]), plan);
        let planned = json(&ok(&db.url, &["plan", "--json", "--to", "5"]));
        let versions: Vec<u64> = planned["migrations"].as_array().unwrap().iter().map(|m| m["version"].as_u64().unwrap()).collect();
        assert_eq!(versions, [4, 5]);
        assert!(planned["migrations"][1]["statements"][0].as_str().unwrap().contains(" recordings (\n"));
        let code = json(&ok(&db.url, &["plan", "--json"]));
        let last = code["migrations"].as_array().unwrap().last().unwrap().clone();
        assert_eq!((last["version"].as_u64(), last["rust"].as_bool(), last["background"].as_bool()), (Some(13), Some(true), Some(true)));
        assert_eq!(last["statements"].as_array().map(Vec::len), Some(0), "its SQL is the code's to decide");
        let mut conn = db.connect();
        assert_eq!(conn.rows("waterline_migrations").len(), 3, "plan changed the database");
        assert!(!conn.table_exists("recordings"));
    }

    fn down_redo_and_run_one(db) {
        ok(&db.url, &["up"]);
        let stdout = ok(&db.url, &["down"]);
        assert!(stdout.starts_with("reverted 013 default_profile_images (") && stdout.contains("\nreverted 1 migration in "), "{stdout}");
        let mut conn = db.connect();
        assert_eq!(conn.rows("waterline_migrations").len(), 12);
        assert!(!conn.column_exists("streamers", "profile_image"), "its `down` ran");
        let stdout = ok(&db.url, &["down", "--steps", "2"]);
        assert!(stdout.starts_with("reverted 012 add_codec_preferences (") && stdout.contains("\nreverted 011 backfill_recording_settings ("), "{stdout}");
        ok(&db.url, &["down", "--to", "4"]);
        assert_eq!(conn.rows("waterline_migrations").len(), 4);
        assert!(!conn.table_exists("recordings") && conn.table_exists("streams"));

        let redo = ok(&db.url, &["redo"]);
        assert!(redo.starts_with("reverted 004 add_recording_path_to_streams (") && redo.ends_with("redid 004 add_recording_path_to_streams\n"), "{redo}");
        assert_eq!(conn.rows("waterline_migrations").len(), 4);

        // One migration, out of order on purpose: 005 stays pending.
        let run = ok(&db.url, &["run", "6"]);
        assert!(run.contains("applied 006 create_recording_settings ("), "{run}");
        assert!(conn.table_exists("recording_settings") && !conn.table_exists("recordings"));
        let again = streamvault(&db.url, &["run", "6"]);
        assert_eq!(again.code, 1);
        assert!(again.stderr.contains("migration 006 `migrations/006_create_recording_settings` is already applied"), "{}", again.stderr);
        assert!(again.stderr.contains("`migrate run 6 --force`"), "{}", again.stderr);
        ok(&db.url, &["--allow-out-of-order", "up"]);
        let forced = streamvault(&db.url, &["run", "11", "--force"]);
        assert_eq!(forced.code, 0, "{}", forced.stderr);
        assert!(forced.stderr.contains("warning: migration 11 is already applied; running it again because of --force"));
        assert_eq!(conn.rows("waterline_migrations").len(), 13);
    }

    fn mark_repair_and_baseline(db) {
        let mut conn = db.connect();
        ok(&db.url, &["baseline", "2"]);
        assert!(!conn.table_exists("streamers"), "baseline ran SQL");
        assert_eq!(states(&json(&ok(&db.url, &["status", "--json"])))[..3], ["applied", "applied", "pending"]);
        assert_eq!(ok(&db.url, &["mark", "2", "unapplied"]), "recorded migration 2 as not applied; it is pending again\n");
        ok(&db.url, &["mark", "2", "applied"]);
        let unknown = streamvault(&db.url, &["mark", "99", "applied"]);
        assert_eq!(unknown.code, 1);
        assert!(unknown.stderr.starts_with("error: no migration with version 99 is embedded in this binary (embedded: 001 to 013)"), "{}", unknown.stderr);

        // An applied migration edited afterwards: its stored checksum no longer matches.
        let other = common::TestDb::<Conn>::new().unwrap();
        ok(&other.url, &["up"]);
        let mut conn = other.connect();
        conn.run(&format!("UPDATE waterline_migrations SET checksum = '{}' WHERE version = 1", "0".repeat(64)));
        let refused = streamvault(&other.url, &["up"]);
        assert_eq!(refused.code, 1);
        assert!(refused.stderr.starts_with("error: applied migration 001 `migrations/001_create_streamers` changed since it was applied: `waterline_migrations` records checksum 0000"), "{}", refused.stderr);
        assert!(ok(&other.url, &["status"]).lines().nth(1).unwrap().contains(" drifted "));
        assert_eq!(streamvault(&other.url, &["verify"]).code, 3);
        // Repair says which; a dry run changes nothing; one version repairs that one.
        let vague = streamvault(&other.url, &["repair"]);
        assert_eq!(vague.code, 2, "{}", vague.stderr);
        let dry = ok(&other.url, &["repair", "--all", "--dry-run"]);
        assert!(dry.starts_with("would accept the new checksum of 001 "), "{dry}");
        assert_eq!(streamvault(&other.url, &["verify"]).code, 3, "a dry run changed something");
        assert_eq!(ok(&other.url, &["repair", "2"]), "nothing to repair\n");
        let repaired = ok(&other.url, &["repair", "1"]);
        assert!(repaired.starts_with("accepted the new checksum of 001 `migrations/001_create_streamers` (0000"), "{repaired}");
        assert_eq!(streamvault(&other.url, &["verify"]).code, 0);

        // Versions as written in names, zero padding and all, name the same migration.
        assert_eq!(ok(&other.url, &["mark", "011", "unapplied"]), "recorded migration 11 as not applied; it is pending again\n");
        let bad = streamvault(&other.url, &["mark", "v11", "applied"]);
        assert_eq!(bad.code, 2, "{}", bad.stderr);
        assert!(bad.stderr.contains("`v11` is not a version"), "{}", bad.stderr);

        // diesel's table with a version this binary lacks: a refusal that names it and the fix.
        let adopted = common::TestDb::<Conn>::new().unwrap();
        let mut conn = adopted.connect();
        conn.run("CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL, run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)");
        conn.run("INSERT INTO __diesel_schema_migrations (version) VALUES ('001'), ('20240101000000')");
        for args in [&["baseline", "--from-diesel"][..], &["up"][..]] {
            let refused = streamvault(&adopted.url, args);
            assert_eq!(refused.code, 1, "{args:?}");
            assert!(refused.stderr.starts_with("error: `__diesel_schema_migrations` records a version this binary does not embed: 20240101000000; nothing was run or recorded"), "{}", refused.stderr);
        }
        assert!(!conn.table_exists("streamers"));
        conn.run("DELETE FROM __diesel_schema_migrations WHERE version IN ('20240101000000')");
        assert_eq!(ok(&adopted.url, &["baseline", "--from-diesel"]), "recorded 001 `migrations/001_create_streamers` as applied, without running it\nbaseline: 1 migrations recorded\n");
    }

    fn colour_only_on_request_and_never_with_no_color(db) {
        ok(&db.url, &["up"]);
        let forced = streamvault_with(&db.url, &["status"], &[("CLICOLOR_FORCE", "1")]);
        assert!(forced.stdout.contains("\u{1b}[32mapplied"), "{}", forced.stdout);
        let refused = streamvault_with(&db.url, &["status"], &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]);
        assert!(!refused.stdout.contains('\u{1b}'), "{}", refused.stdout);
    }
}

// Reaching the server needs its backend: without it the URL is refused first (exit code 2).
#[cfg(feature = "postgres")]
#[test]
fn a_password_never_shows_in_errors() {
    let run = streamvault(
        "postgres://app:hunter2@127.0.0.1:1/streamvault",
        &["status"],
    );
    // An unreachable database has its own exit code: an outage is not a typo.
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        !run.stderr.contains("hunter2") && !run.stdout.contains("hunter2"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("postgres://app:***@127.0.0.1:1/streamvault"),
        "{}",
        run.stderr
    );
}

#[test]
fn new_writes_the_next_migration_and_refuses_bad_names() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("migrations");
    common::copy_folder(Path::new("migrations"), &folder);
    let folder_arg = folder.to_str().unwrap();
    let refused = streamvault(
        "unused.db",
        &["new", "AddStreamThumbnails", "--dir", folder_arg],
    );
    assert_eq!(refused.code, 2);
    assert_eq!(
        refused.stderr,
        format!(
            "error: invalid migration name `{folder_arg}/014_AddStreamThumbnails`: wrong case, names are lowercase \
             snake_case; rename it to `014_add_stream_thumbnails`\n"
        )
    );
    assert!(!folder.join("014_AddStreamThumbnails").exists());

    let stdout = ok(
        "unused.db",
        &["new", "add_stream_thumbnails", "--dir", folder_arg],
    );
    assert_eq!(
        stdout,
        format!(
            "created {folder_arg}/014_add_stream_thumbnails/up.sql\ncreated {folder_arg}/014_add_stream_thumbnails/down.sql\n\
             write its SQL, then build: the build fails until the migration holds a statement\n"
        )
    );
    let up = std::fs::read_to_string(folder.join("014_add_stream_thumbnails/up.sql")).unwrap();
    assert!(up.starts_with("-- 014 add_stream_thumbnails: "), "{up}");
    // Until its SQL is written, the folder does not compile, and `new` says why.
    let unfinished = streamvault("unused.db", &["new", "another", "--dir", folder_arg]);
    assert_eq!(unfinished.code, 2);
    assert!(
        unfinished
            .stderr
            .contains("has no SQL: it is empty or holds only comments"),
        "{}",
        unfinished.stderr
    );
}

#[cfg(feature = "sqlite")]
#[test]
fn an_old_replica_boots_past_expand_migrations_and_refuses_a_contract() {
    use diesel::Connection;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    let url = db.to_str().unwrap();
    ok(url, &["up"]);
    // A newer build applied 014, which this one does not embed.
    let mut conn = diesel::SqliteConnection::establish(url).unwrap();
    conn.run(
        "INSERT INTO waterline_migrations (version, name, checksum, checksum_algorithm, status, \
         started_at, applied_by, transactional, class) SELECT 14, 'add_stream_thumbnails', checksum, \
         checksum_algorithm, 'applied', started_at, 'newer', 1, 'expand' FROM waterline_migrations \
         WHERE version = 11",
    );
    let up = streamvault(url, &["up"]);
    assert_eq!(up.code, 0, "{}", up.stderr);
    assert!(
        up.stderr.starts_with("warning: the database is ahead of this binary: it records 14 `add_stream_thumbnails` as applied, which this binary does not embed; going on, as each only adds to the schema (expand)"),
        "{}",
        up.stderr
    );
    assert_eq!(streamvault(url, &["verify"]).code, 0, "verify agrees");
    assert_eq!(streamvault(url, &["--ahead", "refuse", "verify"]).code, 3);
    conn.run("UPDATE waterline_migrations SET class = 'contract' WHERE version = 14");
    let refused = streamvault(url, &["up"]);
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("it is a contract migration"),
        "{}",
        refused.stderr
    );
    assert!(
        refused
            .stderr
            .ends_with("or run with `--ignore-missing` to go on\n"),
        "{}",
        refused.stderr
    );
    assert_eq!(streamvault(url, &["verify"]).code, 3, "verify agrees");
}

#[test]
fn the_default_database_is_the_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::cargo_bin("streamvault").unwrap();
    let output = command
        .env_remove("DATABASE_URL")
        .current_dir(dir.path())
        .arg("up")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dir.path().join("streamvault.db").is_file());
}

#[cfg(not(feature = "postgres"))]
#[test]
fn a_backend_not_compiled_in_names_its_feature() {
    let run = streamvault("postgres://app@127.0.0.1:5432/streamvault", &["status"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "error: the database URL `postgres://app@127.0.0.1:5432/streamvault` is for PostgreSQL, but this binary was \
         built without waterline's `postgres` feature; enable it, or use another URL\n"
    );
}

#[test]
fn lint_shows_advice_and_strict_fails_on_it() {
    assert_eq!(
        ok("unused.db", &["lint"]),
        "13 migrations checked: 0 findings, 0 statements the parser could not read\n"
    );
    let strict = streamvault(
        "unused.db",
        &["lint", "--dir", "tests/fixtures/lint-strict", "--strict"],
    );
    assert_eq!(strict.code, 3);
    assert!(
        strict.stdout.starts_with("advice: `tests/fixtures/lint-strict/002_drop_title.sql` line 1: `DROP COLUMN title` on `streams` [drop-column]: "),
        "{}",
        strict.stdout
    );
    assert!(strict
        .stdout
        .ends_with("2 migrations checked: 1 finding, 0 statements the parser could not read\n"));
    assert_eq!(
        streamvault(
            "unused.db",
            &["lint", "--dir", "tests/fixtures/lint-strict"]
        )
        .code,
        0
    );
}

#[test]
fn lint_names_the_files_a_diesel_folder_does_not_run() {
    let run = streamvault("unused.db", &["lint", "--dir", "tests/fixtures/diesel"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let advice: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("advice: "))
        .collect();
    assert!(
        advice.contains(&"advice: `tests/fixtures/diesel/backfill_data.sql` is not a migration: in diesel's layout a migration is a directory, so this file is neither embedded nor run, as with diesel_migrations"),
        "{}",
        run.stdout
    );
    assert!(
        advice.iter().any(|l| l.starts_with("advice: `tests/fixtures/diesel/2017-08-31-230457_tag_users/down.sql` has no SQL, so the migration is irreversible")),
        "{}",
        run.stdout
    );
    let strict = streamvault(
        "unused.db",
        &["lint", "--dir", "tests/fixtures/diesel", "--strict"],
    );
    assert_eq!(
        strict.code, 3,
        "notices fail a strict lint, as they fail `lint = strict`"
    );
}

// The lints read the scripts of the backends compiled in: the unreadable one is MySQL's.
#[cfg(feature = "mysql")]
#[test]
fn lint_lists_the_statements_it_could_not_check() {
    let stdout = ok(
        "unused.db",
        &[
            "lint",
            "--dir",
            "tests/fixtures/unparseable-sql",
            "--unchecked",
        ],
    );
    let unchecked: Vec<&str> = stdout
        .lines()
        .filter(|line| line.starts_with("not checked: "))
        .collect();
    assert_eq!(unchecked.len(), 2, "{stdout}");
    assert!(
        unchecked[0].starts_with(
            "not checked: `tests/fixtures/unparseable-sql/002_touch/up.mysql.sql` line 2: "
        ),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("2 statements the parser could not read\n"),
        "{stdout}"
    );
}

/// The URL with a password put in after the user name.
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn with_password(url: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (user, host) = rest.split_once('@').unwrap();
    format!("{scheme}://{user}:{password}@{host}")
}

#[cfg(feature = "postgres")]
#[test]
fn a_password_never_shows_in_output_of_any_command() {
    let Some(db) = common::TestDb::<diesel::PgConnection>::new() else {
        return;
    };
    // The test server trusts local connections, so any password is accepted.
    let url = with_password(&db.url, "s3cret-pw");
    for args in [
        &["up"][..],
        &["status"],
        &["status", "--json"],
        &["verify", "--json"],
        &["plan"],
        &["mark", "99", "applied"],
        &["down", "--to", "0"],
    ] {
        let run = streamvault(&url, args);
        assert!(
            !run.stdout.contains("s3cret-pw") && !run.stderr.contains("s3cret-pw"),
            "{args:?} showed the password"
        );
    }
}

#[cfg(feature = "mysql")]
#[test]
fn a_refused_password_is_not_repeated_in_the_error() {
    let Some(db) = common::TestDb::<diesel::MysqlConnection>::new() else {
        return;
    };
    let run = streamvault(&with_password(&db.url, "s3cret-pw"), &["status"]);
    assert_eq!(run.code, 4, "a refused login is an unreachable database");
    assert!(!run.stderr.contains("s3cret-pw"), "{}", run.stderr);
    assert!(run.stderr.contains("root:***@127.0.0.1"), "{}", run.stderr);
}

/// Database URLs are parsed, never guessed: an unknown form is a usage error that names the
/// accepted ones, a password is hidden wherever it sits, and a command that only reads never
/// creates a database.
mod urls {
    use super::*;

    #[test]
    fn an_unknown_form_is_a_usage_error_and_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        for url in [
            "postgress://app:hunter2@127.0.0.1/prod",
            "streamvault",
            "redis://127.0.0.1",
        ] {
            let mut command = Command::cargo_bin("streamvault").unwrap();
            let output = command
                .current_dir(dir.path())
                .env_remove("DATABASE_URL")
                .args(["--database-url", url, "up"])
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{url}: {stderr}");
            assert!(
                stderr.contains("sqlite://path") && !stderr.contains("hunter2"),
                "{url}: {stderr}"
            );
        }
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "a file was created"
        );
    }

    #[test]
    fn a_password_with_an_unencoded_slash_is_refused_without_showing_it() {
        for url in [
            "postgres://app:hunt/er2@127.0.0.1/prod",
            "mysql://root:hunt/er2@127.0.0.1/prod",
            "postgres://app:hunt?er2@127.0.0.1/prod",
        ] {
            let run = streamvault(url, &["status"]);
            assert_eq!(run.code, 2, "{url}: {}", run.stderr);
            assert!(
                run.stderr.contains("percent-encoded") && !run.stderr.contains("er2"),
                "{url}: {}",
                run.stderr
            );
        }
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn a_password_in_the_query_or_a_keyword_string_never_shows() {
        for url in [
            "postgres://127.0.0.1:1/prod?password=hunter2",
            "host=127.0.0.1 port=1 user=app password=hunter2 dbname=prod",
        ] {
            let run = streamvault(url, &["status"]);
            assert_eq!(run.code, 4, "{url}: {}", run.stderr);
            assert!(
                run.stderr.contains("password=***") && !run.stderr.contains("hunter2"),
                "{url}: {}",
                run.stderr
            );
        }
    }

    #[test]
    fn a_read_only_command_never_creates_a_sqlite_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent.db");
        let url = format!("sqlite://{}", path.display());
        // Read as the empty database it would be: every migration pending.
        for (command, code) in [("status", 0), ("verify", 3), ("plan", 0)] {
            let run = streamvault(&url, &[command]);
            assert_eq!(run.code, code, "{command}: {}", run.stderr);
            assert!(!path.exists(), "`{command}` created the database");
        }
        let run = streamvault("sqlite::memory:", &["up"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(!Path::new(":memory:").exists() && !dir.path().join(":memory:").exists());
    }
}

#[test]
fn the_debug_of_the_command_hides_the_password() {
    use clap::Parser;
    #[derive(Parser)]
    struct Tool {
        #[command(flatten)]
        migrate: waterline::cli::MigrateCommand,
    }
    let tool = Tool::parse_from([
        "tool",
        "--database-url",
        "postgres://app:hunter2@db.internal/prod",
        "status",
    ]);
    let shown = format!("{:?}", tool.migrate);
    assert!(
        shown.contains("postgres://app:***@db.internal/prod") && !shown.contains("hunter2"),
        "{shown}"
    );
}

/// The command uses the app's own runner: its tracking table and policies, each flag given on
/// the command line overriding its one setting.
#[cfg(feature = "sqlite")]
mod one_source_of_settings {
    use super::*;
    use clap::Parser;
    use std::process::ExitCode;

    #[derive(Parser)]
    struct Tool {
        #[command(flatten)]
        migrate: waterline::cli::MigrateCommand,
    }

    static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!();

    fn run(args: &[&str], runner: waterline::Runner<'static>, url: &str) -> ExitCode {
        let mut all = vec!["tool", "--database-url", url];
        all.extend(args);
        Tool::parse_from(all).migrate.run_with(runner, None)
    }

    #[test]
    fn the_apps_tracking_table_is_the_commands() {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("app.db").display().to_string();
        let apps = || MIGRATIONS.runner().table("applied_migrations");
        assert_eq!(run(&["up"], apps(), &url), ExitCode::SUCCESS);
        assert_eq!(run(&["verify"], apps(), &url), ExitCode::SUCCESS);
        let mut conn = <diesel::SqliteConnection as diesel::Connection>::establish(&url).unwrap();
        assert!(
            conn.table_exists("applied_migrations") && !conn.table_exists("waterline_migrations")
        );
        // A flag overrides its one setting.
        assert_eq!(
            run(&["--table", "other_migrations", "verify"], apps(), &url),
            ExitCode::from(3)
        );
    }

    #[test]
    fn ignore_missing_means_the_same_on_verify_and_status() {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("app.db").display().to_string();
        ok(&url, &["up"]);
        let mut conn = <diesel::SqliteConnection as diesel::Connection>::establish(&url).unwrap();
        conn.run(
            "INSERT INTO waterline_migrations (version, name, checksum, checksum_algorithm, status, started_at, applied_by, transactional) \
             VALUES (99, 'from_a_newer_binary', 'x', 'sha256-lf-v1', 'applied', '2026-11-22T01:02:03Z', 'web-9', 1)",
        );
        let strict = streamvault(&url, &["verify"]);
        assert_eq!(strict.code, 3, "{}", strict.stderr);
        assert!(
            strict
                .stdout
                .contains("  99 from_a_newer_binary: missing from binary"),
            "{}",
            strict.stdout
        );
        let tolerant = streamvault(&url, &["--ignore-missing", "verify"]);
        assert_eq!(tolerant.code, 0, "{}{}", tolerant.stdout, tolerant.stderr);
        let json = streamvault(&url, &["--ignore-missing", "verify", "--json"]);
        assert_eq!(
            (json.code, super::json(&json.stdout)["ok"].clone()),
            (0, Value::Bool(true))
        );
        // And a runner that ignores them says the same without the flag.
        assert_eq!(
            run(&["verify"], MIGRATIONS.runner().ignore_missing(true), &url),
            ExitCode::SUCCESS
        );
    }
}

/// What operators expect of a command: `.env`, completions, help with examples and exit codes.
mod operator_comforts {
    use super::*;

    fn in_dir(dir: &Path, args: &[&str]) -> Run {
        let mut command = Command::cargo_bin("streamvault").unwrap();
        let output = command
            .current_dir(dir)
            .env_remove("DATABASE_URL")
            .args(args)
            .output()
            .unwrap();
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    #[test]
    fn database_url_comes_from_a_dotenv_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(".env"),
            "DATABASE_URL=sqlite://from-dotenv.db\n",
        )
        .unwrap();
        let run = in_dir(dir.path(), &["up"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(
            dir.path().join("from-dotenv.db").exists(),
            "the .env URL was not used"
        );
        assert!(!dir.path().join("streamvault.db").exists());
    }

    #[test]
    fn completions_for_each_shell() {
        let dir = tempfile::tempdir().unwrap();
        for (shell, marker) in [
            ("bash", "complete -F"),
            ("zsh", "#compdef streamvault"),
            ("fish", "complete -c streamvault"),
        ] {
            let run = in_dir(dir.path(), &["completions", shell]);
            assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
            assert!(
                run.stdout.contains(marker) && run.stdout.contains("verify"),
                "{shell}: {}",
                run.stdout
            );
        }
    }

    #[test]
    fn help_shows_examples_and_exit_codes() {
        let dir = tempfile::tempdir().unwrap();
        let run = in_dir(dir.path(), &["--help"]);
        assert_eq!(run.code, 0);
        assert!(
            run.stdout.contains("Examples:\n  migrate status"),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout.contains("4 the database could\nnot be reached"),
            "{}",
            run.stdout
        );
    }
}

#[test]
fn an_invalid_table_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().join("app.db").display().to_string();
    let run = streamvault(&url, &["--table", "x; DROP TABLE y", "status"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("invalid tracking table name `x; DROP TABLE y`"),
        "{}",
        run.stderr
    );
}
