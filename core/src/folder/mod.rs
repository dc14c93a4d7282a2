//! Turns a migrations folder into its sorted migrations, or into every problem it has.

mod content;
mod diesel_names;
mod entries;
mod layout;
mod metadata;
mod names;

use std::path::Path;

use crate::model::Migration;
use crate::problem::{Problem, Problems};

pub use entries::{Candidate, Kind};
pub use layout::Layout;

/// Something about a folder that is not wrong but is worth saying: a file that is not a
/// migration, a migration that cannot be reverted. `migrate lint` shows each as advice, and
/// `lint = strict` fails the build on it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Notice {
    /// The file or directory as shown to users, e.g. `migrations/seed.sql`.
    pub file: String,
    /// The whole message, naming the file.
    pub message: String,
}

/// A folder read without problems.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Folder {
    /// How the folder names its migrations.
    pub layout: Layout,
    /// The migrations, sorted by version.
    pub migrations: Vec<Migration>,
    /// What is worth saying about the folder, in file order.
    pub notices: Vec<Notice>,
}

/// The largest script embedded: 16 MiB. Beyond it, a file is more likely data than a
/// migration, and it would bloat every binary and build.
pub const MAX_SCRIPT_BYTES: u64 = 16 * 1024 * 1024;

/// The problems the name `file_name` would have as a new entry of a folder whose versions
/// have `width` digits: the same messages `read_folder` gives. Empty when it is valid.
pub fn check_new_name(label: &str, file_name: &str, kind: Kind, width: usize) -> Vec<Problem> {
    let stem = match kind {
        Kind::File => file_name.strip_suffix(".sql").unwrap_or(file_name),
        Kind::Directory => file_name,
    };
    let candidate = Candidate {
        path: std::path::PathBuf::from(file_name),
        shown: format!("{}/{file_name}", label.trim_end_matches('/')),
        stem: stem.to_owned(),
        extension: (kind == Kind::File).then(|| "sql".to_owned()),
        kind,
    };
    names::check_one(&candidate, width)
}

/// Reads the migrations folder `dir` and checks every rule.
///
/// `label` is how paths are shown in messages and in each script's [`path`](crate::Script::path):
/// usually the folder as the user wrote it, such as `migrations`. On success the migrations are
/// sorted by version; otherwise every problem of the folder is returned, in file order.
///
/// The statements of `no-transaction` scripts and of scripts that allow `transaction-control`
/// ([`Script::statements`](crate::Script::statements)) are located only with the `sql` feature. Without it the result is enough to compare a folder
/// with an embedded set, by checksum, but not to run it.
pub fn read_folder(dir: &Path, label: &str) -> Result<Vec<Migration>, Problems> {
    read(dir, label).map(|folder| folder.migrations)
}

/// Reads the migrations folder `dir` as [`read_folder`] does, with its layout and notices.
pub fn read(dir: &Path, label: &str) -> Result<Folder, Problems> {
    let label = label.trim_end_matches('/');
    let mut problems = Vec::new();
    let mut notices = Vec::new();
    let candidates = entries::list(dir, label, &mut problems)?;
    let layout = Layout::of(&candidates);
    let named = match layout {
        Layout::Numbered => names::check(&candidates, &mut problems),
        Layout::Diesel => {
            diesel_names::top_level_files(dir, label, &mut notices);
            diesel_names::check(&candidates, &mut problems)
        }
    };
    let mut migrations = Vec::new();
    for (candidate, parsed) in candidates.iter().zip(named) {
        if layout == Layout::Diesel && candidate.kind == Kind::File {
            continue;
        }
        let scripts = content::read(candidate, layout, &mut problems, &mut notices);
        if let (Some(parsed), Some((up, down))) = (parsed, scripts) {
            migrations.push(Migration::new(
                parsed.version,
                candidate.stem.clone(),
                parsed.name_start,
                up,
                down,
            ));
        }
    }
    if !problems.is_empty() {
        problems.sort_by(|a, b| a.file().cmp(b.file()));
        return Err(Problems(problems));
    }
    if migrations.is_empty() {
        return Err(Problems(vec![Problem::NoMigrations {
            folder: label.to_owned(),
        }]));
    }
    migrations.sort_by_key(Migration::version);
    notices.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(Folder {
        layout,
        migrations,
        notices,
    })
}

#[cfg(test)]
mod tests;
