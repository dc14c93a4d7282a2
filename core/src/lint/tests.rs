//! Each rule, firing and quiet.

use std::fs;

use super::{failing, lint, Finding, LintReport};
use crate::read_folder;

fn report(files: &[(&str, &str)]) -> LintReport {
    let dir = tempfile::tempdir().unwrap();
    for (path, sql) in files {
        let path = dir.path().join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, sql).unwrap();
    }
    let migrations = read_folder(dir.path(), "migrations").unwrap();
    let report = lint(&migrations);
    for strict in [false, true] {
        let in_full: Vec<Finding> = report.failing(strict).cloned().collect();
        assert_eq!(failing(&migrations, strict), in_full, "strict: {strict}");
    }
    report
}

/// `(rule, file, line)` of each finding.
fn found(files: &[(&str, &str)]) -> Vec<(&'static str, String, usize)> {
    report(files)
        .findings
        .into_iter()
        .map(|f| (f.rule.name, f.file, f.line))
        .collect()
}

fn rules(files: &[(&str, &str)]) -> Vec<&'static str> {
    found(files).into_iter().map(|(rule, _, _)| rule).collect()
}

/// A table the migrations below alter: created in an earlier migration.
const STREAMS: (&str, &str) = (
    "001_streams.sql",
    "CREATE TABLE IF NOT EXISTS streams (id INTEGER, title TEXT);",
);

#[test]
fn concurrently_in_a_transaction_is_an_error_with_its_line() {
    let files = [
        STREAMS,
        (
            "002_index.sql",
            "-- index it\n\nCREATE INDEX CONCURRENTLY streams_title ON streams (title);",
        ),
    ];
    assert_eq!(
        found(&files),
        [(
            "needs-no-transaction",
            "migrations/002_index.sql".to_owned(),
            3
        )]
    );
    let message = report(&files).findings[0].to_string();
    assert_eq!(
        message,
        "`migrations/002_index.sql` line 3: `CREATE INDEX CONCURRENTLY` in a file that runs in a transaction \
         [needs-no-transaction]: it cannot run inside a transaction, and waterline runs this file in one, so the \
         migration always fails; add `-- waterline:no-transaction` at the top of the file, or allow it with \
         `-- waterline:allow(needs-no-transaction)` at the top of the file"
    );
}

#[test]
fn concurrently_with_no_transaction_is_quiet() {
    let files = [STREAMS, ("002_index.sql", "-- waterline:no-transaction\nCREATE INDEX CONCURRENTLY a ON streams (title);\nCREATE INDEX CONCURRENTLY b ON streams (id);")];
    assert_eq!(rules(&files), Vec::<&str>::new());
}

#[test]
fn other_statements_that_refuse_transactions() {
    for sql in [
        "DROP INDEX CONCURRENTLY streams_title;",
        "VACUUM;",
        "REINDEX INDEX CONCURRENTLY i;",
    ] {
        assert_eq!(
            rules(&[STREAMS, ("002_x.sql", sql)]),
            ["needs-no-transaction"],
            "{sql}"
        );
    }
    // MySQL runs no migration in a transaction that VACUUM would mind, and has no CONCURRENTLY.
    let mysql_only = [
        STREAMS,
        ("002_x/up.sql", "SELECT 1;"),
        ("002_x/up.mysql.sql", "SELECT 1;"),
        ("002_x/up.postgres.sql", "SELECT 1;"),
        ("002_x/up.sqlite.sql", "VACUUM;"),
    ];
    assert_eq!(rules(&mysql_only), ["needs-no-transaction"]);
}

#[test]
fn concurrently_between_begin_and_commit_of_a_no_transaction_file() {
    let sql = "-- waterline:no-transaction\nBEGIN;\nCREATE INDEX CONCURRENTLY a ON streams (title);\nCOMMIT;";
    assert_eq!(
        rules(&[STREAMS, ("002_x.sql", sql)]),
        ["implicit-transaction"]
    );
    let quiet = "-- waterline:no-transaction\nBEGIN;\nUPDATE streams SET title = '';\nCOMMIT;\nCREATE INDEX CONCURRENTLY a ON streams (title);";
    assert_eq!(rules(&[STREAMS, ("002_x.sql", quiet)]), Vec::<&str>::new());
}

#[test]
fn not_null_without_default_on_an_existing_table() {
    let files = [
        STREAMS,
        (
            "002_x.sql",
            "ALTER TABLE streams ADD COLUMN codec VARCHAR(10) NOT NULL;",
        ),
    ];
    assert_eq!(rules(&files), ["add-not-null-without-default"]);
    let quiet = [
        "ALTER TABLE streams ADD COLUMN codec VARCHAR(10) NOT NULL DEFAULT 'h264';",
        "ALTER TABLE streams ADD COLUMN codec VARCHAR(10);",
        "CREATE TABLE IF NOT EXISTS codecs (id INTEGER);\nALTER TABLE codecs ADD COLUMN name TEXT NOT NULL;",
    ];
    for sql in quiet {
        assert_eq!(
            rules(&[STREAMS, ("002_x.sql", sql)]),
            Vec::<&str>::new(),
            "{sql}"
        );
    }
}

#[test]
fn transaction_control_in_a_transactional_file() {
    for sql in [
        "BEGIN;\nUPDATE streams SET title = '';\nCOMMIT;",
        "START TRANSACTION;\nUPDATE streams SET title = '';\nROLLBACK;",
    ] {
        assert_eq!(
            rules(&[STREAMS, ("002_x.sql", sql)]),
            ["transaction-control", "transaction-control"],
            "{sql}"
        );
    }
    let trigger = "CREATE TRIGGER stamp AFTER INSERT ON streams BEGIN\n  UPDATE streams SET title = 'x' WHERE id = NEW.id;\nEND;";
    assert_eq!(
        rules(&[STREAMS, ("002_x.sql", trigger)]),
        Vec::<&str>::new()
    );
    let savepoint = "SAVEPOINT a;\nUPDATE streams SET title = '';\nROLLBACK TO SAVEPOINT a;";
    assert_eq!(
        rules(&[STREAMS, ("002_x.sql", savepoint)]),
        Vec::<&str>::new()
    );
}

#[test]
fn every_statement_that_ends_or_hands_over_a_transaction_is_transaction_control() {
    for sql in [
        "ABORT;",
        "abort work;",
        "END;",
        "END TRANSACTION;",
        "end work;",
        "COMMIT AND CHAIN;",
        "ROLLBACK AND CHAIN;",
        "COMMIT WORK;",
        "PREPARE TRANSACTION 'x';",
        "COMMIT PREPARED 'x';",
        "ROLLBACK PREPARED 'x';",
        "XA START 'x';",
        "XA END 'x';",
        "XA PREPARE 'x';",
        "XA COMMIT 'x';",
        "XA ROLLBACK 'x';",
        "BEGIN READ WRITE;",
    ] {
        let file = format!("UPDATE streams SET title = '';\n{sql}");
        assert_eq!(
            found(&[STREAMS, ("002_x.sql", &file)]),
            [("transaction-control", "migrations/002_x.sql".to_owned(), 2)],
            "{sql}"
        );
    }
}

#[test]
fn savepoints_prepared_statements_and_bodies_are_not_transaction_control() {
    for sql in [
        "SAVEPOINT a;\nROLLBACK TO SAVEPOINT a;\nROLLBACK WORK TO a;\nRELEASE SAVEPOINT a;",
        "PREPARE get AS SELECT 1;\nEXECUTE get;",
        "SET autocommit = 1;",
        "CREATE TRIGGER stamp AFTER INSERT ON streams BEGIN\n  UPDATE streams SET title = CASE WHEN id > 0 THEN 'x' END;\nEND;\nSELECT 1;",
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n  SELECT CASE WHEN true THEN 2 END;\nEND;\nSELECT f();",
        "CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO streams VALUES (1, 'a'); END;",
    ] {
        assert_eq!(
            rules(&[STREAMS, ("002_x.sql", sql)]),
            Vec::<&str>::new(),
            "{sql}"
        );
    }
}

#[test]
fn a_chained_commit_keeps_a_no_transaction_file_in_a_transaction() {
    let sql = "-- waterline:no-transaction\nBEGIN;\nUPDATE streams SET title = '';\nCOMMIT AND CHAIN;\nCREATE INDEX CONCURRENTLY a ON streams (title);\nCOMMIT;";
    assert_eq!(
        rules(&[STREAMS, ("002_x.sql", sql)]),
        ["implicit-transaction"]
    );
}

#[test]
fn copy_from_stdin_fails_on_every_backend_even_without_a_transaction() {
    for sql in [
        "COPY streams FROM stdin;",
        "copy streams (id, title) FROM STDIN WITH (FORMAT csv);",
        "-- waterline:no-transaction\nCOPY streams FROM stdin;\n1\tone\n\\.\n",
        "SELECT 1;\n\\copy streams FROM 'streams.csv' CSV\nSELECT 2;",
    ] {
        assert_eq!(
            rules(&[STREAMS, ("002_x.sql", sql)]),
            ["copy-from-stdin"],
            "{sql}"
        );
    }
    let variants = [
        STREAMS,
        ("002_x/up.sql", "SELECT 1;"),
        ("002_x/up.mysql.sql", "COPY streams FROM STDIN;"),
        ("002_x/up.sqlite.sql", "COPY streams FROM STDIN;"),
    ];
    assert_eq!(rules(&variants), ["copy-from-stdin", "copy-from-stdin"]);
    for quiet in [
        "COPY streams FROM '/var/lib/stdin';\nCOPY streams FROM 'stdin';\nCOPY streams TO STDOUT;",
        "-- waterline:allow(copy-from-stdin)\nCOPY streams FROM stdin;",
    ] {
        assert_eq!(
            rules(&[STREAMS, ("002_x.sql", quiet)]),
            Vec::<&str>::new(),
            "{quiet}"
        );
    }
}

#[test]
fn copy_from_stdin_message() {
    let files = [
        STREAMS,
        ("002_x.sql", "SELECT 1;\nCOPY streams FROM stdin;"),
    ];
    assert_eq!(
        report(&files).findings[0].to_string(),
        "`migrations/002_x.sql` line 2: `COPY ... FROM STDIN` [copy-from-stdin]: only psql sends \
         the rows for it (the lines after it, or a file on the client), and waterline sends the \
         file through a database driver, so the rows never arrive: the server waits for them or \
         the statement fails; put the rows in INSERT statements, or COPY from a server-side file \
         with `COPY t FROM '/path'`, or load the data in application code, or allow it with \
         `-- waterline:allow(copy-from-stdin)` at the top of the file"
    );
}

#[test]
fn psql_meta_commands_fail() {
    for sql in [
        "\\set ON_ERROR_STOP on\nSELECT 1;",
        "SELECT 1;\n  \\i other.sql\n",
    ] {
        assert_eq!(
            rules(&[STREAMS, ("002_x.sql", sql)]),
            ["psql-meta-command"],
            "{sql}"
        );
    }
    let in_a_string = "INSERT INTO streams VALUES (1, 'a\n\\set b');";
    assert_eq!(
        rules(&[STREAMS, ("002_x.sql", in_a_string)]),
        Vec::<&str>::new()
    );
}

#[test]
fn allow_silences_a_rule_for_its_file() {
    let sql = "-- waterline:allow(add-not-null-without-default)\nALTER TABLE streams ADD COLUMN codec VARCHAR(10) NOT NULL;";
    assert_eq!(rules(&[STREAMS, ("002_x.sql", sql)]), Vec::<&str>::new());
}

#[test]
fn advice_on_drops_and_renames() {
    assert_eq!(
        rules(&[STREAMS, ("002_x.sql", "DROP TABLE IF EXISTS streams;")]),
        ["drop-table"]
    );
    assert_eq!(
        rules(&[
            STREAMS,
            ("002_x.sql", "ALTER TABLE streams DROP COLUMN title;")
        ]),
        ["drop-column"]
    );
    assert_eq!(
        rules(&[
            STREAMS,
            (
                "002_x.sql",
                "ALTER TABLE streams RENAME COLUMN title TO name;"
            )
        ]),
        ["rename-column"]
    );
    assert_eq!(
        rules(&[
            STREAMS,
            ("002_x.sql", "ALTER TABLE streams RENAME TO broadcasts;")
        ]),
        ["rename-table"]
    );
    // In a down script, dropping is the point.
    let reversible = [
        STREAMS,
        (
            "002_x/up.sql",
            "CREATE TABLE IF NOT EXISTS extra (id INTEGER);",
        ),
        ("002_x/down.sql", "DROP TABLE IF EXISTS extra;"),
    ];
    assert_eq!(rules(&reversible), Vec::<&str>::new());
}

#[test]
fn postgres_advice_on_indexes_and_foreign_keys() {
    let index = [
        STREAMS,
        ("002_x/up.sql", "SELECT 1;"),
        (
            "002_x/up.postgres.sql",
            "CREATE INDEX a ON streams (title);",
        ),
    ];
    assert_eq!(rules(&index), ["index-without-concurrently"]);
    let new_table = [
        ("001_x/up.sql", "SELECT 1;"),
        (
            "001_x/up.postgres.sql",
            "CREATE TABLE t (id INTEGER);\nCREATE INDEX a ON t (id);",
        ),
    ];
    assert_eq!(rules(&new_table), Vec::<&str>::new());
    let fk = "ALTER TABLE streams ADD CONSTRAINT fk FOREIGN KEY (id) REFERENCES other (id);";
    let files = [
        STREAMS,
        ("002_x/up.sql", "SELECT 1;"),
        ("002_x/up.postgres.sql", fk),
    ];
    assert_eq!(rules(&files), ["foreign-key-without-not-valid"]);
    let not_valid = format!("{} NOT VALID;", fk.trim_end_matches(';'));
    assert_eq!(
        rules(&[
            STREAMS,
            ("002_x/up.sql", "SELECT 1;"),
            ("002_x/up.postgres.sql", &not_valid)
        ]),
        Vec::<&str>::new()
    );
}

#[test]
fn down_that_leaves_what_up_created() {
    let files = [("001_x/up.sql", "CREATE TABLE IF NOT EXISTS a (id INTEGER);\nCREATE TABLE IF NOT EXISTS b (id INTEGER);"), ("001_x/down.sql", "DROP TABLE IF EXISTS a;")];
    assert_eq!(
        found(&files),
        [(
            "down-does-not-undo",
            "migrations/001_x/up.sql".to_owned(),
            2
        )]
    );
    let column = [
        STREAMS,
        ("002_x/up.sql", "ALTER TABLE streams ADD COLUMN codec TEXT;"),
        ("002_x/down.sql", "SELECT 1;"),
    ];
    assert_eq!(rules(&column), ["down-does-not-undo"]);
    let undone = [
        STREAMS,
        ("002_x/up.sql", "ALTER TABLE streams ADD COLUMN codec TEXT;"),
        ("002_x/down.sql", "ALTER TABLE streams DROP COLUMN codec;"),
    ];
    assert_eq!(rules(&undone), Vec::<&str>::new());
}

/// `down-does-not-undo` findings of one migration directory `001_x` with these scripts.
fn undo_findings(up: &str, down: &str) -> Vec<String> {
    let report = report(&[("001_x/up.sql", up), ("001_x/down.sql", down)]);
    report
        .findings
        .into_iter()
        .filter(|f| f.rule.name == "down-does-not-undo")
        .map(|f| f.what)
        .collect()
}

#[test]
fn down_does_not_undo_knows_the_ways_real_downs_undo() {
    // DROP INDEX CONCURRENTLY, which the parser may not read.
    assert_eq!(
        undo_findings(
            "CREATE INDEX CONCURRENTLY streams_codec ON streams (codec);",
            "DROP INDEX CONCURRENTLY IF EXISTS streams_codec;"
        ),
        Vec::<String>::new()
    );
    // A materialized view takes its indexes with it.
    assert_eq!(
        undo_findings(
            "CREATE MATERIALIZED VIEW totals AS SELECT 1 AS n;\n\
             CREATE UNIQUE INDEX totals_n ON totals (n);",
            "DROP MATERIALIZED VIEW totals;"
        ),
        Vec::<String>::new()
    );
    // A schema dropped with CASCADE takes everything in it.
    assert_eq!(
        undo_findings(
            "CREATE SCHEMA audit;\nCREATE TABLE audit.events (id INTEGER);\n\
             CREATE INDEX events_id ON audit.events (id);",
            "DROP SCHEMA audit CASCADE;"
        ),
        Vec::<String>::new()
    );
    // A table built under a new name and renamed into place is dropped by its final name.
    assert_eq!(
        undo_findings(
            "CREATE TABLE users_new (id INTEGER);\nALTER TABLE users_new RENAME TO users;",
            "DROP TABLE users;"
        ),
        Vec::<String>::new()
    );
    // A down that renames a table and drops it under the new name undoes it too.
    assert_eq!(
        undo_findings(
            "CREATE TABLE users (id INTEGER);",
            "ALTER TABLE users RENAME TO users_old;\nDROP TABLE users_old;"
        ),
        Vec::<String>::new()
    );
    // A temporary table, or one up.sql drops itself, is not left behind.
    assert_eq!(
        undo_findings(
            "CREATE TEMPORARY TABLE scratch (id INTEGER);\n\
             CREATE TABLE staging (id INTEGER);\nDROP TABLE staging;",
            "SELECT 1;"
        ),
        Vec::<String>::new()
    );
    // What is really left behind is still found.
    assert_eq!(
        undo_findings("CREATE TABLE kept (id INTEGER);", "DROP TABLE other;"),
        ["table `kept` created here is not dropped by `migrations/001_x/down.sql`"]
    );
}

#[test]
fn an_app_gets_the_advice_of_the_backends_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("001_x.sql"), "CREATE TABLE t (id INTEGER);").unwrap();
    fs::create_dir(dir.path().join("002_y")).unwrap();
    fs::write(dir.path().join("002_y/up.sql"), "SELECT 1;").unwrap();
    fs::write(
        dir.path().join("002_y/up.postgres.sql"),
        "CREATE INDEX CONCURRENTLY i ON t (id);",
    )
    .unwrap();
    let migrations = read_folder(dir.path(), "migrations").unwrap();
    let names = |report: LintReport| -> Vec<&'static str> {
        report.findings.iter().map(|f| f.rule.name).collect()
    };
    // Every backend: MySQL's advice on the shared file, PostgreSQL's error on its variant.
    assert_eq!(
        names(lint(&migrations)),
        ["non-idempotent-ddl", "needs-no-transaction"]
    );
    use crate::Backend::{Mysql, Postgres, Sqlite};
    assert_eq!(
        names(super::lint_for(&migrations, &[Postgres])),
        ["needs-no-transaction"]
    );
    assert_eq!(
        names(super::lint_for(&migrations, &[Mysql, Sqlite])),
        ["non-idempotent-ddl"]
    );
    assert!(super::failing_for(&migrations, false, &[Sqlite]).is_empty());
}

#[test]
fn non_idempotent_ddl_where_mysql_runs_it() {
    assert_eq!(
        rules(&[("001_x.sql", "CREATE TABLE t (id INTEGER);")]),
        ["non-idempotent-ddl"]
    );
    let elsewhere = [
        ("001_x/up.sql", "CREATE TABLE t (id INTEGER);"),
        (
            "001_x/up.mysql.sql",
            "CREATE TABLE IF NOT EXISTS t (id INTEGER);",
        ),
    ];
    assert_eq!(rules(&elsewhere), Vec::<&str>::new());
}

#[test]
fn unparseable_statements_are_reported_unchecked_never_found() {
    let plpgsql = "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  NEW.updated_at := now();\n  RETURN NEW;\nEND;\n$$;\nCREATE TABLE IF NOT EXISTS ok (id INTEGER);";
    let report = report(&[
        ("001_x/up.sql", "SELECT 1;"),
        ("001_x/up.postgres.sql", plpgsql),
    ]);
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    let mysql = report_unchecked(&[("001_x/up.sql", "SELECT 1;"), ("001_x/up.mysql.sql", "CREATE EVENT purge ON SCHEDULE EVERY 1 DAY DO DELETE FROM streams;\nOPTIMIZE TABLE streams;")]);
    assert_eq!(
        mysql,
        [
            ("migrations/001_x/up.mysql.sql".to_owned(), 1),
            ("migrations/001_x/up.mysql.sql".to_owned(), 2)
        ]
    );
}

fn report_unchecked(files: &[(&str, &str)]) -> Vec<(String, usize)> {
    let report = report(files);
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    report
        .unchecked
        .into_iter()
        .map(|u| (u.file, u.line))
        .collect()
}

#[test]
fn a_build_parses_only_scripts_an_error_rule_could_fire_on() {
    use super::rules::may_break;
    let quiet = "CREATE TABLE t (id INTEGER NOT NULL, notes TEXT);\nCREATE INDEX t_id ON t (id);";
    assert!(!may_break(quiet));
    assert!(!may_break(
        "ALTER TABLE t ADD COLUMN score INTEGER DEFAULT 0;"
    ));
    for sql in [
        "create index concurrently i on t (x)",
        "VACUUM",
        "begin;",
        "Commit",
        "ALTER TYPE mood ADD VALUE 'sad'",
        "alter table t add column x int not null",
        "-- end of file",
        "ABORT",
        "prepare transaction 'x'",
        "XA START 'x'",
        "COPY t FROM stdin",
        "\\copy t from 'f.csv'",
        "\\set x 1",
    ] {
        assert!(may_break(sql), "{sql}");
    }
}

#[test]
fn adding_an_enum_value_in_a_transaction_is_advice_not_an_error() {
    // PostgreSQL 12 and later run it in a transaction: a build must not fail on it.
    let sql = "ALTER TYPE mood ADD VALUE 'calm';";
    assert_eq!(
        rules(&[STREAMS, ("002_x.sql", sql)]),
        ["enum-value-in-transaction"]
    );
    let outside = "-- waterline:no-transaction\nALTER TYPE mood ADD VALUE 'calm';";
    assert_eq!(
        rules(&[STREAMS, ("002_x.sql", outside)]),
        Vec::<&str>::new()
    );
}
