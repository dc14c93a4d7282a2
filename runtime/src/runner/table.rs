//! The tracking table's name: validated as an identifier before any SQL is built with it,
//! then always quoted.

use crate::error::Error;
use waterline_core::Backend;

/// The default tracking table.
pub const DEFAULT_TABLE: &str = "waterline_migrations";

/// The longest table name accepted, leaving room for the `_layout` suffix within the
/// 63-character limit of PostgreSQL and 64 of MySQL.
const MAX_LEN: usize = 48;

/// A validated tracking table name, optionally schema-qualified (`ops.migrations`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableName {
    schema: Option<String>,
    table: String,
}

impl TableName {
    /// Validates `name`: one or two identifiers of letters, digits and `_`, joined by `.`.
    pub fn parse(name: &str) -> Result<TableName, Error> {
        let invalid = |reason| Error::InvalidTableName {
            name: name.to_owned(),
            reason,
        };
        let (schema, table) = match name.split_once('.') {
            Some((schema, table)) => (Some(schema), table),
            None => (None, name),
        };
        for part in schema.into_iter().chain([table]) {
            if part.is_empty() {
                return Err(invalid("it has an empty part"));
            }
            if part.len() > MAX_LEN {
                return Err(invalid("a part is longer than 48 characters"));
            }
            if part.starts_with(|c: char| c.is_ascii_digit()) {
                return Err(invalid("a part starts with a digit"));
            }
            if !part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(invalid(
                    "it holds a character that is not a letter, digit, `_` or one `.`",
                ));
            }
        }
        Ok(TableName {
            schema: schema.map(str::to_owned),
            table: table.to_owned(),
        })
    }

    /// The name as the user gave it, for messages.
    pub fn display(&self) -> String {
        match &self.schema {
            Some(schema) => format!("{schema}.{}", self.table),
            None => self.table.clone(),
        }
    }

    /// The schema, if named, and the table.
    pub fn parts(&self) -> (Option<&str>, &str) {
        (self.schema.as_deref(), &self.table)
    }

    /// Whether the name says its schema (or MySQL database).
    pub fn is_qualified(&self) -> bool {
        self.schema.is_some()
    }

    /// The same table in `schema`, as the server resolved it.
    pub fn in_schema(&self, schema: &str) -> TableName {
        TableName {
            schema: Some(schema.to_owned()),
            table: self.table.clone(),
        }
    }

    /// The quoted name for `backend`.
    pub fn quoted(&self, backend: Backend) -> String {
        self.quoted_with_suffix(backend, "")
    }

    /// The quoted name of the companion table `<table><suffix>`.
    pub fn quoted_with_suffix(&self, backend: Backend, suffix: &str) -> String {
        // A schema the server named may hold any character: quotes are doubled.
        let quote = |identifier: &str| match backend {
            Backend::Mysql => format!("`{}`", identifier.replace('`', "``")),
            Backend::Postgres | Backend::Sqlite => {
                format!("\"{}\"", identifier.replace('"', "\"\""))
            }
        };
        let table = quote(&format!("{}{suffix}", self.table));
        match &self.schema {
            Some(schema) => format!("{}.{table}", quote(schema)),
            None => table,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_and_schema_qualified_names() {
        let name = TableName::parse("ops.applied_migrations").unwrap();
        assert_eq!(
            name.quoted(Backend::Postgres),
            "\"ops\".\"applied_migrations\""
        );
        assert_eq!(name.quoted(Backend::Mysql), "`ops`.`applied_migrations`");
        assert_eq!(
            name.quoted_with_suffix(Backend::Sqlite, "_layout"),
            "\"ops\".\"applied_migrations_layout\""
        );
        assert_eq!(
            TableName::parse(DEFAULT_TABLE).unwrap().display(),
            DEFAULT_TABLE
        );
    }

    #[test]
    fn rejects_hostile_names_before_any_sql() {
        for name in [
            "t\"; DROP TABLE users; --",
            "t`x",
            "my table",
            "a.b.c",
            "",
            "a.",
            "1abc",
            "t;",
            "é",
        ] {
            let error = TableName::parse(name).unwrap_err();
            assert!(matches!(error, Error::InvalidTableName { .. }), "{name}");
            assert!(error
                .to_string()
                .starts_with(&format!("invalid tracking table name `{name}`: ")));
        }
        assert!(TableName::parse(&"x".repeat(49)).is_err());
    }
}
