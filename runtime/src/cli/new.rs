//! `migrate new NAME`: the next migration of a folder, numbered in the folder's width and
//! written in its form (a file, or a directory with `up.sql` and `down.sql`).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use waterline_core::folder::{self, check_new_name, Kind, Layout};
use waterline_core::{name, Problem};

/// A file `new` writes, and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewFile {
    /// Where it is written.
    pub path: PathBuf,
    /// The path as shown: under the folder's label, as in `migrations/012_x.sql`.
    pub shown: String,
    /// Its text.
    pub text: String,
}

/// What the folder says about the next migration.
struct Shape {
    width: usize,
    newest: u64,
    kind: Kind,
    timestamps: bool,
    layout: Layout,
}

/// The files of the next migration named `name` in `dir` (shown as `label`), or why not.
pub fn next_migration(
    dir: &Path,
    label: &str,
    name: &str,
    now: SystemTime,
) -> Result<Vec<NewFile>, String> {
    let shape = shape(dir, label)?;
    // None when the clock reads a time before 1970 or after 9999.
    let stamp = crate::runner::rfc3339_micros(now);
    let clock = || {
        stamp
            .as_deref()
            .ok_or_else(|| {
                "the system clock reads a time before 1970 or after 9999, so there is no \
                 timestamp to number the migration with; set the clock, and run `new` again"
                    .to_owned()
            })
            .map(|stamp| {
                let digits: String = stamp
                    .get(..19)
                    .unwrap_or_default()
                    .chars()
                    .filter(char::is_ascii_digit)
                    .collect();
                digits.parse::<u64>().unwrap_or(0)
            })
    };
    if shape.layout == Layout::Diesel {
        let version = (clock()? * 10_000).max(shape.newest + 1);
        return diesel_migration(dir, label, name, version);
    }
    let version = match shape.timestamps {
        true => clock()?.max(shape.newest + 1),
        false => shape.newest + 1,
    };
    if name::significant_digits(version) > shape.width {
        return Err(format!(
            "the next version, {version}, has more digits than the {} of every migration in `{label}`; \
             renumber the folder with wider versions first",
            shape.width
        ));
    }
    let digits = name::pad_version(version, shape.width);
    let entry = match shape.kind {
        Kind::File => format!("{digits}_{name}.sql"),
        Kind::Directory => format!("{digits}_{name}"),
    };
    let problems = check_new_name(label, &entry, shape.kind, shape.width);
    if !problems.is_empty() {
        return Err(problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n"));
    }
    let date = stamp
        .as_deref()
        .and_then(|s| s.get(..10))
        .unwrap_or("an unknown date");
    let up = format!(
        "-- {digits} {name}: say what this migration does and why.\n\
         -- Written by `migrate new` on {date}. A migration with only comments does not compile:\n\
         -- write its SQL below.\n"
    );
    let file = |relative: String, text: String| NewFile {
        path: dir.join(&relative),
        shown: format!("{}/{relative}", label.trim_end_matches('/')),
        text,
    };
    let files = match shape.kind {
        Kind::File => vec![file(entry, up)],
        Kind::Directory => vec![
            file(format!("{entry}/up.sql"), up),
            file(
                format!("{entry}/down.sql"),
                format!(
                    "-- Reverts {digits} {name}: write the SQL that undoes up.sql, or delete this file\n\
                     -- to make the migration irreversible.\n"
                ),
            ),
        ],
    };
    if let Some(existing) = files.iter().find(|file| file.path.exists()) {
        return Err(format!(
            "`{}` already exists; choose another name",
            existing.path.display()
        ));
    }
    Ok(files)
}

/// A migration directory in diesel_cli 2.3's form, `YYYY-MM-DD-HHMMSS-NNNN_<name>`, with
/// `up.sql` and `down.sql`. Its name follows this crate's rule, lowercase snake_case, though
/// the folder accepts diesel's older names with dashes.
fn diesel_migration(
    dir: &Path,
    label: &str,
    name: &str,
    version: u64,
) -> Result<Vec<NewFile>, String> {
    let written = waterline_core::diesel::written(version);
    let entry = format!("{written}_{name}");
    if let Some(fault) = name::name_fault(name) {
        let suggestion = name::suggest_name(name).unwrap_or_else(|| "<name>".to_owned());
        return Err(format!(
            "invalid migration name `{}/{entry}`: {fault}; run `new {suggestion}`",
            label.trim_end_matches('/'),
        ));
    }
    let file = |relative: String, text: String| NewFile {
        path: dir.join(&relative),
        shown: format!("{}/{relative}", label.trim_end_matches('/')),
        text,
    };
    let files = vec![
        file(
            format!("{entry}/up.sql"),
            format!(
                "-- {written} {name}: say what this migration does and why.\n\
                 -- Written by `migrate new`. A migration with only comments does not compile:\n\
                 -- write its SQL below.\n"
            ),
        ),
        file(
            format!("{entry}/down.sql"),
            format!(
                "-- Reverts {written} {name}: write the SQL that undoes up.sql. Left with no SQL,\n\
                 -- the migration is irreversible.\n"
            ),
        ),
    ];
    Ok(files)
}

fn shape(dir: &Path, label: &str) -> Result<Shape, String> {
    match folder::read(dir, label) {
        Ok(folder) => {
            let layout = folder.layout;
            let migrations = folder.migrations;
            let newest = migrations
                .last()
                .expect("a folder read without problems has migrations");
            let kind = if newest.path().ends_with(".sql") {
                Kind::File
            } else {
                Kind::Directory
            };
            let width = newest.version_text().len();
            let timestamps = width == 14 && newest.version_text().starts_with('2');
            Ok(Shape {
                width,
                newest: newest.version(),
                kind,
                timestamps,
                layout,
            })
        }
        Err(problems) => match problems.iter().as_slice() {
            [Problem::FolderMissing { .. } | Problem::NoMigrations { .. }] => Ok(Shape {
                width: name::MIN_DIGITS,
                newest: 0,
                kind: Kind::File,
                timestamps: false,
                layout: Layout::Numbered,
            }),
            _ => Err(format!("`{label}` has problems to fix first:\n{problems}")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, sql) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, sql).unwrap();
        }
        dir
    }

    fn names(files: &[NewFile], dir: &Path) -> Vec<String> {
        files
            .iter()
            .map(|f| f.path.strip_prefix(dir).unwrap().display().to_string())
            .collect()
    }

    #[test]
    fn follows_the_width_and_form_of_the_folder() {
        let dir = folder(&[("001_a.sql", "SELECT 1;"), ("002_b.sql", "SELECT 1;")]);
        let files =
            next_migration(dir.path(), "migrations", "add_codec", SystemTime::now()).unwrap();
        assert_eq!(names(&files, dir.path()), ["003_add_codec.sql"]);
        assert!(files[0].text.starts_with("-- 003 add_codec: "));

        let dir = folder(&[("0007_a/up.sql", "SELECT 1;")]);
        let files =
            next_migration(dir.path(), "migrations", "add_codec", SystemTime::now()).unwrap();
        assert_eq!(
            names(&files, dir.path()),
            ["0008_add_codec/up.sql", "0008_add_codec/down.sql"]
        );
    }

    #[test]
    fn timestamp_folders_get_the_time_of_writing() {
        let dir = folder(&[("20250609160908_a.sql", "SELECT 1;")]);
        let now = humantime::parse_rfc3339("2026-11-22T01:02:03Z").unwrap();
        let files = next_migration(dir.path(), "migrations", "add_codec", now).unwrap();
        assert_eq!(names(&files, dir.path()), ["20261122010203_add_codec.sql"]);
    }

    #[test]
    fn diesel_folders_get_diesel_clis_form() {
        let dir = folder(&[
            ("2017-08-31-230457_invitations/up.sql", "SELECT 1;"),
            ("20140925132250_dumped/up.sql", "SELECT 1;"),
        ]);
        let now = humantime::parse_rfc3339("2026-11-22T01:02:03Z").unwrap();
        let files = next_migration(dir.path(), "migrations", "add_codec", now).unwrap();
        assert_eq!(
            names(&files, dir.path()),
            [
                "2026-11-22-010203-0000_add_codec/up.sql",
                "2026-11-22-010203-0000_add_codec/down.sql"
            ]
        );
        // A clock behind the newest migration still gives a later version.
        let past = humantime::parse_rfc3339("2001-01-01T00:00:00Z").unwrap();
        let files = next_migration(dir.path(), "migrations", "more", past).unwrap();
        assert_eq!(
            names(&files, dir.path())[0],
            "2017-08-31-230457-0001_more/up.sql"
        );
        let error = next_migration(dir.path(), "migrations", "add-codec", now).unwrap_err();
        assert_eq!(
            error,
            "invalid migration name `migrations/2026-11-22-010203-0000_add-codec`: `-` is not \
             allowed in a name (use a-z, 0-9 and `_`); run `new add_codec`"
        );
    }

    #[test]
    fn a_clock_before_1970_is_an_error_not_a_panic() {
        let dir = folder(&[("20250609160908_a.sql", "SELECT 1;")]);
        let before = SystemTime::UNIX_EPOCH - std::time::Duration::from_secs(60);
        let error = next_migration(dir.path(), "migrations", "add_codec", before).unwrap_err();
        assert!(
            error.starts_with("the system clock reads a time before 1970"),
            "{error}"
        );
        // Numbered folders need no clock.
        let numbered = folder(&[("001_a.sql", "SELECT 1;")]);
        let files = next_migration(numbered.path(), "migrations", "more", before).unwrap();
        assert_eq!(names(&files, numbered.path()), ["002_more.sql"]);
    }

    #[test]
    fn an_empty_or_missing_folder_starts_at_001() {
        let dir = tempfile::tempdir().unwrap();
        let files = next_migration(
            &dir.path().join("migrations"),
            "migrations",
            "init",
            SystemTime::now(),
        )
        .unwrap();
        assert_eq!(names(&files, dir.path()), ["migrations/001_init.sql"]);
    }

    #[test]
    fn bad_names_get_the_macros_message() {
        let dir = folder(&[("023_a.sql", "SELECT 1;")]);
        let error =
            next_migration(dir.path(), "migrations", "AddCodec", SystemTime::now()).unwrap_err();
        assert_eq!(
            error,
            "invalid migration name `migrations/024_AddCodec.sql`: wrong case, names are lowercase snake_case; \
             rename it to `024_add_codec.sql`"
        );
        let error =
            next_migration(dir.path(), "migrations", "add-codec", SystemTime::now()).unwrap_err();
        assert!(error.contains("`-` is not allowed in a name"), "{error}");
    }

    #[test]
    fn a_full_width_or_a_broken_folder_is_refused() {
        let dir = folder(&[("999_a.sql", "SELECT 1;")]);
        let error =
            next_migration(dir.path(), "migrations", "more", SystemTime::now()).unwrap_err();
        assert!(
            error.starts_with("the next version, 1000, has more digits than the 3"),
            "{error}"
        );
        let dir = folder(&[("1_a.sql", "SELECT 1;")]);
        let error =
            next_migration(dir.path(), "migrations", "more", SystemTime::now()).unwrap_err();
        assert!(
            error.starts_with("`migrations` has problems to fix first:\ninvalid migration name"),
            "{error}"
        );
    }
}
