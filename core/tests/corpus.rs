//! A corpus of malformed migration folders: each must be refused with every problem naming
//! a file (or the folder), and none may panic. The macro turns each problem into a compile
//! error at the path literal, as the ui tests show for each kind.

use std::fs;
use std::path::Path;

use waterline_core::read_folder;

type Case = (&'static str, Vec<(String, Vec<u8>)>);

const SQL: &[u8] = b"CREATE TABLE t (id INTEGER);\n";

fn files(list: &[(&str, &[u8])]) -> Vec<(String, Vec<u8>)> {
    list.iter()
        .map(|(name, bytes)| ((*name).to_owned(), bytes.to_vec()))
        .collect()
}

fn corpus() -> Vec<Case> {
    vec![
        (
            "not zero-padded",
            files(&[("023_a.sql", SQL), ("24_b.sql", SQL)]),
        ),
        ("too few digits", files(&[("1_init.sql", SQL)])),
        ("wrong case", files(&[("024_AddCodec.sql", SQL)])),
        ("dash separator", files(&[("024-add-codec.sql", SQL)])),
        ("dash in name", files(&[("024_add-codec.sql", SQL)])),
        ("space in name", files(&[("024_add codec.sql", SQL)])),
        ("double underscore", files(&[("024_add__codec.sql", SQL)])),
        ("trailing underscore", files(&[("024_add_codec_.sql", SQL)])),
        ("empty name", files(&[("024_.sql", SQL)])),
        ("no name at all", files(&[("024.sql", SQL)])),
        ("non-ASCII name", files(&[("024_caf\u{e9}.sql", SQL)])),
        ("emoji name", files(&[("024_\u{1f680}.sql", SQL)])),
        ("name starting with a digit", files(&[("024_2fa.sql", SQL)])),
        ("no version", files(&[("add_codec.sql", SQL)])),
        ("version last", files(&[("migration_024.sql", SQL)])),
        (
            "duplicate versions",
            files(&[("020_a.sql", SQL), ("020_b.sql", SQL)]),
        ),
        (
            "same version, other widths",
            files(&[("020_a.sql", SQL), ("0020_b.sql", SQL)]),
        ),
        (
            "duplicate file and directory",
            files(&[("020_a.sql", SQL), ("020_b/up.sql", SQL)]),
        ),
        (
            "mixed widths",
            files(&[("20250522_x.sql", SQL), ("20250609160908_y.sql", SQL)]),
        ),
        (
            "version too large",
            files(&[("99999999999999999999_x.sql", SQL)]),
        ),
        ("empty file", files(&[("001_a.sql", b"")])),
        (
            "comment-only file",
            files(&[("001_a.sql", b"-- soon\n/* later */")]),
        ),
        ("BOM-only file", files(&[("001_a.sql", b"\xef\xbb\xbf")])),
        ("line endings only", files(&[("001_a.sql", b"\r\n\r\n\r")])),
        (
            "unterminated block comment",
            files(&[("001_a.sql", b"/* CREATE TABLE t (id INTEGER);")]),
        ),
        (
            "latin-1 file",
            files(&[("001_a.sql", b"SELECT 'caf\xe9';")]),
        ),
        ("UTF-16 file", files(&[("001_a.sql", b"\xff\xfeS\0E\0L\0")])),
        ("NUL byte", files(&[("001_a.sql", b"SELECT 1;\0")])),
        ("directory without up", files(&[("001_a/down.sql", SQL)])),
        (
            "directory with only a down variant",
            files(&[("001_a/down.postgres.sql", SQL)]),
        ),
        (
            "up variant missing backends",
            files(&[("001_a/up.postgres.sql", SQL), ("001_a/up.mysql.sql", SQL)]),
        ),
        (
            "down variant without down.sql",
            files(&[("001_a/up.sql", SQL), ("001_a/down.mysql.sql", SQL)]),
        ),
        (
            "unknown file in a directory",
            files(&[("001_a/up.sql", SQL), ("001_a/notes.txt", b"x")]),
        ),
        (
            "subdirectory in a directory",
            files(&[("001_a/up.sql", SQL), ("001_a/extra/up.sql", SQL)]),
        ),
        ("uppercase script name", files(&[("001_a/UP.SQL", SQL)])),
        (
            "misspelt variant",
            files(&[("001_a/up.sql", SQL), ("001_a/up.postgresql.sql", SQL)]),
        ),
        ("uppercase extension", files(&[("001_a.SQL", SQL)])),
        ("mixed-case extension", files(&[("001_a.Sql", SQL)])),
        (
            "directory named like a file",
            files(&[("001_a.sql/up.sql", SQL)]),
        ),
        (
            "unknown directive",
            files(&[("001_a.sql", b"-- waterline:no-transactions\nSELECT 1;")]),
        ),
        (
            "directive after a statement",
            files(&[("001_a.sql", b"SELECT 1;\n-- waterline:no-transaction")]),
        ),
        (
            "malformed allow",
            files(&[("001_a.sql", b"-- waterline:allow(Drop Table)\nSELECT 1;")]),
        ),
        (
            "allow of an unknown lint",
            files(&[("001_a.sql", b"-- waterline:allow(drop-tables)\nSELECT 1;")]),
        ),
        (
            "empty down",
            files(&[("001_a/up.sql", SQL), ("001_a/down.sql", b"  \n")]),
        ),
        ("name with a newline", files(&[("001_a\nb.sql", SQL)])),
        (
            "everything at once",
            files(&[
                ("1_A.SQL", b""),
                ("001_b.sql", b"\xff"),
                ("001_c/x.txt", b""),
            ]),
        ),
        (
            "folder of ignored files only",
            files(&[("README.md", b"#"), (".gitkeep", b""), ("seed.sh", b"")]),
        ),
    ]
}

fn check(name: &str, dir: &Path, label: &str) {
    let outcome = std::panic::catch_unwind(|| read_folder(dir, label));
    let result = outcome.unwrap_or_else(|_| panic!("{name}: the reader panicked"));
    let problems = result.err().unwrap_or_else(|| panic!("{name}: accepted"));
    for problem in problems.iter() {
        let message = problem.to_string();
        assert!(
            message.contains(&format!("`{label}")),
            "{name}: names no file: {message}"
        );
        assert!(!problem.file().is_empty(), "{name}");
    }
}

#[test]
fn every_malformed_folder_is_refused_naming_its_files() {
    let corpus = corpus();
    assert!(corpus.len() >= 40, "{} cases", corpus.len());
    for (name, files) in corpus {
        let dir = tempfile::tempdir().unwrap();
        for (path, bytes) in &files {
            let path = dir.path().join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, bytes).unwrap();
        }
        check(name, dir.path(), "migrations");
    }
}

#[test]
fn missing_folders_and_files_for_folders_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    check("missing folder", &dir.path().join("nope"), "db/migrations");
    fs::write(dir.path().join("file"), SQL).unwrap();
    check(
        "a file for a folder",
        &dir.path().join("file"),
        "db/migrations",
    );
}

#[test]
fn a_huge_script_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let file = fs::File::create(dir.path().join("001_huge.sql")).unwrap();
    file.set_len(waterline_core::folder::MAX_SCRIPT_BYTES + 1)
        .unwrap();
    let problems = read_folder(dir.path(), "migrations").unwrap_err();
    assert_eq!(
        problems.to_string(),
        "`migrations/001_huge.sql` is 16 MiB, over the 16 MiB a migration script may be; split it into several \
         migrations, or load bulk data another way"
    );
}

#[cfg(unix)]
#[test]
fn hostile_links_and_names_are_refused() {
    use std::os::unix::ffi::OsStrExt;
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("secret.sql"), SQL).unwrap();
    type Make<'a> = Box<dyn Fn(&Path) + 'a>;
    let cases: Vec<(&str, Make<'_>)> = vec![
        (
            "symlink leaving the folder",
            Box::new(|dir: &Path| {
                std::os::unix::fs::symlink(outside.path().join("secret.sql"), dir.join("001_a.sql"))
                    .unwrap()
            }),
        ),
        (
            "symlinked directory leaving the folder",
            Box::new(|dir: &Path| {
                std::os::unix::fs::symlink(outside.path(), dir.join("001_a")).unwrap()
            }),
        ),
        (
            "script symlink leaving the folder",
            Box::new(|dir: &Path| {
                fs::create_dir(dir.join("001_a")).unwrap();
                std::os::unix::fs::symlink(
                    outside.path().join("secret.sql"),
                    dir.join("001_a/up.sql"),
                )
                .unwrap();
            }),
        ),
        (
            "broken symlink",
            Box::new(|dir: &Path| {
                std::os::unix::fs::symlink(dir.join("nowhere.sql"), dir.join("001_a.sql")).unwrap()
            }),
        ),
        (
            "non-UTF-8 file name",
            Box::new(|dir: &Path| {
                fs::write(dir.join(std::ffi::OsStr::from_bytes(b"001_\xff.sql")), SQL).unwrap()
            }),
        ),
    ];
    for (name, make) in cases {
        let dir = tempfile::tempdir().unwrap();
        make(dir.path());
        check(name, dir.path(), "migrations");
    }
}
