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
    /// The parsed statement, or the parser's message.
    pub parsed: Result<sqlparser::ast::Statement, String>,
}

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
        let reason = self.parsed.as_ref().err()?;
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
            parsed: Err(reason),
        }];
    };
    ranges
        .into_iter()
        .map(|range| {
            let text = &sql[range.clone()];
            let parsed = Parser::parse_sql(dialect.as_ref(), text)
                .map_err(|e| e.to_string())
                .and_then(|mut parsed| match parsed.len() {
                    1 => Ok(parsed.remove(0)),
                    n => Err(format!("read as {n} statements")),
                });
            Statement {
                line: sql_text::line_at(sql, range.start),
                text: text.to_owned(),
                words: words_of(text),
                parsed,
            }
        })
        .collect()
}

/// The words of a statement, uppercased: runs of letters, digits and `_`.
fn words_of(text: &str) -> Vec<String> {
    sql_text::words(text).map(Cow::into_owned).collect()
}
