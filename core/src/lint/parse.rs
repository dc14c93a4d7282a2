//! A script's statements, located by the tokenizer and parsed one by one.

use std::borrow::Cow;

use sqlparser::dialect::{Dialect, GenericDialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;

use super::Unchecked;
use crate::model::{Backend, Script};
use crate::sql_text;

/// One statement of a script.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Statement {
    /// The 1-based line it starts on.
    pub line: usize,
    /// Its text, without the `;`.
    pub text: String,
    /// Its words, uppercased, for rules about keywords (they work on unparsed text too).
    pub words: Vec<String>,
    /// The parsed statement, or why there is none.
    pub parsed: Parsed,
}

/// What the parser made of a statement.
// As large as the `Result` it replaces: the rules match on the tree in place, and a box
// would cost an allocation per statement.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Parsed {
    /// The statement, parsed.
    Statement(sqlparser::ast::Statement),
    /// A statement that reads or writes rows (`INSERT`, `UPDATE`, `DELETE`, `SELECT`, ...):
    /// no rule reads its syntax tree, so it is not parsed. A data script of millions of rows
    /// then costs the build its tokenizing only.
    Data,
    /// The parser could not read it; its message.
    Unreadable(String),
}

/// The first words of statements that change rows, not the schema.
const DATA: [&str; 7] = [
    "INSERT", "UPDATE", "DELETE", "SELECT", "VALUES", "REPLACE", "MERGE",
];

impl Statement {
    /// Whether the statement's words start with `prefix`.
    pub fn starts_with(&self, prefix: &[&str]) -> bool {
        self.words.len() >= prefix.len() && self.words.iter().zip(prefix).all(|(w, p)| w == p)
    }

    /// Whether the statement's words contain `word`.
    pub fn has_word(&self, word: &str) -> bool {
        self.words.iter().any(|w| w == word)
    }

    pub(super) fn unchecked(&self, script: &Script) -> Option<Unchecked> {
        let Parsed::Unreadable(reason) = &self.parsed else {
            return None;
        };
        Some(Unchecked {
            file: script.path().to_owned(),
            line: self.line,
            reason: reason.clone(),
        })
    }
}

/// The dialect to read a script with: its backend's, or a generic one for a shared script.
fn dialect(backends: &[Backend]) -> Box<dyn Dialect> {
    match backends {
        [Backend::Postgres] => Box::new(PostgreSqlDialect {}),
        [Backend::Mysql] => Box::new(MySqlDialect {}),
        [Backend::Sqlite] => Box::new(SQLiteDialect {}),
        _ => Box::new(GenericDialect {}),
    }
}

/// The statements of `script`, each parsed on its own so that one the parser cannot read
/// leaves the others checked.
pub fn statements(script: &Script, backends: &[Backend]) -> Vec<Statement> {
    let sql = script.sql();
    let dialect = dialect(backends);
    let Some(ranges) = crate::statements::split(sql) else {
        let reason = "the tokenizer could not read the file".to_owned();
        return vec![Statement {
            line: 1,
            text: sql.to_owned(),
            words: Vec::new(),
            parsed: Parsed::Unreadable(reason),
        }];
    };
    let lines = sql_text::LineIndex::new(sql);
    ranges
        .into_iter()
        .map(|range| {
            let text = &sql[range.clone()];
            let words = words_of(text);
            let data = words.first().is_some_and(|w| DATA.contains(&w.as_str()));
            let parsed = match data {
                true => Parsed::Data,
                false => match Parser::parse_sql(dialect.as_ref(), text) {
                    Ok(mut parsed) if parsed.len() == 1 => Parsed::Statement(parsed.remove(0)),
                    Ok(parsed) => {
                        Parsed::Unreadable(format!("read as {} statements", parsed.len()))
                    }
                    Err(e) => Parsed::Unreadable(e.to_string()),
                },
            };
            Statement {
                line: lines.line_of(range.start),
                text: text.to_owned(),
                words,
                parsed,
            }
        })
        .collect()
}

/// The words of a statement, uppercased: runs of letters, digits and `_`.
fn words_of(text: &str) -> Vec<String> {
    sql_text::words(text).map(Cow::into_owned).collect()
}
