//! The naming rules of a folder in diesel's layout: each directory in one of diesel's forms,
//! no two with one version, and every top-level file named as what it is, not a migration.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use super::entries::{Candidate, Kind};
use super::names::Parsed;
use super::Notice;
use crate::diesel::{self, DieselNameError};
use crate::problem::Problem;

/// Checks every directory's name; returns, per candidate, its parts when the name is valid.
/// Top-level files are not migrations in this layout: each is a notice, and `None`.
pub(super) fn check(candidates: &[Candidate], problems: &mut Vec<Problem>) -> Vec<Option<Parsed>> {
    let mut by_version: BTreeMap<u64, Vec<&Candidate>> = BTreeMap::new();
    let parsed = candidates
        .iter()
        .map(|candidate| {
            if candidate.kind == Kind::File {
                return None;
            }
            match diesel::parse(&candidate.stem) {
                Ok(name) => {
                    by_version.entry(name.version).or_default().push(candidate);
                    Some(Parsed {
                        version: name.version,
                        name_start: name.written.len() + 1,
                    })
                }
                Err(fault) => {
                    problems.push(name_problem(candidate, &fault));
                    None
                }
            }
        })
        .collect();
    let taken = |version| by_version.contains_key(&version);
    for (version, holders) in by_version.iter().filter(|(_, h)| h.len() > 1) {
        let last = holders.last().expect("two or more");
        problems.push(Problem::SameDieselVersion {
            version: *version,
            files: holders.iter().map(|c| c.shown.clone()).collect(),
            next_free: next_suffix(&last.stem, *version, taken),
        });
    }
    parsed
}

/// A notice for every file at the top of the folder (dotfiles aside): diesel_migrations runs
/// only directories, and so does this layout.
pub(super) fn top_level_files(dir: &Path, label: &str, notices: &mut Vec<Notice>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut files: Vec<String> = entries
        .flatten()
        .filter(|entry| entry.path().is_file())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with('.'))
        .collect();
    files.sort();
    notices.extend(files.into_iter().map(|name| {
        let file = format!("{label}/{name}");
        let message = format!(
            "`{file}` is not a migration: in diesel's layout a migration is a directory, so \
             this file is neither embedded nor run, as with diesel_migrations"
        );
        Notice { file, message }
    }));
}

fn name_problem(candidate: &Candidate, fault: &DieselNameError) -> Problem {
    let stem = &candidate.stem;
    let name = stem.split_once('_').map_or("", |(_, name)| name);
    let shape = |name: &str| format!("`YYYY-MM-DD-HHMMSS_{name}`");
    let renamed = "a renamed migration is a new version to the database: if it was applied \
                   under this name, run `migrate mark <new version> applied` after renaming";
    let (what, fix) = match fault {
        DieselNameError::NotATimestamp => {
            let digits: String = stem
                .split('_')
                .next()
                .unwrap_or_default()
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            let fix = match (digits.len(), name.is_empty()) {
                (14, false) => format!(
                    "rename it to `{}-{}-{}-{}_{name}`",
                    &digits[..4],
                    &digits[4..6],
                    &digits[6..8],
                    &digits[8..]
                ),
                _ => format!(
                    "rename it to {} with the time it was written, as `migrate new` does; {renamed}",
                    shape(if name.is_empty() { "<name>" } else { name })
                ),
            };
            (
                "the folder is in diesel's layout, and the version is none of diesel's forms \
                 (`YYYY-MM-DD-HHMMSS`, `YYYYMMDDHHMMSS`, `YYYY-MM-DD-HHMMSS-NNNN`)"
                    .to_owned(),
                fix,
            )
        }
        DieselNameError::Impossible { field, value } => (
            format!("{} {value:02} does not exist", field.as_str()),
            format!(
                "rename it with a real time, in the form {}; {renamed}",
                shape(name)
            ),
        ),
        DieselNameError::NoName => (
            "no name after the version".to_owned(),
            format!("rename it to `{stem}<name>`, as in `{stem}create_users`"),
        ),
        DieselNameError::BadChar(c) => {
            let version = stem.split_once('_').map_or(stem.as_str(), |(v, _)| v);
            let cleaned: String = name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            (
                format!("`{c}` is not allowed in a name (use letters, digits, `_` and `-`)"),
                format!("rename it to `{version}_{cleaned}`"),
            )
        }
    };
    Problem::DieselName {
        file: candidate.shown.clone(),
        what,
        fix,
    }
}

/// The name `stem` would have with the next free suffix after `version`, in diesel_cli 2.3's
/// form: `2017-08-31-230457-0001_<name>` for version `201708312304570000`.
fn next_suffix(stem: &str, version: u64, taken: impl Fn(u64) -> bool) -> String {
    let name = stem.split_once('_').map_or(stem, |(_, name)| name);
    let mut next = version + 1;
    while taken(next) && next % 10_000 != 9_999 {
        next += 1;
    }
    format!("{}_{name}", diesel::written(next))
}

#[cfg(test)]
mod tests {
    use super::next_suffix;

    #[test]
    fn the_next_free_name_takes_the_next_suffix() {
        assert_eq!(
            next_suffix("20170831230457_a", 201708312304570000, |_| false),
            "2017-08-31-230457-0001_a"
        );
        assert_eq!(
            next_suffix("2017-08-31-230457-0001_b", 201708312304570001, |v| v
                == 201708312304570002),
            "2017-08-31-230457-0003_b"
        );
    }
}
