//! Noticing a binary whose embedded migrations no longer match the folder it was built from.

use std::fmt;

use waterline_core::{Migration, Problems};

/// The embedded migrations differ from the folder on disk: the build missed a change.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub struct StaleEmbed {
    folder: String,
    differences: Vec<Difference>,
    /// The folder's problems, when it no longer passes the rules.
    problems: Option<Problems>,
}

/// One migration that differs, by its path (`migrations/024_add_codec.sql`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(not(debug_assertions), allow(dead_code))]
enum Difference {
    /// On disk, not embedded: added after the build.
    Added(String),
    /// Embedded, not on disk: removed or renamed after the build.
    Removed(String),
    /// Both, with other content.
    Changed(String),
}

impl Difference {
    fn describe(&self) -> (&str, &str) {
        match self {
            Difference::Added(path) => (path, "is on disk but not embedded"),
            Difference::Removed(path) => (path, "is embedded but not on disk"),
            Difference::Changed(path) => (path, "changed since the build"),
        }
    }
}

impl StaleEmbed {
    /// Compares the embedded set with the folder as read now; `None` when they agree.
    #[cfg_attr(not(debug_assertions), allow(dead_code))]
    pub(crate) fn compare(
        folder: &str,
        embedded: &[Migration],
        on_disk: Result<Vec<Migration>, Problems>,
    ) -> Option<StaleEmbed> {
        let (differences, problems) = match on_disk {
            Ok(on_disk) => (differences(embedded, &on_disk), None),
            Err(problems) => (Vec::new(), Some(problems)),
        };
        let agree = differences.is_empty() && problems.is_none();
        let folder = folder.to_owned();
        (!agree).then_some(StaleEmbed {
            folder,
            differences,
            problems,
        })
    }

    /// The paths of migrations on disk that the binary does not embed.
    pub fn added(&self) -> impl Iterator<Item = &str> {
        self.differences
            .iter()
            .filter_map(|difference| match difference {
                Difference::Added(path) => Some(path.as_str()),
                _ => None,
            })
    }
}

#[cfg_attr(not(debug_assertions), allow(dead_code))]
fn differences(embedded: &[Migration], on_disk: &[Migration]) -> Vec<Difference> {
    let find = |set: &[Migration], id: &str| set.iter().position(|m| m.id() == id);
    let mut differences = Vec::new();
    for migration in on_disk {
        let path = migration.path().to_owned();
        match find(embedded, migration.id()) {
            None => differences.push(Difference::Added(path)),
            Some(index) if files(&embedded[index]) != files(migration) => {
                differences.push(Difference::Changed(path))
            }
            Some(_) => {}
        }
    }
    for migration in embedded {
        if find(on_disk, migration.id()).is_none() {
            differences.push(Difference::Removed(migration.path().to_owned()));
        }
    }
    differences
}

/// Every script of `migration` by path and checksum: what a build embeds from each file. (A
/// runtime without the `folder` feature reads folders without the SQL tokenizer, so statement
/// ranges are not compared.)
#[cfg_attr(not(debug_assertions), allow(dead_code))]
fn files(migration: &Migration) -> Vec<(&str, waterline_core::Checksum)> {
    [migration.up(), migration.down()]
        .into_iter()
        .flat_map(|direction| {
            let variants = direction.variants().iter().map(|v| v.script());
            direction.default_script().into_iter().chain(variants)
        })
        .map(|script| (script.path(), script.checksum()))
        .collect()
}

impl fmt::Display for StaleEmbed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let folder = &self.folder;
        write!(
            f,
            "the migrations embedded in this binary are not the ones in `{folder}`: "
        )?;
        if let Some(problems) = &self.problems {
            write!(
                f,
                "the folder changed since the build and now breaks the rules:\n{problems}\n"
            )?;
        }
        for (index, difference) in self.differences.iter().enumerate() {
            let (path, what) = difference.describe();
            let separator = if index == 0 { "" } else { ", " };
            write!(f, "{separator}`{path}` {what}")?;
        }
        write!(
            f,
            "; rebuild, and add a build.rs with `println!(\"cargo:rerun-if-changed={folder}\");` \
             so cargo rebuilds when a migration is added"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(files: &[(&str, &str)]) -> Vec<Migration> {
        let dir = tempfile::tempdir().unwrap();
        for (file, sql) in files {
            std::fs::write(dir.path().join(file), sql).unwrap();
        }
        waterline_core::read_folder(dir.path(), "migrations").unwrap()
    }

    #[test]
    fn agreeing_sets_are_current() {
        let set = folder(&[("001_a.sql", "SELECT 1;")]);
        assert_eq!(
            StaleEmbed::compare("migrations", &set, Ok(set.clone())),
            None
        );
    }

    #[test]
    fn names_every_added_removed_and_changed_migration() {
        let embedded = folder(&[("001_a.sql", "SELECT 1;"), ("002_b.sql", "SELECT 2;")]);
        let on_disk = folder(&[("001_a.sql", "SELECT 10;"), ("003_c.sql", "SELECT 3;")]);
        let stale = StaleEmbed::compare("migrations", &embedded, Ok(on_disk)).unwrap();
        assert_eq!(stale.added().collect::<Vec<_>>(), ["migrations/003_c.sql"]);
        assert_eq!(
            stale.to_string(),
            "the migrations embedded in this binary are not the ones in `migrations`: \
             `migrations/001_a.sql` changed since the build, `migrations/003_c.sql` is on disk \
             but not embedded, `migrations/002_b.sql` is embedded but not on disk; rebuild, and \
             add a build.rs with `println!(\"cargo:rerun-if-changed=migrations\");` so cargo \
             rebuilds when a migration is added"
        );
    }

    #[test]
    fn a_folder_that_now_breaks_the_rules_is_stale() {
        let embedded = folder(&[("001_a.sql", "SELECT 1;")]);
        let problems = Problems(vec![waterline_core::Problem::Empty {
            file: "migrations/002_b.sql".into(),
        }]);
        let stale = StaleEmbed::compare("migrations", &embedded, Err(problems)).unwrap();
        assert!(stale
            .to_string()
            .contains("now breaks the rules:\nmigration `migrations/002_b.sql` has no SQL"));
    }
}
