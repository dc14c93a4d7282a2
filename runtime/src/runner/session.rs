//! A migration cannot change the session it runs in. Migrations run on the application's own
//! connection, often one lent by its pool, so what a script sets (PostgreSQL's `search_path`,
//! `statement_timeout` or `session_replication_role`, MySQL's `autocommit` or
//! `foreign_key_checks`, SQLite's `foreign_keys`) must reach neither the next migration nor
//! the application.
//!
//! The runner takes a snapshot of the session before the first migration and, after each
//! migration that may have changed it and at the end of the run, puts back every setting that
//! differs: PostgreSQL, every setting whose source is the session (`pg_settings`); MySQL and
//! MariaDB, the session variables that change how statements and transactions behave; SQLite,
//! the connection's pragmas. Setting them back is itself a statement per setting, sent only
//! when something changed.

use waterline_core::{Backend, Script};

use super::driver::Driver;
use super::message::dollar_quoted;
use crate::error::Error;

/// MySQL and MariaDB session variables that change how statements and transactions behave.
const MYSQL_VARIABLES: [&str; 24] = [
    "AUTOCOMMIT",
    "BIG_TABLES",
    "CHARACTER_SET_CLIENT",
    "CHARACTER_SET_CONNECTION",
    "CHARACTER_SET_RESULTS",
    "COLLATION_CONNECTION",
    "COMPLETION_TYPE",
    "DIV_PRECISION_INCREMENT",
    "FOREIGN_KEY_CHECKS",
    "GROUP_CONCAT_MAX_LEN",
    "INNODB_LOCK_WAIT_TIMEOUT",
    "LOCK_WAIT_TIMEOUT",
    "MAX_EXECUTION_TIME",
    "MAX_STATEMENT_TIME",
    "SQL_AUTO_IS_NULL",
    "SQL_MODE",
    "SQL_NOTES",
    "SQL_SAFE_UPDATES",
    "SQL_SELECT_LIMIT",
    "TIME_ZONE",
    "TRANSACTION_ISOLATION",
    "TRANSACTION_READ_ONLY",
    "TX_ISOLATION",
    "UNIQUE_CHECKS",
];

/// SQLite pragmas that belong to the connection and change how statements behave.
const SQLITE_PRAGMAS: [&str; 8] = [
    "foreign_keys",
    "recursive_triggers",
    "query_only",
    "defer_foreign_keys",
    "reverse_unordered_selects",
    "legacy_alter_table",
    "trusted_schema",
    "cell_size_check",
];

/// The session's settings when the run started, to put back.
pub struct Session {
    backend: Backend,
    settings: Vec<(String, String)>,
}

impl Session {
    /// Reads the session's settings.
    pub fn save(driver: &mut dyn Driver) -> Result<Session, Error> {
        let backend = driver.backend();
        let settings = read(driver, backend).map_err(|cause| Error::Database {
            operation: "read the session's settings before migrating",
            table: String::new(),
            message: cause.to_string(),
            cause: Box::new(cause),
        })?;
        Ok(Session { backend, settings })
    }

    /// Puts back every setting that differs from the snapshot; `after` names what ran, for
    /// the error should that fail.
    pub fn restore(&self, driver: &mut dyn Driver, table: &str) -> Result<(), Error> {
        let failed = |cause: diesel::result::Error| Error::Database {
            operation: "put the session's settings back after a migration",
            table: table.to_owned(),
            message: cause.to_string(),
            cause: Box::new(cause),
        };
        let now = read(driver, self.backend).map_err(failed)?;
        let sql = self.statements_to_restore(&now);
        if sql.is_empty() {
            return Ok(());
        }
        tracing::debug!(sql = sql.as_str(), "putting the session's settings back");
        driver.batch(&sql).map_err(failed)
    }

    /// [`restore`](Self::restore) after a failure, whose error is the one to report: a
    /// failure to restore (the connection may be gone) is only logged.
    pub fn restore_if_possible(&self, driver: &mut dyn Driver, table: &str) {
        if let Err(error) = self.restore(driver, table) {
            tracing::warn!(%error, "could not put the session's settings back after a failed migration");
        }
    }

    /// The SQL that turns the settings `now` back into the snapshot's.
    fn statements_to_restore(&self, now: &[(String, String)]) -> String {
        let before = |name: &str| {
            self.settings
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        let mut sql = Vec::new();
        for (name, value) in now {
            match before(name) {
                Some(old) if old == value => {}
                Some(old) => sql.push(set(self.backend, name, old)),
                // PostgreSQL: a setting the session did not have set before.
                None => sql.push(format!("RESET {name}")),
            }
        }
        // PostgreSQL: a setting the migration reset.
        for (name, old) in &self.settings {
            if !now.iter().any(|(n, _)| n == name) {
                sql.push(set(self.backend, name, old));
            }
        }
        sql.iter()
            .map(|s| format!("{s};"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Whether `script` may change its session: it holds one of the words `SET`, `RESET`,
/// `DISCARD`, `PRAGMA`, `DO` or `set_config`. Read from its words, cheaply, and erring on the
/// side of checking (an UPDATE's `SET` counts too): the check is one query.
pub fn may_change(script: &Script) -> bool {
    // The runner sets the statement timeout a script asks for; code may set anything.
    script.is_rust()
        || script.directives().statement_timeout().is_some()
        || waterline_core::sql_text::words(script.sql()).any(|word| {
            matches!(
                word.as_ref(),
                "SET" | "RESET" | "DISCARD" | "PRAGMA" | "DO" | "SET_CONFIG"
            )
        })
}

/// The statement that sets `name` back to `value`. Names come from the server's own
/// catalogue; they are checked to be plain identifiers (letters, digits, `_`, `.`) all the same.
fn set(backend: Backend, name: &str, value: &str) -> String {
    let name: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
        .collect();
    match backend {
        Backend::Postgres => format!(
            "SELECT set_config('{name}', {}, false)",
            dollar_quoted(value)
        ),
        Backend::Mysql => format!("SET SESSION {name} = {}", mysql_value(value)),
        Backend::Sqlite => {
            let value: String = value.chars().filter(char::is_ascii_digit).collect();
            format!("PRAGMA {name} = {value}")
        }
    }
}

/// A MySQL variable's value as SQL: a number or `ON`/`OFF` as it is, any other text quoted.
fn mysql_value(value: &str) -> String {
    let number = !value.is_empty() && value.parse::<f64>().is_ok();
    let switch = matches!(value, "ON" | "OFF");
    match number || switch {
        true => value.to_owned(),
        false => format!("'{}'", value.replace('\\', "\\\\").replace('\'', "''")),
    }
}

/// The session's settings, as `(name, value)`.
fn read(driver: &mut dyn Driver, backend: Backend) -> diesel::QueryResult<Vec<(String, String)>> {
    let rows = match backend {
        Backend::Postgres => driver.texts(
            "SELECT CAST(name || '=' || setting AS TEXT) AS value FROM pg_catalog.pg_settings \
             WHERE source = 'session'",
        )?,
        Backend::Mysql => {
            let names = MYSQL_VARIABLES.map(|n| format!("'{n}'")).join(", ");
            let from = |table: &str| {
                format!(
                    "SELECT CAST(CONCAT(UPPER(VARIABLE_NAME), '=', VARIABLE_VALUE) AS CHAR) AS value \
                     FROM {table} WHERE UPPER(VARIABLE_NAME) IN ({names})"
                )
            };
            // MariaDB and MySQL 5.x; MySQL 8 moved it to performance_schema.
            driver
                .texts(&from("information_schema.SESSION_VARIABLES"))
                .or_else(|_| driver.texts(&from("performance_schema.session_variables")))?
        }
        Backend::Sqlite => {
            let each: Vec<String> = SQLITE_PRAGMAS
                .iter()
                .map(|p| format!("SELECT '{p}=' || {p} AS value FROM pragma_{p}"))
                .collect();
            driver.texts(&each.join(" UNION ALL "))?
        }
    };
    Ok(rows
        .into_iter()
        .flatten()
        .filter_map(|row| {
            let (name, value) = row.split_once('=')?;
            Some((name.to_owned(), value.to_owned()))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(backend: Backend, settings: &[(&str, &str)]) -> Session {
        Session {
            backend,
            settings: settings
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn pairs(settings: &[(&str, &str)]) -> Vec<(String, String)> {
        settings
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn puts_back_what_changed_and_resets_what_is_new() {
        let before = session(
            Backend::Postgres,
            &[("search_path", "\"$user\", public"), ("TimeZone", "UTC")],
        );
        let now = pairs(&[
            ("search_path", "other"),
            ("TimeZone", "UTC"),
            ("session_replication_role", "replica"),
        ]);
        assert_eq!(
            before.statements_to_restore(&now),
            "SELECT set_config('search_path', $waterline$\"$user\", public$waterline$, false); \
             RESET session_replication_role;"
        );
        assert_eq!(
            before.statements_to_restore(&pairs(&[
                ("search_path", "\"$user\", public"),
                ("TimeZone", "UTC")
            ])),
            ""
        );
        assert_eq!(
            before.statements_to_restore(&pairs(&[("search_path", "\"$user\", public")])),
            "SELECT set_config('TimeZone', $waterline$UTC$waterline$, false);"
        );
    }

    #[test]
    fn mysql_and_sqlite_values_are_written_as_each_takes_them() {
        let before = session(
            Backend::Mysql,
            &[
                ("AUTOCOMMIT", "ON"),
                ("SQL_MODE", "STRICT_TRANS_TABLES,NO_ZERO_DATE"),
                ("LOCK_WAIT_TIMEOUT", "86400"),
            ],
        );
        let now = pairs(&[
            ("AUTOCOMMIT", "OFF"),
            ("SQL_MODE", "O'BRIEN"),
            ("LOCK_WAIT_TIMEOUT", "1"),
        ]);
        assert_eq!(
            before.statements_to_restore(&now),
            "SET SESSION AUTOCOMMIT = ON; SET SESSION SQL_MODE = 'STRICT_TRANS_TABLES,NO_ZERO_DATE'; \
             SET SESSION LOCK_WAIT_TIMEOUT = 86400;"
        );
        let sqlite = session(Backend::Sqlite, &[("foreign_keys", "1")]);
        assert_eq!(
            sqlite.statements_to_restore(&pairs(&[("foreign_keys", "0")])),
            "PRAGMA foreign_keys = 1;"
        );
    }
}
