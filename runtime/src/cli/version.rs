//! A version as an operator types it: the number `status` shows, or the version as written
//! in the migration's name, dashes and all (`2017-08-31-230457`, as diesel_cli names it, or
//! `20170831230457`, as `__diesel_schema_migrations` records it).

use std::str::FromStr;

use crate::Migrations;

/// A version given on the command line, resolved against the embedded migrations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionArg(String);

impl FromStr for VersionArg {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let well_formed = text.starts_with(|c: char| c.is_ascii_digit())
            && text.chars().all(|c| c.is_ascii_digit() || c == '-');
        if well_formed {
            Ok(VersionArg(text.to_owned()))
        } else {
            Err(format!(
                "`{text}` is not a version: write it as `status` shows it, or as in the \
                 migration's name (`024`, `2017-08-31-230457`)"
            ))
        }
    }
}

impl VersionArg {
    /// The version of the embedded migration this names; a number no migration has is kept
    /// as it is, for the runner to refuse with the embedded range.
    pub fn resolve(&self, migrations: &Migrations) -> u64 {
        let text = self.0.as_str();
        if let Some(migration) = waterline_core::model::find_version(migrations.as_slice(), text) {
            return migration.version();
        }
        // Digits and dashes that name nothing: their number, refused by the runner as a
        // version that is not embedded, with the embedded range.
        waterline_core::diesel::recorded_version(text)
            .parse()
            .unwrap_or(u64::MAX)
    }
}
