//! Every folder rule, on temporary folders, with the exact message users see.

use std::fs;

use super::read_folder;
use crate::{Backend, Checksum};

const SQL: &[u8] = b"CREATE TABLE t (id INTEGER);\n";

/// A temporary migrations folder holding `files` (`dir/file` creates the directory).
fn folder(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, content) in files {
        let path = dir.path().join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }
    dir
}

fn messages(files: &[(&str, &[u8])]) -> Vec<String> {
    let dir = folder(files);
    match read_folder(dir.path(), "migrations") {
        Ok(migrations) => panic!("expected problems, read {} migrations", migrations.len()),
        Err(problems) => problems.iter().map(ToString::to_string).collect(),
    }
}

fn message(files: &[(&str, &[u8])]) -> String {
    let all = messages(files);
    assert_eq!(all.len(), 1, "expected one problem, got {all:#?}");
    all.into_iter().next().unwrap()
}

#[test]
fn reads_files_and_directories_in_version_order() {
    let dir = folder(&[
        (
            "002_add_streams/up.sql",
            b"CREATE TABLE streams (id INTEGER);",
        ),
        ("002_add_streams/down.sql", b"DROP TABLE streams;"),
        (
            "002_add_streams/up.postgres.sql",
            b"CREATE TABLE streams (id BIGSERIAL);",
        ),
        ("001_create_streamers.sql", SQL),
        (
            "010_backfill.sql",
            b"-- waterline:no-transaction\nUPDATE t SET id = 1;",
        ),
    ]);
    let migrations = read_folder(dir.path(), "migrations").unwrap();
    let ids: Vec<_> = migrations
        .iter()
        .map(|m| (m.version(), m.name(), m.version_text()))
        .collect();
    assert_eq!(
        ids,
        [
            (1, "create_streamers", "001"),
            (2, "add_streams", "002"),
            (10, "backfill", "010")
        ]
    );

    let first = migrations[0].up().for_backend(Backend::Sqlite).unwrap();
    assert_eq!(first.path(), "migrations/001_create_streamers.sql");
    assert_eq!(
        first.checksum(),
        Checksum::of(std::str::from_utf8(SQL).unwrap())
    );
    assert!(migrations[0].down().is_empty());

    let streams = &migrations[1];
    assert_eq!(
        streams.up().for_backend(Backend::Postgres).unwrap().path(),
        "migrations/002_add_streams/up.postgres.sql"
    );
    assert_eq!(
        streams.up().for_backend(Backend::Mysql).unwrap().path(),
        "migrations/002_add_streams/up.sql"
    );
    assert_eq!(
        streams.down().for_backend(Backend::Postgres).unwrap().sql(),
        "DROP TABLE streams;"
    );
    assert!(migrations[2]
        .up()
        .default_script()
        .unwrap()
        .directives()
        .no_transaction());
}

#[test]
fn ignores_dotfiles_other_files_and_plain_directories() {
    let dir = folder(&[
        ("001_init.sql", SQL),
        ("README.md", b"# notes"),
        (".gitkeep", b""),
        (".002_hidden.sql", b""),
        ("seed.sh", b"#!/bin/sh"),
        ("scripts/cleanup.sql", b""),
    ]);
    assert_eq!(read_folder(dir.path(), "migrations").unwrap().len(), 1);
}

#[test]
fn not_zero_padded_beside_three_digit_versions() {
    assert_eq!(
        message(&[("023_add_streams.sql", SQL), ("24_add_codec.sql", SQL)]),
        "invalid migration name `migrations/24_add_codec.sql`: version `24` is not zero-padded to 3 \
         digits like `023_add_streams.sql`; rename it to `024_add_codec.sql`"
    );
}

#[test]
fn fewer_than_three_digits_alone() {
    assert_eq!(
        message(&[("1_init.sql", SQL)]),
        "invalid migration name `migrations/1_init.sql`: version `1` has fewer than 3 digits, so name \
         order would not be version order; rename it to `001_init.sql`"
    );
}

#[test]
fn mixed_timestamp_widths_suggest_the_padded_name() {
    assert_eq!(
        message(&[("20250522_x.sql", SQL), ("20250609160908_y.sql", SQL)]),
        "invalid migration name `migrations/20250522_x.sql`: version `20250522` is not zero-padded to \
         14 digits like `20250609160908_y.sql`; rename it to `00000020250522_x.sql`"
    );
}

#[test]
fn extra_padding_beside_narrower_versions() {
    assert_eq!(
        message(&[("001_a.sql", SQL), ("002_b.sql", SQL), ("0003_c.sql", SQL)]),
        "invalid migration name `migrations/0003_c.sql`: version `0003` has more digits than the 3 of \
         `001_a.sql`; rename it to `003_c.sql`"
    );
}

#[test]
fn wrong_case() {
    assert_eq!(
        message(&[("024_AddCodecPreferences.sql", SQL)]),
        "invalid migration name `migrations/024_AddCodecPreferences.sql`: wrong case, names are \
         lowercase snake_case; rename it to `024_add_codec_preferences.sql`"
    );
}

#[test]
fn bad_names_each_say_why_and_suggest_a_spelling() {
    let cases: &[(&str, &str)] = &[
        ("024-add-codec.sql", "the version must be followed by `_`, not `-`; rename it to `024_add_codec.sql`"),
        ("024_add-codec.sql", "`-` is not allowed in a name (use a-z, 0-9 and `_`); rename it to `024_add_codec.sql`"),
        ("024_add codec.sql", "a space is not allowed in a name (use a-z, 0-9 and `_`); rename it to `024_add_codec.sql`"),
        ("024_add__codec.sql", "a name cannot contain `__`; rename it to `024_add_codec.sql`"),
        ("024_add_codec_.sql", "a name cannot end with `_`; rename it to `024_add_codec.sql`"),
        (
            "024_.sql",
            "no name after the version; rename it to `024_<name>` with a lowercase snake_case name, as in \
             `024_create_users`",
        ),
        (
            "024_ä.sql",
            "`ä` is not allowed in a name (use a-z, 0-9 and `_`); rename it to `024_<name>` with a lowercase \
             snake_case name, as in `024_create_users`",
        ),
        (
            "024_2fa.sql",
            "a name must start with a letter; rename it to `024_<name>` with a lowercase snake_case name, as \
             in `024_create_users`",
        ),
    ];
    for (file, why) in cases {
        let expected = format!("invalid migration name `migrations/{file}`: {why}");
        assert_eq!(message(&[(file, SQL)]), expected);
    }
}

#[test]
fn no_version_prefix() {
    assert_eq!(
        message(&[("001_init.sql", SQL), ("add_codec_preferences.sql", SQL)]),
        "invalid migration name `migrations/add_codec_preferences.sql`: no version prefix; rename it to \
         `002_add_codec_preferences.sql`"
    );
    assert_eq!(
        message(&[("migration_024.sql", SQL)]),
        "invalid migration name `migrations/migration_024.sql`: no version prefix; rename it to \
         `024_migration.sql`"
    );
}

#[test]
fn version_too_large() {
    assert_eq!(
        message(&[("9223372036854775808_x.sql", SQL)]),
        "invalid migration name `migrations/9223372036854775808_x.sql`: version `9223372036854775808` is \
         larger than 9223372036854775807, the largest a tracking table can store; use a smaller version"
    );
}

#[test]
fn duplicate_versions_name_every_file() {
    assert_eq!(
        message(&[("020_a.sql", SQL), ("020_b.sql", SQL)]),
        "duplicate migration version `020` in `migrations/020_a.sql` and `migrations/020_b.sql`: versions \
         must be unique; renumber all but one of them (the next free version is `021`)"
    );
    assert_eq!(
        message(&[("020_a.sql", SQL), ("020_b/up.sql", SQL), ("020_c.sql", SQL)]),
        "duplicate migration version `020` in `migrations/020_a.sql`, `migrations/020_b` and \
         `migrations/020_c.sql`: versions must be unique; renumber all but one of them (the next free \
         version is `021`)"
    );
}

#[test]
fn empty_and_comment_only_files() {
    let expected = |file: &str| {
        format!("migration `migrations/{file}` has no SQL: it is empty or holds only comments; write its SQL or delete it")
    };
    assert_eq!(
        message(&[("001_empty.sql", b"")]),
        expected("001_empty.sql")
    );
    assert_eq!(
        message(&[("001_blank.sql", b" \n\t\r\n")]),
        expected("001_blank.sql")
    );
    assert_eq!(
        message(&[("001_notes.sql", b"-- later\n/* todo */\n")]),
        expected("001_notes.sql")
    );
    assert_eq!(
        message(&[("001_bom.sql", b"\xef\xbb\xbf-- only\n")]),
        expected("001_bom.sql")
    );
}

#[test]
fn not_utf8_gives_the_position() {
    assert_eq!(
        message(&[("001_latin1.sql", b"SELECT 1;\nSELECT 'caf\xe9';\n")]),
        "`migrations/001_latin1.sql` is not valid UTF-8 (line 2, column 12); save it as UTF-8"
    );
}

#[test]
fn nul_byte() {
    assert_eq!(
        message(&[("001_nul.sql", b"SELECT 1;\nSELECT '\0';\n")]),
        "`migrations/001_nul.sql` contains a NUL byte on line 2, which databases reject in SQL; remove it"
    );
}

#[test]
fn directory_without_up() {
    assert_eq!(
        message(&[("001_init/down.sql", b"DROP TABLE t;")]),
        "migration directory `migrations/001_init` has no `up.sql`; add `up.sql` with the migration's SQL, \
         or an `up.<backend>.sql` for each of postgres, mysql and sqlite"
    );
}

#[test]
fn variants_without_a_default_must_cover_every_backend() {
    assert_eq!(
        message(&[("001_init/up.postgres.sql", SQL)]),
        "migration directory `migrations/001_init` has no `up.sql`, so mysql and sqlite would have no up \
         script; add `up.sql`, or one `up.<backend>.sql` for each of them"
    );
    let dir = folder(&[
        ("001_init/up.postgres.sql", SQL),
        ("001_init/up.mysql.sql", SQL),
        ("001_init/up.sqlite.sql", SQL),
    ]);
    assert!(read_folder(dir.path(), "migrations").is_ok());
}

#[test]
fn unknown_files_in_a_directory() {
    assert_eq!(
        message(&[("001_init/up.sql", SQL), ("001_init/notes.txt", b"")]),
        "unknown file `migrations/001_init/notes.txt` in a migration directory, which holds only up.sql, \
         down.sql and their backend variants such as up.postgres.sql; move it out of the migrations folder"
    );
    assert_eq!(
        message(&[("001_init/up.sql", SQL), ("001_init/up.postgresql.sql", SQL)]),
        "unknown file `migrations/001_init/up.postgresql.sql` in a migration directory, which holds only \
         up.sql, down.sql and their backend variants such as up.postgres.sql; rename it to `up.postgres.sql`"
    );
    let upper = messages(&[("001_init/UP.SQL", SQL)]);
    assert!(upper[0].starts_with("migration directory `migrations/001_init` has no `up.sql`"));
    assert!(upper[1].starts_with("unknown file `migrations/001_init/UP.SQL`"));
    assert!(upper[1].ends_with("rename it to `up.sql`"));
}

#[test]
fn a_rust_migration_as_a_directory_is_told_to_be_one_file() {
    let code =
        b"pub fn up(step: &mut waterline::code::Step<'_>) -> waterline::code::Result { Ok(()) }";
    assert_eq!(
        messages(&[("012_backfill/up.rs", code), ("012_backfill/down.rs", code)]),
        [
            "unknown file `migrations/012_backfill/down.rs` in a migration directory, which holds only \
             up.sql, down.sql and their backend variants such as up.postgres.sql; a migration written in \
             Rust is one file: put its `pub fn up` (and `pub fn down`) in `migrations/012_backfill.rs` and \
             remove the directory",
            "unknown file `migrations/012_backfill/up.rs` in a migration directory, which holds only \
             up.sql, down.sql and their backend variants such as up.postgres.sql; a migration written in \
             Rust is one file: put its `pub fn up` (and `pub fn down`) in `migrations/012_backfill.rs` and \
             remove the directory",
        ]
    );
}

#[test]
fn uppercase_extension() {
    assert_eq!(
        message(&[("001_init.SQL", SQL)]),
        "invalid migration file `migrations/001_init.SQL`: the extension must be lowercase `.sql`; rename it \
         to `001_init.sql`"
    );
}

#[test]
fn unknown_misplaced_and_bad_directives() {
    assert_eq!(
        message(&[("001_init.sql", b"-- waterline:no-transactions\nSELECT 1;")]),
        "unknown directive `-- waterline:no-transactions` in `migrations/001_init.sql` line 1; did you mean \
         `-- waterline:no-transaction`?"
    );
    assert_eq!(
        message(&[("001_init.sql", b"SELECT 1;\n-- waterline:no-transaction\n")]),
        "directive `-- waterline:no-transaction` in `migrations/001_init.sql` line 2 comes after the first \
         statement, where it has no effect; move it to the top of the file"
    );
    assert_eq!(
        message(&[("001_init.sql", b"-- waterline:allow(Drop Table)\nSELECT 1;")]),
        "invalid directive `-- waterline:allow(Drop Table)` in `migrations/001_init.sql` line 1: allow takes \
         lint names in kebab-case, as in `-- waterline:allow(drop-table)`"
    );
}

#[test]
fn empty_down() {
    assert_eq!(
        message(&[("001_init/up.sql", SQL), ("001_init/down.sql", b"-- nothing\n")]),
        "`migrations/001_init/down.sql` has no SQL: it is empty or holds only comments; write the SQL that \
         undoes the migration, or delete the file to make the migration irreversible"
    );
}

#[test]
fn missing_and_empty_folders() {
    let dir = tempfile::tempdir().unwrap();
    let missing = read_folder(&dir.path().join("nope"), "db/migrations").unwrap_err();
    assert_eq!(
        missing.to_string(),
        "migrations folder `db/migrations` does not exist; create it, or pass the folder's path relative to \
         Cargo.toml, as in `embed_migrations!(\"db/migrations\")`"
    );
    let empty = folder(&[("README.md", b"")]);
    assert_eq!(
        read_folder(empty.path(), "migrations").unwrap_err().to_string(),
        "migrations folder `migrations` holds no migrations; add one named like `001_create_users.sql`"
    );
    let file = folder(&[("001_x.sql", SQL)]);
    assert!(read_folder(&file.path().join("001_x.sql"), "x")
        .unwrap_err()
        .to_string()
        .contains("is not a folder"));
}

#[test]
fn every_problem_is_reported_at_once() {
    let dir = folder(&[
        ("001_ok.sql", SQL),
        ("2_short.sql", SQL),
        ("003_Bad.sql", SQL),
        ("004_empty.sql", b""),
        ("005_a.sql", SQL),
        ("005_b.sql", SQL),
    ]);
    let all = read_folder(dir.path(), "migrations").unwrap_err();
    let files: Vec<_> = all.iter().map(|problem| problem.file()).collect();
    assert_eq!(
        files,
        [
            "migrations/003_Bad.sql",
            "migrations/004_empty.sql",
            "migrations/005_a.sql",
            "migrations/2_short.sql"
        ],
        "{all:#?}"
    );
}

#[test]
fn one_fix_corrects_every_fault_of_a_name() {
    let all = messages(&[("023_ok.sql", SQL), ("24_AddCodec.SQL", SQL)]);
    assert_eq!(all.len(), 3, "{all:#?}");
    assert!(
        all.iter()
            .all(|m| m.ends_with("rename it to `024_add_codec.sql`")),
        "{all:#?}"
    );
}

#[cfg(unix)]
#[test]
fn symlinks_inside_are_followed_and_outside_rejected() {
    let outside = folder(&[("secret.sql", SQL)]);
    let dir = folder(&[("001_real.sql", SQL)]);
    std::os::unix::fs::symlink(
        dir.path().join("001_real.sql"),
        dir.path().join("002_alias.sql"),
    )
    .unwrap();
    assert_eq!(read_folder(dir.path(), "migrations").unwrap().len(), 2);
    std::os::unix::fs::symlink(
        outside.path().join("secret.sql"),
        dir.path().join("003_escape.sql"),
    )
    .unwrap();
    let problems = read_folder(dir.path(), "migrations")
        .unwrap_err()
        .to_string();
    assert!(
        problems.starts_with("`migrations/003_escape.sql` is a symlink to `"),
        "{problems}"
    );
    assert!(problems
        .ends_with("`, outside the migrations folder; copy the migration into the folder instead"));
}

#[cfg(unix)]
#[test]
fn non_utf8_file_names_are_reported() {
    use std::os::unix::ffi::OsStrExt;
    let dir = folder(&[("001_ok.sql", SQL)]);
    fs::write(
        dir.path()
            .join(std::ffi::OsStr::from_bytes(b"002_caf\xe9.sql")),
        SQL,
    )
    .unwrap();
    assert_eq!(
        read_folder(dir.path(), "migrations").unwrap_err().to_string(),
        "file name `migrations/002_caf\u{fffd}.sql` is not valid UTF-8; rename it to `<version>_<name>.sql` in ASCII"
    );
}

mod diesel_layout {
    use super::*;
    use crate::folder::{read, Layout};

    const FIXTURE: &[(&str, &[u8])] = &[
        ("00000000000000_diesel_initial_setup/up.sql", SQL),
        (
            "00000000000000_diesel_initial_setup/down.sql",
            b"DROP TABLE t;",
        ),
        ("20140925132250_dumped_migration_8/up.sql", SQL),
        ("2017-06-05-191432_create_users/up.sql", SQL),
        (
            "2017-06-05-191432_create_users/down.sql",
            b"-- nothing to undo\n",
        ),
        ("2018-01-01-000000_make-unique-version-unique/up.sql", SQL),
        (
            "2018-01-01-000000_make-unique-version-unique/metadata.toml",
            b"run_in_transaction = false\n",
        ),
        ("2025-11-19-091444-0000_add_x/up.sql", SQL),
        ("2025-11-19-091444-0000_add_x/down.sql", b"DROP TABLE t;"),
        ("backfill_data.sql", SQL),
        ("README.md", b"# migrations\n"),
    ];

    #[test]
    fn reads_the_three_forms_mixed_in_diesels_order() {
        let dir = folder(FIXTURE);
        let read = read(dir.path(), "migrations").unwrap();
        assert_eq!(read.layout, Layout::Diesel);
        let ids: Vec<(&str, &str, u64)> = read
            .migrations
            .iter()
            .map(|m| (m.id(), m.name(), m.version()))
            .collect();
        assert_eq!(
            ids,
            [
                (
                    "00000000000000_diesel_initial_setup",
                    "diesel_initial_setup",
                    0
                ),
                (
                    "20140925132250_dumped_migration_8",
                    "dumped_migration_8",
                    201409251322500000
                ),
                (
                    "2017-06-05-191432_create_users",
                    "create_users",
                    201706051914320000
                ),
                (
                    "2018-01-01-000000_make-unique-version-unique",
                    "make-unique-version-unique",
                    201801010000000000
                ),
                ("2025-11-19-091444-0000_add_x", "add_x", 202511190914440000),
            ]
        );
        let no_transaction: Vec<bool> = read
            .migrations
            .iter()
            .map(|m| {
                m.up()
                    .default_script()
                    .unwrap()
                    .directives()
                    .no_transaction()
            })
            .collect();
        assert_eq!(no_transaction, [false, false, false, true, false]);
        assert!(
            read.migrations[2].down().is_empty(),
            "a comment-only down.sql is irreversible"
        );
        let notices: Vec<&str> = read.notices.iter().map(|n| n.message.as_str()).collect();
        assert_eq!(
            notices,
            [
                "`migrations/2017-06-05-191432_create_users/down.sql` has no SQL, so the migration \
                 is irreversible: `migrate down` refuses to revert it; write the SQL that undoes \
                 `up.sql` to make it revertible",
                "`migrations/README.md` is not a migration: in diesel's layout a migration is a \
                 directory, so this file is neither embedded nor run, as with diesel_migrations",
                "`migrations/backfill_data.sql` is not a migration: in diesel's layout a migration \
                 is a directory, so this file is neither embedded nor run, as with diesel_migrations",
            ]
        );
    }

    #[test]
    fn plain_timestamp_directories_alone_are_diesels_layout_and_files_are_not() {
        let dir = folder(&[("20140925132250_a/up.sql", SQL)]);
        assert_eq!(read(dir.path(), "m").unwrap().layout, Layout::Diesel);
        let dir = folder(&[
            ("20140925132250_a/up.sql", SQL),
            ("20140925132251_b.sql", SQL),
        ]);
        assert_eq!(read(dir.path(), "m").unwrap().layout, Layout::Numbered);
        let dir = folder(&[("024_a/up.sql", SQL)]);
        assert_eq!(read(dir.path(), "m").unwrap().layout, Layout::Numbered);
    }

    #[test]
    fn impossible_timestamps_and_other_forms_are_errors_with_fixes_for_diesels_form() {
        let problems = messages(&[
            ("2017-08-31-230457_invitations/up.sql", SQL),
            ("2017-13-01-000000_x/up.sql", SQL),
            ("2017-01-01-250000_y/up.sql", SQL),
            ("201708312304_short/up.sql", SQL),
            ("024_add_codec/up.sql", SQL),
            ("20170831230458_plain/up.sql", SQL),
        ]);
        assert_eq!(
            problems,
            [
                "invalid migration name `migrations/024_add_codec`: the folder is in diesel's layout, \
                 and the version is none of diesel's forms (`YYYY-MM-DD-HHMMSS`, `YYYYMMDDHHMMSS`, \
                 `YYYY-MM-DD-HHMMSS-NNNN`); rename it to `YYYY-MM-DD-HHMMSS_add_codec` with the time \
                 it was written, as `migrate new` does; a renamed migration is a new version to the \
                 database: if it was applied under this name, run `migrate mark <new version> \
                 applied` after renaming",
                "invalid migration name `migrations/2017-01-01-250000_y`: hour 25 does not exist; \
                 rename it with a real time, in the form `YYYY-MM-DD-HHMMSS_y`; a renamed migration \
                 is a new version to the database: if it was applied under this name, run \
                 `migrate mark <new version> applied` after renaming",
                "invalid migration name `migrations/2017-13-01-000000_x`: month 13 does not exist; \
                 rename it with a real time, in the form `YYYY-MM-DD-HHMMSS_x`; a renamed migration \
                 is a new version to the database: if it was applied under this name, run \
                 `migrate mark <new version> applied` after renaming",
                "invalid migration name `migrations/201708312304_short`: the folder is in diesel's \
                 layout, and the version is none of diesel's forms (`YYYY-MM-DD-HHMMSS`, \
                 `YYYYMMDDHHMMSS`, `YYYY-MM-DD-HHMMSS-NNNN`); rename it to \
                 `YYYY-MM-DD-HHMMSS_short` with the time it was written, as `migrate new` does; a \
                 renamed migration is a new version to the database: if it was applied under this \
                 name, run `migrate mark <new version> applied` after renaming",
            ]
        );
    }

    #[test]
    fn two_names_of_one_version_are_an_error() {
        let problem = message(&[
            ("20170831230457_a/up.sql", SQL),
            ("2017-08-31-230457-0000_b/up.sql", SQL),
        ]);
        assert_eq!(
            problem,
            "`migrations/2017-08-31-230457-0000_b` and `migrations/20170831230457_a` have one \
             version, `201708312304570000`: diesel's `YYYYMMDDHHMMSS`, `YYYY-MM-DD-HHMMSS` and \
             `YYYY-MM-DD-HHMMSS-0000` spell the same time, and a tracking table keeps one row per \
             version; rename all but one of them (the next free name is \
             `2017-08-31-230457-0001_a`)"
        );
    }

    #[test]
    fn a_version_is_found_as_written_as_recorded_or_as_a_number() {
        let dir = folder(FIXTURE);
        let migrations = read(dir.path(), "migrations").unwrap().migrations;
        let find = |text| crate::model::find_version(&migrations, text).map(|m| m.name());
        assert_eq!(find("2017-06-05-191432"), Some("create_users"));
        assert_eq!(find("20170605191432"), Some("create_users"));
        assert_eq!(find("201706051914320000"), Some("create_users"));
        assert_eq!(find("2025-11-19-091444-0000"), Some("add_x"));
        assert_eq!(find("0"), Some("diesel_initial_setup"));
        assert_eq!(find("2017-06-05-191433"), None);
    }

    #[test]
    fn a_bad_metadata_key_is_an_error() {
        let problem = message(&[
            ("2017-08-31-230457_a/up.sql", SQL),
            (
                "2017-08-31-230457_a/metadata.toml",
                b"run_in_transactions = false\n",
            ),
        ]);
        assert!(
            problem.starts_with(
                "`migrations/2017-08-31-230457_a/metadata.toml`: unknown key `run_in_transactions`"
            ),
            "{problem}"
        );
    }

    #[test]
    fn an_empty_up_sql_is_still_an_error() {
        let problem = message(&[("2017-08-31-230457_a/up.sql", b"-- nothing\n")]);
        assert!(problem.contains("up.sql"), "{problem}");
    }
}

#[test]
fn a_rust_file_is_a_migration_in_the_same_order_checksummed_like_sql() {
    let source = "// waterline:background\n// waterline:expand\nuse x;\npub fn up() {}\n";
    let dir = folder(&[
        ("001_create_streamers.sql", SQL),
        ("002_backfill_images.rs", source.as_bytes()),
        ("003_index.sql", SQL),
    ]);
    let migrations = read_folder(dir.path(), "migrations").unwrap();
    let versions: Vec<_> = migrations
        .iter()
        .map(|m| (m.version(), m.is_rust()))
        .collect();
    assert_eq!(versions, [(1, false), (2, true), (3, false)]);
    let rust = &migrations[1];
    assert_eq!(rust.path(), "migrations/002_backfill_images.rs");
    assert_eq!(rust.name(), "backfill_images");
    assert!(rust.is_background() && rust.is_resumable());
    assert_eq!(rust.class(), crate::Class::Expand);
    let script = rust.up().default_script().unwrap();
    assert_eq!(script.checksum(), Checksum::of(source));
    assert_eq!(script.statements().count(), 0);
}

#[test]
fn a_rust_migration_is_a_contract_in_a_transaction_unless_it_says_otherwise() {
    let dir = folder(&[(
        "001_fill.rs",
        b"//! Fills.\npub fn up() {}\n// waterline:background\n",
    )]);
    let migrations = read_folder(dir.path(), "migrations").unwrap();
    let rust = &migrations[0];
    assert!(!rust.is_background() && !rust.is_resumable());
    assert_eq!(rust.class(), crate::Class::Contract);
}

#[test]
fn a_badly_named_rust_file_gets_the_rust_fix() {
    assert_eq!(
        message(&[("012-backfill.rs", b"pub fn up() {}")]),
        "invalid migration name `migrations/012-backfill.rs`: the version must be followed by \
         `_`, not `-`; rename it to `012_backfill.rs`"
    );
}

#[test]
fn background_in_sql_is_refused_with_the_rust_form() {
    assert_eq!(
        message(&[(
            "001_fill.sql",
            b"-- waterline:background\nUPDATE t SET id = 1;"
        )]),
        "invalid directive `-- waterline:background` in `migrations/001_fill.sql` line 1: only a \
         migration written in Rust can run in the background, where its batches commit one by \
         one; write it as `<version>_<name>.rs` with `// waterline:background`, or remove the \
         directive"
    );
}
