//! `metadata.toml` of a migration directory in diesel's layout: whether its scripts run in a
//! transaction, read exactly as diesel_migrations reads it.

use std::fs;
use std::path::Path;

use crate::problem::Problem;

/// The one key diesel_migrations reads.
const RUN_IN_TRANSACTION: &str = "run_in_transaction";

/// Whether the scripts of the directory whose `metadata.toml` is at `path` (shown as `shown`)
/// run outside a transaction.
///
/// As in diesel_migrations, a file without the key means `false`: its `TomlMetadata` takes a
/// missing boolean as `false`. Unlike it, an unreadable file, a key it does not know and a
/// value that is not a boolean are refused rather than read as the default: each is a
/// mistake the author would want to hear of.
pub(super) fn no_transaction(path: &Path, shown: &str, problems: &mut Vec<Problem>) -> bool {
    let refuse = |problems: &mut Vec<Problem>, what: String| {
        problems.push(Problem::BadMetadata {
            file: shown.to_owned(),
            what,
        });
        false
    };
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) => return refuse(problems, format!("it cannot be read ({error})")),
    };
    let table = match text.parse::<toml::Table>() {
        Ok(table) => table,
        Err(error) => {
            let reason = error.message().trim_end_matches('\n').to_owned();
            return refuse(problems, format!("it is not valid TOML ({reason})"));
        }
    };
    if let Some(unknown) = table.keys().find(|key| *key != RUN_IN_TRANSACTION) {
        return refuse(problems, format!("unknown key `{unknown}`"));
    }
    match table.get(RUN_IN_TRANSACTION) {
        None => true,
        Some(toml::Value::Boolean(run_in_transaction)) => !run_in_transaction,
        Some(other) => refuse(
            problems,
            format!(
                "`{RUN_IN_TRANSACTION}` is {}, not `true` or `false`",
                other.type_str()
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (bool, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metadata.toml");
        fs::write(&path, text).unwrap();
        let mut problems = Vec::new();
        let no_transaction = no_transaction(&path, "m/x/metadata.toml", &mut problems);
        let messages = problems.iter().map(ToString::to_string).collect();
        (no_transaction, messages)
    }

    #[test]
    fn reads_the_key_as_diesel_does() {
        assert_eq!(read("run_in_transaction = false\n"), (true, vec![]));
        assert_eq!(read("run_in_transaction = true\n"), (false, vec![]));
        // diesel_migrations' `#[serde(default)] bool`: no key is `false`.
        assert_eq!(read("# nothing\n"), (true, vec![]));
    }

    #[test]
    fn refuses_what_diesel_would_silently_ignore() {
        let (_, problems) = read("run_in_transaction = false\nrun_in_transactoin = true\n");
        assert_eq!(
            problems,
            [
                "`m/x/metadata.toml`: unknown key `run_in_transactoin`; diesel_migrations reads \
                 one key: write `run_in_transaction = false` to run the scripts outside a \
                 transaction, or delete the file to run them in one"
            ]
        );
        let (_, problems) = read("run_in_transaction = \"no\"\n");
        assert!(problems[0].contains("`run_in_transaction` is string, not `true` or `false`"));
        let (_, problems) = read("run_in_transaction = \n");
        assert!(problems[0].contains("it is not valid TOML"), "{problems:?}");
    }
}
