//! The embedded set is exactly the folder as read at run time, and holds what each file says.

use std::path::Path;

use waterline::{Backend, Checksum};

static VALID: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/valid");

fn read_valid_at_run_time() -> Vec<waterline::Migration> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/valid");
    waterline_core::read_folder(&dir, "tests/fixtures/valid").unwrap()
}

#[test]
fn embedded_set_equals_the_folder_read_at_run_time() {
    let at_run_time = read_valid_at_run_time();
    assert_eq!(VALID.len(), at_run_time.len());
    for (embedded, read) in VALID.iter().zip(&at_run_time) {
        assert_eq!(embedded.version(), read.version());
        assert_eq!(embedded.id(), read.id());
        assert_eq!(embedded.name(), read.name());
        assert_eq!(embedded.up(), read.up(), "up of {embedded}");
        assert_eq!(embedded.down(), read.down(), "down of {embedded}");
        assert_eq!(embedded, read);
    }
}

#[test]
fn versions_names_and_order() {
    let ids: Vec<_> = VALID
        .iter()
        .map(|m| (m.version(), m.version_text(), m.name()))
        .collect();
    assert_eq!(
        ids,
        [
            (1, "001", "create_streamers"),
            (2, "002", "add_streams"),
            (3, "003", "windows_line_endings"),
            (4, "004", "index_streams"),
            (5, "005", "drop_streams"),
        ]
    );
    assert_eq!(VALID.get(4).unwrap().id(), "004_index_streams");
    assert!(VALID.get(6).is_none());
    assert_eq!(VALID.folder(), "tests/fixtures/valid");
}

#[test]
fn each_backend_runs_its_variant() {
    let streams = VALID.get(2).unwrap();
    let path = |backend| streams.up().for_backend(backend).unwrap().path();
    assert_eq!(
        path(Backend::Postgres),
        "tests/fixtures/valid/002_add_streams/up.postgres.sql"
    );
    assert_eq!(
        path(Backend::Mysql),
        "tests/fixtures/valid/002_add_streams/up.mysql.sql"
    );
    assert_eq!(
        path(Backend::Sqlite),
        "tests/fixtures/valid/002_add_streams/up.sql"
    );
    let postgres = streams.up().for_backend(Backend::Postgres).unwrap();
    assert_eq!(postgres.checksum(), Checksum::of(postgres.sql()));
    assert_ne!(
        postgres.checksum(),
        streams
            .up()
            .for_backend(Backend::Sqlite)
            .unwrap()
            .checksum()
    );
    assert_eq!(
        streams.down().for_backend(Backend::Mysql).unwrap().sql(),
        "DROP TABLE streams;\n"
    );
    assert!(VALID.get(1).unwrap().down().is_empty());
}

#[test]
fn bom_is_not_executed_and_crlf_checksums_like_lf() {
    let script = VALID
        .get(3)
        .unwrap()
        .up()
        .for_backend(Backend::Sqlite)
        .unwrap();
    assert!(script.sql().starts_with("ALTER TABLE"));
    let lf = "ALTER TABLE streams ADD COLUMN title TEXT;\nCREATE INDEX streams_title ON streams (title);\n";
    assert_eq!(script.checksum(), Checksum::of(lf));
}

#[test]
fn directives_are_embedded_per_script() {
    let index = VALID.get(4).unwrap();
    assert!(index
        .up()
        .for_backend(Backend::Postgres)
        .unwrap()
        .directives()
        .no_transaction());
    assert!(!index
        .up()
        .for_backend(Backend::Sqlite)
        .unwrap()
        .directives()
        .no_transaction());
    let drop = VALID.get(5).unwrap().up().default_script().unwrap();
    assert_eq!(
        drop.directives().allowed_lints().collect::<Vec<_>>(),
        ["drop-table"]
    );
}

#[test]
fn the_embed_is_current() {
    VALID.check_embed_is_current().unwrap();
}
