//! Turns a migrations folder into its sorted migrations, or into every problem it has.

mod content;
mod entries;
mod names;

use std::path::Path;

use crate::model::Migration;
use crate::problem::{Problem, Problems};

pub use entries::{Candidate, Kind};

/// Reads the migrations folder `dir` and checks every rule.
///
/// `label` is how paths are shown in messages and in each script's [`path`](crate::Script::path):
/// usually the folder as the user wrote it, such as `migrations`. On success the migrations are
/// sorted by version; otherwise every problem of the folder is returned, in file order.
pub fn read_folder(dir: &Path, label: &str) -> Result<Vec<Migration>, Problems> {
    let label = label.trim_end_matches('/');
    let mut problems = Vec::new();
    let candidates = entries::list(dir, label, &mut problems)?;
    let named = names::check(&candidates, &mut problems);
    let mut migrations = Vec::new();
    for (candidate, parsed) in candidates.iter().zip(named) {
        let scripts = content::read(candidate, &mut problems);
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
    Ok(migrations)
}

#[cfg(test)]
mod tests;
