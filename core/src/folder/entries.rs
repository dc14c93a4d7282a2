//! Lists the entries of a migrations folder that are migrations: `.sql` files (any case of
//! the extension, so `.SQL` is reported rather than skipped), `.rs` files (migrations written
//! in Rust) and directories whose name starts with a digit or that hold an `up.sql` or
//! `down.sql`. Dotfiles and other files are ignored.

use std::fs;
use std::path::{Path, PathBuf};

use crate::problem::{Problem, Problems};

/// Whether a migration is a single file or a directory of scripts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `024_add_codec.sql`, or `024_add_codec.rs` for a migration written in Rust
    File,
    /// `024_add_codec/` with `up.sql` and optionally `down.sql`
    Directory,
}

/// An entry of the folder that is (or was meant to be) a migration.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Candidate {
    /// The entry's path on disk.
    pub path: PathBuf,
    /// The path as shown to users: `<label>/<file name>`.
    pub shown: String,
    /// The file name without its extension, or the directory name.
    pub stem: String,
    /// The extension as written (`sql`, `SQL`, `rs`, ...), for files.
    pub extension: Option<String>,
    /// File or directory.
    pub kind: Kind,
}

/// The migration candidates of `dir`, sorted by name.
pub(super) fn list(
    dir: &Path,
    label: &str,
    problems: &mut Vec<Problem>,
) -> Result<Vec<Candidate>, Problems> {
    let folder_error = |problem| Err(Problems(vec![problem]));
    let root = match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf()),
        Ok(_) => {
            return folder_error(Problem::NotAFolder {
                folder: label.to_owned(),
            })
        }
        Err(_) => {
            return folder_error(Problem::FolderMissing {
                folder: label.to_owned(),
            })
        }
    };
    let mut entries =
        match fs::read_dir(dir).and_then(|entries| entries.collect::<Result<Vec<_>, _>>()) {
            Ok(entries) => entries,
            Err(error) => {
                return folder_error(Problem::Unreadable {
                    file: label.to_owned(),
                    reason: error.to_string(),
                })
            }
        };
    entries.sort_by_key(fs::DirEntry::file_name);
    let mut candidates = Vec::new();
    for entry in entries {
        if let Some(candidate) = classify(&entry.path(), &root, label, problems) {
            candidates.push(candidate);
        }
    }
    Ok(candidates)
}

fn classify(
    path: &Path,
    root: &Path,
    label: &str,
    problems: &mut Vec<Problem>,
) -> Option<Candidate> {
    let os_name = path.file_name()?;
    let lossy = os_name.to_string_lossy();
    if lossy.starts_with('.') {
        return None;
    }
    let shown = format!("{label}/{lossy}");
    let meta = fs::metadata(path);
    let kind = match &meta {
        Ok(meta) if meta.is_dir() && looks_like_migration_dir(&lossy, path) => Kind::Directory,
        Ok(meta) if meta.is_file() && migration_extension(&lossy).is_some() => Kind::File,
        Ok(_) => return None,
        Err(_) if migration_extension(&lossy).is_some() || starts_with_digit(&lossy) => {
            let reason = "it is a broken symlink or cannot be opened".to_owned();
            problems.push(Problem::Unreadable {
                file: shown,
                reason,
            });
            return None;
        }
        Err(_) => return None,
    };
    let Some(name) = os_name.to_str() else {
        problems.push(Problem::NonUtf8FileName { file: shown });
        return None;
    };
    if let Some(target) = outside_target(path, root) {
        problems.push(Problem::SymlinkOutside {
            file: shown,
            target: target.display().to_string(),
        });
        return None;
    }
    let (stem, extension) = match kind {
        Kind::File => {
            let extension = migration_extension(name)?;
            (
                &name[..name.len() - extension.len() - 1],
                Some(extension.to_owned()),
            )
        }
        Kind::Directory => (name, None),
    };
    Some(Candidate {
        path: path.to_path_buf(),
        shown,
        stem: stem.to_owned(),
        extension,
        kind,
    })
}

/// The extension of `name` when it is a migration's: `sql` in any case, or `rs`.
fn migration_extension(name: &str) -> Option<&str> {
    let (_, extension) = name.rsplit_once('.')?;
    (extension.eq_ignore_ascii_case("sql") || extension == RUST).then_some(extension)
}

/// The extension of a migration written in Rust.
pub(crate) const RUST: &str = "rs";

fn starts_with_digit(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_digit())
}

fn looks_like_migration_dir(name: &str, path: &Path) -> bool {
    starts_with_digit(name) || path.join("up.sql").exists() || path.join("down.sql").exists()
}

/// Where a symlink leads when that is outside `root`.
pub(super) fn outside_target(path: &Path, root: &Path) -> Option<PathBuf> {
    let is_link = fs::symlink_metadata(path).ok()?.file_type().is_symlink();
    let target = if is_link {
        path.canonicalize().ok()?
    } else {
        return None;
    };
    (!target.starts_with(root)).then_some(target)
}
