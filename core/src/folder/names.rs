//! The naming rules across a folder: each name alone, one version width for all, and no
//! version twice. Every problem's fix is the fully corrected name, so following one message
//! never leads to another.

use std::collections::BTreeMap;

use super::entries::{Candidate, Kind};
use crate::name::{self, NameError, NameFault, MIN_DIGITS};
use crate::problem::Problem;

/// The parts of a name that parsed, enough to build a migration.
#[derive(Clone, Copy, Debug)]
pub(super) struct Parsed {
    pub version: u64,
    pub name_start: usize,
}

/// A candidate's version as written, when it has one.
struct Version<'a> {
    digits: &'a str,
    value: u64,
}

/// Checks every name; returns, per candidate, its parts when the name is valid.
pub(super) fn check(candidates: &[Candidate], problems: &mut Vec<Problem>) -> Vec<Option<Parsed>> {
    let versions: Vec<Option<Version<'_>>> =
        candidates.iter().map(|c| version_of(&c.stem)).collect();
    let width = Width::of(candidates, &versions);
    let mut next_free = versions
        .iter()
        .flatten()
        .map(|v| v.value + 1)
        .max()
        .unwrap_or(1);
    let mut parsed = Vec::with_capacity(candidates.len());
    for (candidate, version) in candidates.iter().zip(&versions) {
        let fix = Fix::new(candidate, &width, &mut next_free);
        let before = problems.len();
        name_problems(candidate, &fix, problems);
        if let Some(version) = version {
            width.check(candidate, version, &fix, problems);
        }
        extension_problem(candidate, &fix, problems);
        let valid = name::parse_stem(&candidate.stem)
            .ok()
            .filter(|_| problems.len() == before);
        parsed.push(valid.map(|p| Parsed {
            version: p.version,
            name_start: p.digits.len() + 1,
        }));
    }
    duplicates(candidates, &versions, &width, problems);
    parsed
}

/// The problems of one name alone, for a folder of `width`-digit versions.
pub(super) fn check_one(candidate: &Candidate, width: usize) -> Vec<Problem> {
    let version = version_of(&candidate.stem);
    let digits = width.max(MIN_DIGITS);
    let width = Width {
        digits,
        example: None,
    };
    let mut next_free = version.as_ref().map_or(1, |v| v.value + 1);
    let fix = Fix::new(candidate, &width, &mut next_free);
    let mut problems = Vec::new();
    name_problems(candidate, &fix, &mut problems);
    problems
}

fn version_of(stem: &str) -> Option<Version<'_>> {
    match name::parse_stem(stem) {
        Ok(p) => Some(Version {
            digits: p.digits,
            value: p.version,
        }),
        Err(
            NameError::BadSeparator {
                digits, version, ..
            }
            | NameError::BadName {
                digits, version, ..
            },
        ) => Some(Version {
            digits,
            value: version,
        }),
        Err(NameError::NoVersion | NameError::VersionTooLarge { .. }) => None,
    }
}

/// The number of digits every version of the folder must have, and a file that has it.
struct Width<'a> {
    digits: usize,
    example: Option<&'a str>,
}

impl<'a> Width<'a> {
    /// The most common width (the wider on a tie), widened to fit every version and to at
    /// least [`MIN_DIGITS`].
    fn of(candidates: &'a [Candidate], versions: &[Option<Version<'_>>]) -> Width<'a> {
        let mut counts: BTreeMap<usize, usize> = BTreeMap::new();
        for version in versions.iter().flatten() {
            *counts.entry(version.digits.len()).or_default() += 1;
        }
        let common = counts
            .iter()
            .max_by_key(|(width, count)| (**count, **width))
            .map_or(0, |(w, _)| *w);
        let needed = versions
            .iter()
            .flatten()
            .map(|v| name::significant_digits(v.value))
            .max()
            .unwrap_or(0);
        let digits = common.max(needed).max(MIN_DIGITS);
        let example = candidates
            .iter()
            .zip(versions)
            .find(|(_, version)| version.as_ref().is_some_and(|v| v.digits.len() == digits))
            .map(|(candidate, _)| candidate.file_name());
        Width { digits, example }
    }

    fn check(
        &self,
        candidate: &Candidate,
        version: &Version<'_>,
        fix: &Fix,
        problems: &mut Vec<Problem>,
    ) {
        let (file, digits, fix) = (
            candidate.shown.clone(),
            version.digits.to_owned(),
            fix.sentence(),
        );
        let width = self.digits;
        let problem = match self.example {
            _ if version.digits.len() == width => return,
            None => Problem::TooFewDigits { file, digits, fix },
            Some(example) if version.digits.len() < width => Problem::NotZeroPadded {
                file,
                digits,
                width,
                example: example.to_owned(),
                fix,
            },
            Some(example) => Problem::TooManyDigits {
                file,
                digits,
                width,
                example: example.to_owned(),
                fix,
            },
        };
        problems.push(problem);
    }
}

/// The corrected name of a candidate, when one can be worked out.
struct Fix {
    corrected: Option<String>,
    version_digits: Option<String>,
}

impl Fix {
    fn new(candidate: &Candidate, width: &Width<'_>, next_free: &mut u64) -> Fix {
        let pad = |value| name::pad_version(value, width.digits);
        let (version, name_text) = match name::parse_stem(&candidate.stem) {
            Ok(p) => (Some(pad(p.version)), Some(p.name.to_owned())),
            Err(NameError::BadSeparator { version, rest, .. }) => {
                (Some(pad(version)), name::suggest_name(rest))
            }
            Err(NameError::BadName { version, name, .. }) => {
                (Some(pad(version)), name::suggest_name(name))
            }
            Err(NameError::VersionTooLarge { .. }) => (None, None),
            Err(NameError::NoVersion) => match trailing_version(&candidate.stem) {
                Some((rest, value)) => (Some(pad(value)), name::suggest_name(rest)),
                None => {
                    *next_free += 1;
                    (
                        Some(pad(*next_free - 1)),
                        name::suggest_name(&candidate.stem),
                    )
                }
            },
        };
        let extension = match candidate.kind {
            Kind::File if candidate.extension.as_deref() == Some(super::entries::RUST) => ".rs",
            Kind::File => ".sql",
            Kind::Directory => "",
        };
        let corrected = match (&version, name_text) {
            (Some(version), Some(name_text)) => Some(format!("{version}_{name_text}{extension}")),
            _ => None,
        };
        Fix {
            corrected,
            version_digits: version,
        }
    }

    /// The fix as the end of a message.
    fn sentence(&self) -> String {
        match (&self.corrected, &self.version_digits) {
            (Some(corrected), _) => format!("rename it to `{corrected}`"),
            (None, Some(version)) => {
                format!("rename it to `{version}_<name>` with a lowercase snake_case name, as in `{version}_create_users`")
            }
            (None, None) => "rename it to `<version>_<name>.sql`".to_owned(),
        }
    }
}

/// `migration_024` is `migration` and 24: the version was written last.
fn trailing_version(stem: &str) -> Option<(&str, u64)> {
    let (rest, digits) = stem.rsplit_once('_')?;
    let all_digits = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    let value = digits
        .parse()
        .ok()
        .filter(|v| all_digits && *v <= name::MAX_VERSION)?;
    Some((rest, value))
}

fn name_problems(candidate: &Candidate, fix: &Fix, problems: &mut Vec<Problem>) {
    let file = candidate.shown.clone();
    let fix = fix.sentence();
    let problem = match name::parse_stem(&candidate.stem) {
        Ok(_) => return,
        Err(NameError::NoVersion) => Problem::NoVersion { file, fix },
        Err(NameError::VersionTooLarge { digits }) => Problem::VersionTooLarge {
            file,
            digits: digits.to_owned(),
        },
        Err(NameError::BadSeparator { found, .. }) => Problem::BadSeparator { file, found, fix },
        Err(NameError::BadName {
            fault: NameFault::WrongCase,
            ..
        }) => Problem::WrongCase { file, fix },
        Err(NameError::BadName { fault, .. }) => Problem::BadName { file, fault, fix },
    };
    problems.push(problem);
}

fn extension_problem(candidate: &Candidate, fix: &Fix, problems: &mut Vec<Problem>) {
    if candidate
        .extension
        .as_deref()
        .is_some_and(|extension| extension != "sql" && extension != super::entries::RUST)
    {
        let fix = match &fix.corrected {
            Some(_) => fix.sentence(),
            None => format!("rename it to `{}.sql`", candidate.stem),
        };
        problems.push(Problem::UppercaseExtension {
            file: candidate.shown.clone(),
            fix,
        });
    }
}

fn duplicates(
    candidates: &[Candidate],
    versions: &[Option<Version<'_>>],
    width: &Width<'_>,
    problems: &mut Vec<Problem>,
) {
    let mut by_value: BTreeMap<u64, Vec<(&Candidate, &str)>> = BTreeMap::new();
    for (candidate, version) in candidates.iter().zip(versions) {
        if let Some(version) = version {
            by_value
                .entry(version.value)
                .or_default()
                .push((candidate, version.digits));
        }
    }
    let next_free = by_value.keys().next_back().map_or(1, |max| max + 1);
    for (value, holders) in by_value
        .into_iter()
        .filter(|(_, holders)| holders.len() > 1)
    {
        problems.push(Problem::DuplicateVersion {
            digits: name::pad_version(value, width.digits),
            files: holders
                .iter()
                .map(|(candidate, _)| candidate.shown.clone())
                .collect(),
            next_free: name::pad_version(next_free, width.digits),
        });
    }
}

impl Candidate {
    /// The entry's file name as written: `024_add_codec.sql` or `024_add_codec`.
    pub fn file_name(&self) -> &str {
        self.shown.rsplit('/').next().unwrap_or(&self.shown)
    }
}
