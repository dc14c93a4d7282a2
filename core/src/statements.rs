//! Splits a script into its statements, for scripts that run outside a transaction: sent as
//! one batch, PostgreSQL would wrap them in an implicit transaction anyway. sqlparser's
//! tokenizer finds the `;` that end statements, so semicolons inside strings, quoted
//! identifiers, dollar-quoted bodies and comments are not mistaken for them.

use std::ops::Range;

use sqlparser::dialect::GenericDialect;
use sqlparser::tokenizer::{Token, Tokenizer};

/// The byte ranges of the statements of `sql`, each without its `;` and without blank or
/// comment-only text. `None` when the text cannot be tokenized, in which case the caller runs
/// it as one batch.
pub fn split(sql: &str) -> Option<Vec<Range<usize>>> {
    let dialect = GenericDialect {};
    let tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .ok()?;
    let line_starts = line_starts(sql);
    let offset = |line: u64, column: u64| {
        let start = line_starts[(line as usize).saturating_sub(1).min(line_starts.len() - 1)];
        let chars = sql[start..]
            .char_indices()
            .nth((column as usize).saturating_sub(1));
        chars.map_or(sql.len(), |(at, _)| start + at)
    };
    let mut statements = Vec::new();
    let mut current: Option<Range<usize>> = None;
    for token in &tokens {
        match &token.token {
            Token::SemiColon => statements.extend(current.take()),
            Token::Whitespace(_) | Token::EOF => {}
            _ => {
                let start = offset(token.span.start.line, token.span.start.column);
                let end = offset(token.span.end.line, token.span.end.column);
                let range = current.get_or_insert(start..end);
                range.end = end;
            }
        }
    }
    statements.extend(current);
    Some(statements)
}

fn line_starts(sql: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(sql.match_indices('\n').map(|(at, _)| at + 1))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<&str> {
        split(sql)
            .unwrap()
            .into_iter()
            .map(|range| &sql[range])
            .collect()
    }

    #[test]
    fn splits_at_top_level_semicolons() {
        let sql = "-- waterline:no-transaction\nCREATE INDEX CONCURRENTLY a ON t (x);\n\nCREATE INDEX CONCURRENTLY b ON t (y);\n";
        assert_eq!(
            texts(sql),
            [
                "CREATE INDEX CONCURRENTLY a ON t (x)",
                "CREATE INDEX CONCURRENTLY b ON t (y)"
            ]
        );
    }

    #[test]
    fn semicolons_in_strings_comments_and_dollar_quotes_do_not_split() {
        let sql = "INSERT INTO t VALUES ('a;b');\n/* x; y */ SELECT \"c;d\";\n\
                   CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;";
        assert_eq!(
            texts(sql),
            [
                "INSERT INTO t VALUES ('a;b')",
                "SELECT \"c;d\"",
                "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql"
            ]
        );
    }

    #[test]
    fn a_last_statement_without_semicolon_counts() {
        assert_eq!(texts("SELECT 1;\nSELECT 'é'"), ["SELECT 1", "SELECT 'é'"]);
    }

    #[test]
    fn comment_only_text_has_no_statements() {
        assert!(texts("-- a\n/* b */\n;;").is_empty());
    }
}
