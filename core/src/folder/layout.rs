//! Which naming a folder follows: waterline's numbered names, or diesel_migrations' layout.

use super::entries::{Candidate, Kind};
use crate::diesel;

/// How a folder names its migrations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `<version>_<name>.sql` files or directories, every version of one width.
    Numbered,
    /// diesel_migrations' directories: `YYYY-MM-DD-HHMMSS_name`, `YYYYMMDDHHMMSS_name`,
    /// `YYYY-MM-DD-HHMMSS-NNNN_name` and `00000000000000_diesel_initial_setup`, each with
    /// `up.sql`, and optionally `down.sql` and `metadata.toml`.
    Diesel,
}

impl Layout {
    /// The layout of a folder with `candidates`.
    ///
    /// Diesel's when a directory is named or holds a file only diesel's layout has (a dashed
    /// timestamp, the initial setup's zeros, `metadata.toml`), or when every migration is a
    /// directory with a 14-digit timestamp: the names diesel_cli wrote before it used
    /// dashes. Deciding by the whole folder keeps a folder's versions the same when
    /// diesel_cli adds a dashed name to it.
    pub(super) fn of(candidates: &[Candidate]) -> Layout {
        let directories = candidates.iter().filter(|c| c.kind == Kind::Directory);
        let diesel_only = directories
            .clone()
            .any(|c| diesel::is_diesel_only(&c.stem) || c.path.join("metadata.toml").is_file());
        let numbered_file = candidates
            .iter()
            .any(|c| c.kind == Kind::File && c.stem.starts_with(|c: char| c.is_ascii_digit()));
        let all_timestamped = directories.clone().next().is_some()
            && directories
                .clone()
                .all(|c| diesel::has_plain_timestamp(&c.stem));
        if diesel_only || (all_timestamped && !numbered_file) {
            Layout::Diesel
        } else {
            Layout::Numbered
        }
    }
}
