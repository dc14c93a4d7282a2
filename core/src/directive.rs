//! `-- waterline:` directives: SQL comments at the top of a script, before its first statement.
//!
//! - `-- waterline:no-transaction` runs the script outside a transaction;
//! - `-- waterline:allow(<lint>, ...)` silences lints for the script;
//! - `-- waterline:expand` or `-- waterline:contract` declares whether older binaries still
//!   work after the migration, where the analysis cannot tell or is wrong;
//! - `-- waterline:statement-timeout(30s)` bounds how long any statement of the script runs.
//!
//! A migration written in Rust takes the same directives as `//` comments before its first
//! item, and one more: `// waterline:background` runs it after start-up
//! ([`parse_rust`]).

use crate::model::{Class, Directives};
use crate::sql_text::{self, LineComment};

const PREFIX: &str = "waterline:";
const NO_TRANSACTION: &str = "no-transaction";
const ALLOW: &str = "allow";
const EXPAND: &str = "expand";
const CONTRACT: &str = "contract";
const STATEMENT_TIMEOUT: &str = "statement-timeout";
const BACKGROUND: &str = "background";

/// What is wrong with a directive, and on which line.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DirectiveError {
    /// The 1-based line of the directive.
    pub line: usize,
    /// The directive as written, e.g. `-- waterline:no-transactions`.
    pub written: String,
    /// What is wrong.
    pub fault: DirectiveFault,
}

/// The ways a directive can be wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DirectiveFault {
    /// Not a directive waterline knows; carries the closest known one.
    Unknown {
        /// The known directive closest to the one written (within three edits of its
        /// keyword), in full, e.g. `-- waterline:no-transaction` or `-- waterline:allow(<lint>)`;
        /// `None` when none is that close.
        suggestion: Option<&'static str>,
    },
    /// `allow(...)` without lint names in kebab-case.
    BadAllow,
    /// After the first statement, where it would be ignored.
    Misplaced,
    /// `statement-timeout(...)` without a duration such as `30s` or `2m`.
    BadTimeout,
    /// `background` in a SQL script: only a migration written in Rust can run after start-up.
    BackgroundInSql,
}

/// Reads the directives of a script, reporting every bad one.
pub fn parse(sql: &str) -> Result<Directives, Vec<DirectiveError>> {
    let preamble = sql_text::preamble(sql);
    let mut no_transaction = false;
    let mut allowed = Vec::new();
    let mut class = None;
    let mut statement_timeout = None;
    let mut errors = Vec::new();
    for comment in &preamble.line_comments {
        let Some(body) = directive_body(comment.text) else {
            continue;
        };
        match parse_body(body) {
            Ok(Parsed::Background) => errors.push(error(comment, DirectiveFault::BackgroundInSql)),
            Ok(Parsed::NoTransaction) => no_transaction = true,
            Ok(Parsed::Allow(lints)) => allowed.extend(lints),
            Ok(Parsed::Class(declared)) => class = Some(declared),
            Ok(Parsed::StatementTimeout(timeout)) => statement_timeout = Some(timeout),
            Err(fault) => errors.push(error(comment, fault)),
        }
    }
    if let Some(start) = preamble.statement_start {
        errors.extend(misplaced(sql, start));
    }
    if errors.is_empty() {
        allowed.dedup();
        Ok(Directives::new(
            no_transaction,
            allowed,
            class,
            statement_timeout,
        ))
    } else {
        Err(errors)
    }
}

/// Reads the directives of a migration written in Rust: `// waterline:...` (or `//!`) line
/// comments before its first other line. `background` implies `no-transaction`: its batches
/// commit one by one. Comments after the first item are not read.
pub fn parse_rust(source: &str) -> Result<Directives, Vec<DirectiveError>> {
    let (mut no_transaction, mut background) = (false, false);
    let (mut class, mut statement_timeout) = (None, None);
    let mut errors = Vec::new();
    for (index, line) in source.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some(comment) = line.strip_prefix("//") else {
            break;
        };
        let comment = comment.strip_prefix('!').unwrap_or(comment);
        let Some(body) = directive_body(comment) else {
            continue;
        };
        match parse_body(body) {
            Ok(Parsed::Background) => background = true,
            Ok(Parsed::NoTransaction) => no_transaction = true,
            Ok(Parsed::Class(declared)) => class = Some(declared),
            Ok(Parsed::StatementTimeout(timeout)) => statement_timeout = Some(timeout),
            Ok(Parsed::Allow(_)) => errors.push(DirectiveError {
                line: index + 1,
                written: line.to_owned(),
                fault: DirectiveFault::Unknown { suggestion: None },
            }),
            Err(fault) => errors.push(DirectiveError {
                line: index + 1,
                written: line.to_owned(),
                fault,
            }),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let directives = Directives::new(
        no_transaction || background,
        Vec::new(),
        class,
        statement_timeout,
    );
    Ok(directives.in_background(background))
}

enum Parsed {
    Background,
    NoTransaction,
    Allow(Vec<String>),
    Class(Class),
    StatementTimeout(std::time::Duration),
}

/// The text after `waterline:` when a comment is a directive.
fn directive_body(comment: &str) -> Option<&str> {
    comment.trim_start().strip_prefix(PREFIX).map(str::trim)
}

fn parse_body(body: &str) -> Result<Parsed, DirectiveFault> {
    if body == NO_TRANSACTION {
        return Ok(Parsed::NoTransaction);
    }
    if body == BACKGROUND {
        return Ok(Parsed::Background);
    }
    if let Some(class) = Class::parse(body).filter(|_| body == EXPAND || body == CONTRACT) {
        return Ok(Parsed::Class(class));
    }
    if let Some(args) = body.strip_prefix(STATEMENT_TIMEOUT).map(str::trim_start) {
        let duration = args
            .strip_prefix('(')
            .and_then(|rest| rest.strip_suffix(')'))
            .and_then(|text| humantime::parse_duration(text.trim()).ok())
            .filter(|duration| !duration.is_zero());
        return duration
            .map(Parsed::StatementTimeout)
            .ok_or(DirectiveFault::BadTimeout);
    }
    if let Some(args) = body.strip_prefix(ALLOW).map(str::trim_start) {
        if let Some(list) = args
            .strip_prefix('(')
            .and_then(|rest| rest.strip_suffix(')'))
        {
            let lints: Vec<String> = list.split(',').map(|lint| lint.trim().to_owned()).collect();
            return if lints.iter().all(|lint| is_lint_name(lint)) {
                Ok(Parsed::Allow(lints))
            } else {
                Err(DirectiveFault::BadAllow)
            };
        }
    }
    let keyword = body
        .split(|c: char| c == '(' || c.is_whitespace())
        .next()
        .unwrap_or(body);
    Err(DirectiveFault::Unknown {
        suggestion: closest_directive(keyword),
    })
}

fn is_lint_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-')
        && !name.contains("--")
}

fn closest_directive(keyword: &str) -> Option<&'static str> {
    [
        NO_TRANSACTION,
        ALLOW,
        EXPAND,
        CONTRACT,
        STATEMENT_TIMEOUT,
        BACKGROUND,
    ]
    .into_iter()
    .map(|known| (strsim::levenshtein(keyword, known), known))
    .filter(|(distance, _)| *distance <= 3)
    .min()
    .map(|(_, known)| match known {
        ALLOW => "-- waterline:allow(<lint>)",
        EXPAND => "-- waterline:expand",
        CONTRACT => "-- waterline:contract",
        STATEMENT_TIMEOUT => "-- waterline:statement-timeout(<duration>)",
        BACKGROUND => "// waterline:background",
        _ => "-- waterline:no-transaction",
    })
}

/// Directives written after the first statement.
fn misplaced(sql: &str, statement_start: usize) -> impl Iterator<Item = DirectiveError> + '_ {
    let first_line = sql_text::line_at(sql, statement_start);
    sql.lines()
        .enumerate()
        .skip(first_line - 1)
        .filter_map(|(index, line)| {
            let comment = line.trim_start().strip_prefix("--")?;
            directive_body(comment)?;
            Some(DirectiveError {
                line: index + 1,
                written: line.trim().to_owned(),
                fault: DirectiveFault::Misplaced,
            })
        })
}

fn error(comment: &LineComment<'_>, fault: DirectiveFault) -> DirectiveError {
    DirectiveError {
        line: comment.line,
        written: format!("--{}", comment.text.trim_end()),
        fault,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faults(sql: &str) -> Vec<(usize, DirectiveFault)> {
        parse(sql)
            .unwrap_err()
            .into_iter()
            .map(|e| (e.line, e.fault))
            .collect()
    }

    #[test]
    fn reads_a_statement_timeout_and_a_class() {
        let directives =
            parse("-- waterline:statement-timeout(90s)\n-- waterline:expand\nSELECT 1;").unwrap();
        assert_eq!(
            directives.statement_timeout(),
            Some(std::time::Duration::from_secs(90))
        );
        assert_eq!(directives.class(), Some(Class::Expand));
        for bad in [
            "statement-timeout(30)",
            "statement-timeout()",
            "statement-timeout(0s)",
        ] {
            let sql = format!("-- waterline:{bad}\nSELECT 1;");
            assert_eq!(faults(&sql), [(1, DirectiveFault::BadTimeout)], "{bad}");
        }
    }

    #[test]
    fn reads_no_transaction_and_allows() {
        let sql =
            "-- header\n-- waterline:no-transaction\n--waterline:allow(drop-table, drop-column)\n\
                   -- waterline:allow( add-not-null )\nCREATE INDEX CONCURRENTLY i ON t (c);";
        let directives = parse(sql).unwrap();
        assert!(directives.no_transaction());
        assert_eq!(
            directives.allowed_lints().collect::<Vec<_>>(),
            ["drop-table", "drop-column", "add-not-null"]
        );
    }

    #[test]
    fn plain_scripts_have_no_directives() {
        let directives = parse("-- waterline is great\nSELECT 1;").unwrap();
        assert!(!directives.no_transaction());
        assert_eq!(directives.allowed_lints().count(), 0);
    }

    #[test]
    fn unknown_directive_suggests_the_closest() {
        assert_eq!(
            faults("-- waterline:no-transactions\nSELECT 1;"),
            [(
                1,
                DirectiveFault::Unknown {
                    suggestion: Some("-- waterline:no-transaction")
                }
            )]
        );
        assert_eq!(
            faults("-- waterline:alow(x)\nSELECT 1;"),
            [(
                1,
                DirectiveFault::Unknown {
                    suggestion: Some("-- waterline:allow(<lint>)")
                }
            )]
        );
        assert_eq!(
            faults("-- waterline:run-twice\nSELECT 1;"),
            [(1, DirectiveFault::Unknown { suggestion: None })]
        );
    }

    #[test]
    fn bad_allow_lists() {
        for sql in [
            "-- waterline:allow()",
            "-- waterline:allow(Drop_Table)",
            "-- waterline:allow(a,)",
        ] {
            assert_eq!(faults(sql), [(1, DirectiveFault::BadAllow)], "{sql}");
        }
    }

    #[test]
    fn directive_after_first_statement_is_misplaced() {
        let sql = "SELECT 1;\n  -- waterline:no-transaction\nSELECT 2;";
        assert_eq!(faults(sql), [(2, DirectiveFault::Misplaced)]);
    }

    #[test]
    fn directives_inside_block_comments_are_not_read() {
        let directives = parse("/* -- waterline:no-transaction */\nSELECT 1;").unwrap();
        assert!(!directives.no_transaction());
    }
}
