//! Splits a script into its statements, for scripts that run outside a transaction: sent as
//! one batch, PostgreSQL would wrap them in an implicit transaction anyway. sqlparser's
//! tokenizer finds the `;` that end statements, so semicolons inside strings, quoted
//! identifiers, dollar-quoted bodies and comments are not mistaken for them. Neither are those
//! of a body written in SQL, which runs later as part of what the statement creates: a
//! `BEGIN ATOMIC ... END` function or procedure, or a trigger, procedure or event
//! `BEGIN ... END`. A psql meta-command such as `\copy` is a statement up to its line end, as
//! psql reads it.

use std::ops::Range;

use sqlparser::dialect::GenericDialect;
use sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer};

/// The byte ranges of the statements of `sql`, each without its `;` and without blank or
/// comment-only text. `None` when the text cannot be tokenized, in which case the caller runs
/// it as one batch.
pub fn split(sql: &str) -> Option<Vec<Range<usize>>> {
    let dialect = GenericDialect {};
    let tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .ok()?;
    let text = Text::new(sql);
    let mut splitter = Splitter::default();
    for token in &tokens {
        splitter.push(token, &text);
    }
    Some(splitter.finish())
}

/// The text being split, to turn the tokenizer's lines and columns into byte offsets.
struct Text<'a> {
    sql: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> Text<'a> {
    fn new(sql: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(sql.match_indices('\n').map(|(at, _)| at + 1))
            .collect();
        Text { sql, line_starts }
    }

    /// The byte offset of a 1-based line and character column.
    fn offset(&self, at: Location) -> usize {
        let line = (at.line as usize).saturating_sub(1);
        let start = self.line_starts[line.min(self.line_starts.len() - 1)];
        let chars = self.sql[start..]
            .char_indices()
            .nth((at.column as usize).saturating_sub(1));
        chars.map_or(self.sql.len(), |(offset, _)| start + offset)
    }
}

/// The statements found so far, and the one being read.
#[derive(Default)]
struct Splitter {
    statements: Vec<Range<usize>>,
    current: Option<Range<usize>>,
    /// The line of the psql meta-command being read, which ends with its line.
    meta_line: Option<u64>,
    /// The line the last token that is not whitespace ended on; 0 before the first.
    last_line: u64,
    body: Body,
}

impl Splitter {
    /// Reads one token.
    fn push(&mut self, token: &TokenWithSpan, text: &Text<'_>) {
        if matches!(token.token, Token::Whitespace(_) | Token::EOF) {
            return;
        }
        let line = token.span.start.line;
        if self.meta_line.is_some_and(|meta| meta != line) {
            self.end();
        }
        let first_on_its_line = line != self.last_line;
        self.last_line = token.span.end.line;
        match &token.token {
            Token::Backslash if first_on_its_line => {
                self.end();
                self.meta_line = Some(line);
            }
            Token::SemiColon if self.meta_line.is_none() => {
                self.body.push(&token.token);
                if !self.body.is_open() {
                    self.end();
                    return;
                }
            }
            other => self.body.push(other),
        }
        let (start, end) = (text.offset(token.span.start), text.offset(token.span.end));
        self.current.get_or_insert(start..end).end = end;
    }

    /// Ends the statement being read, if any.
    fn end(&mut self) {
        self.statements.extend(self.current.take());
        self.meta_line = None;
        self.body = Body::default();
    }

    /// The statements, the last one ended by the end of the text.
    fn finish(mut self) -> Vec<Range<usize>> {
        self.end();
        self.statements
    }
}

/// Where a statement stands with a body written in SQL, whose `;` do not end the statement.
#[derive(Default)]
struct Body {
    /// How many words of the statement have been read.
    words: usize,
    /// The statement starts with `CREATE`, and no `(` or `AS` has followed yet: the words
    /// that say what it creates.
    head: bool,
    /// It creates a trigger, function, procedure or event, whose `BEGIN` opens a body.
    routine: bool,
    /// How many blocks (`BEGIN`, `CASE`) are open.
    depth: usize,
    /// The last word was an `END` inside the body, which the next token tells what it closes.
    after_end: bool,
}

impl Body {
    /// Whether the statement is inside its body, where a `;` does not end it.
    fn is_open(&self) -> bool {
        self.depth > 0
    }

    /// Reads a token that is not whitespace.
    fn push(&mut self, token: &Token) {
        match token {
            Token::Word(word) if word.quote_style.is_none() => self.word(&word.value),
            Token::LParen => {
                self.other();
                self.head = false;
            }
            _ => self.other(),
        }
    }

    /// Reads an unquoted word.
    fn word(&mut self, word: &str) {
        let word = word.to_ascii_uppercase();
        self.words += 1;
        if std::mem::take(&mut self.after_end) && self.closes(&word) {
            return;
        }
        match word.as_str() {
            "CREATE" if self.words == 1 => self.head = true,
            "AS" => self.head = false,
            "TRIGGER" | "FUNCTION" | "PROCEDURE" | "EVENT" => self.routine |= self.head,
            "BEGIN" if self.routine => self.depth += 1,
            "CASE" if self.is_open() => self.depth += 1,
            "END" if self.is_open() => self.after_end = true,
            _ => {}
        }
    }

    /// Reads a token that is not a word: it ends the block of an `END` before it.
    fn other(&mut self) {
        if std::mem::take(&mut self.after_end) {
            self.depth -= 1;
        }
    }

    /// Closes the block of the `END` before `word`, and tells whether `word` was part of the
    /// `END`. MySQL's `END IF`, `END LOOP`, `END WHILE` and `END REPEAT` close blocks that were
    /// not counted; `END CASE` closes a `CASE`; any other `END` closes a `BEGIN` or a `CASE`.
    fn closes(&mut self, word: &str) -> bool {
        match word {
            "IF" | "LOOP" | "WHILE" | "REPEAT" => true,
            _ => {
                self.depth -= 1;
                word == "CASE"
            }
        }
    }
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
    fn begin_atomic_bodies_are_one_statement() {
        let function =
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n  \
                        SELECT CASE WHEN true THEN 2 ELSE 3 END;\nEND";
        let procedure = "CREATE OR REPLACE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t \
                         VALUES (1); INSERT INTO t VALUES (2); END";
        let sql = format!(
            "CREATE TABLE t (x int);\nINSERT INTO t VALUES (0);\n{function};\n{procedure};\n\
             CALL p();\nSELECT f();\n"
        );
        assert_eq!(
            texts(&sql),
            [
                "CREATE TABLE t (x int)",
                "INSERT INTO t VALUES (0)",
                function,
                procedure,
                "CALL p()",
                "SELECT f()"
            ]
        );
    }

    #[test]
    fn trigger_and_routine_bodies_are_one_statement() {
        let trigger = "CREATE TRIGGER stamp AFTER INSERT ON t BEGIN\n  UPDATE t SET x = CASE \
                       WHEN x > 0 THEN 1 END;\n  DELETE FROM u;\nEND";
        let mysql = "CREATE PROCEDURE p() BEGIN\n  IF 1 THEN SELECT 1; END IF;\n  \
                     WHILE 0 DO SELECT 2; END WHILE;\n  CASE 1 WHEN 1 THEN SELECT 3; END CASE;\n  \
                     inner_block: BEGIN SELECT 4; END inner_block;\nEND";
        let sql = format!("{trigger};\n{mysql};\nSELECT 5;");
        assert_eq!(texts(&sql), [trigger, mysql, "SELECT 5"]);
    }

    #[test]
    fn a_transaction_begin_is_not_a_body() {
        let sql = "BEGIN;\nUPDATE t SET x = 1;\nCOMMIT;\nCREATE TRIGGER t1 BEFORE UPDATE ON t \
                   FOR EACH ROW EXECUTE FUNCTION f();\nBEGIN;\nEND;";
        assert_eq!(
            texts(sql),
            [
                "BEGIN",
                "UPDATE t SET x = 1",
                "COMMIT",
                "CREATE TRIGGER t1 BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION f()",
                "BEGIN",
                "END"
            ]
        );
    }

    #[test]
    fn words_named_like_bodies_in_other_statements_do_not_open_one() {
        let sql = "CREATE TABLE shifts (begin timestamptz, trigger text);\nINSERT INTO shifts \
                   VALUES (now(), 'x');\nCREATE VIEW v AS SELECT 1 AS function, 2 AS begin;\nSELECT 3;";
        assert_eq!(texts(sql).len(), 4);
    }

    #[test]
    fn a_psql_meta_command_is_a_statement_up_to_its_line_end() {
        let sql =
            "SELECT 1;\n\\copy t FROM 'rows.csv' CSV\nSELECT 2;\n  \\set x 1\nSELECT '\n\\n';";
        assert_eq!(
            texts(sql),
            [
                "SELECT 1",
                "\\copy t FROM 'rows.csv' CSV",
                "SELECT 2",
                "\\set x 1",
                "SELECT '\n\\n'"
            ]
        );
    }

    #[test]
    fn comment_only_text_has_no_statements() {
        assert!(texts("-- a\n/* b */\n;;").is_empty());
    }
}
