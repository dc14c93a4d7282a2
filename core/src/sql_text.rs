//! Just enough reading of SQL text to find the comments before the first statement, and the
//! words of a statement. A statement starts at the first character that is neither whitespace
//! nor inside a `--` or `/* */` comment.

use std::borrow::Cow;

/// A `--` line comment before the first statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LineComment<'a> {
    /// The 1-based line the comment is on.
    pub line: usize,
    /// The text after `--`, without the line ending.
    pub text: &'a str,
}

/// The comments before the first statement, and where that statement starts.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Preamble<'a> {
    /// The `--` comments, in order.
    pub line_comments: Vec<LineComment<'a>>,
    /// The byte offset of the first statement; `None` when the text holds no statement.
    pub statement_start: Option<usize>,
}

/// Reads the comments at the top of `sql`, up to its first statement.
pub fn preamble(sql: &str) -> Preamble<'_> {
    let bytes = sql.as_bytes();
    let mut line_comments = Vec::new();
    let mut line = 1;
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'\n' => {
                line += 1;
                at += 1;
            }
            byte if byte.is_ascii_whitespace() => at += 1,
            b'-' if bytes.get(at + 1) == Some(&b'-') => {
                let end = sql[at..].find('\n').map_or(sql.len(), |n| at + n);
                let text = sql[at + 2..end].trim_end_matches('\r');
                line_comments.push(LineComment { line, text });
                at = end;
            }
            b'/' if bytes.get(at + 1) == Some(&b'*') => {
                let end = sql[at + 2..]
                    .find("*/")
                    .map_or(sql.len(), |n| at + 2 + n + 2);
                line += sql[at..end].matches('\n').count();
                at = end;
            }
            _ => {
                return Preamble {
                    line_comments,
                    statement_start: Some(at),
                }
            }
        }
    }
    Preamble {
        line_comments,
        statement_start: None,
    }
}

/// The 1-based line of byte `offset` in `text`. Counts from the start: for many offsets in
/// one text, use a [`LineIndex`].
pub fn line_at(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count() + 1
}

/// Where each line of a text starts, so that the line of any offset is a binary search, not a
/// count from the start: the lines of all the statements of a script cost time linear in its
/// size, not quadratic.
#[derive(Clone, Debug)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// The index of `text`'s lines.
    pub fn new(text: &str) -> LineIndex {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(at, _)| at + 1))
            .collect();
        LineIndex { starts }
    }

    /// The 1-based line of byte `offset`, as [`line_at`] counts it.
    pub fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&start| start <= offset)
    }
}

/// The words of `text`, uppercased: runs of letters, digits and `_`. Borrows words that are
/// uppercase already.
pub fn words(text: &str) -> impl Iterator<Item = Cow<'_, str>> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|word| !word.is_empty())
        .map(|word| {
            let upper = |b: u8| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_';
            match word.bytes().all(upper) {
                true => Cow::Borrowed(word),
                false => Cow::Owned(word.to_uppercase()),
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_statement_after_comments() {
        let sql = "-- a\n/* b\n c */\n  -- d\r\nSELECT 1;";
        let preamble = preamble(sql);
        assert_eq!(preamble.statement_start, Some(sql.find("SELECT").unwrap()));
        let texts: Vec<_> = preamble
            .line_comments
            .iter()
            .map(|c| (c.line, c.text))
            .collect();
        assert_eq!(texts, [(1, " a"), (4, " d")]);
    }

    #[test]
    fn comment_only_and_empty_text_have_no_statement() {
        assert_eq!(preamble("").statement_start, None);
        assert_eq!(preamble(" \n\t\r\n").statement_start, None);
        assert_eq!(preamble("-- only\n/* and this */").statement_start, None);
        assert_eq!(preamble("/* unterminated").statement_start, None);
    }

    #[test]
    fn a_single_dash_or_slash_is_a_statement() {
        assert_eq!(preamble("-1").statement_start, Some(0));
        assert_eq!(preamble("/ 2").statement_start, Some(0));
    }

    #[test]
    fn line_numbers() {
        let text = "a\nb\n\nlonger line\nend";
        let index = LineIndex::new(text);
        for offset in 0..=text.len() {
            assert_eq!(
                index.line_of(offset),
                line_at(text, offset),
                "offset {offset}"
            );
        }
        assert_eq!(line_at("a\nb\nc", 0), 1);
        assert_eq!(line_at("a\nb\nc", 4), 3);
    }
}
