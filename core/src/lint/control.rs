//! Statements that start, end or hand over a transaction: what the `transaction-control` rule
//! refuses in a file the runner wraps in a transaction, and what
//! [`Script::ends_transactions`] looks for at run time. Read from a statement's first words, so
//! it needs no parser.

use super::catalog::TRANSACTION_CONTROL;
use crate::model::{Directives, Script};
use crate::sql_text;

/// A statement that starts, ends or hands over a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Control {
    /// The statement as named in a message, e.g. `COMMIT AND CHAIN`.
    pub(crate) statement: &'static str,
    /// Whether a transaction is open after it: `BEGIN`, `START TRANSACTION`, `XA START` and the
    /// `AND CHAIN` forms.
    pub(crate) leaves_open: bool,
}

impl Control {
    const fn new(statement: &'static str, leaves_open: bool) -> Option<Control> {
        Some(Control {
            statement,
            leaves_open,
        })
    }
}

/// What a statement does to transactions, read from its words (uppercase, as
/// [`sql_text::words`] gives them); `None` for any other statement, including `SAVEPOINT`,
/// `ROLLBACK TO SAVEPOINT`, `RELEASE` and a `PREPARE` of a prepared statement.
pub(crate) fn transaction_control<S: AsRef<str>>(words: &[S]) -> Option<Control> {
    let word = |at: usize| words.get(at).map(AsRef::as_ref);
    match word(0)? {
        "BEGIN" if begins_transaction(word(1)) => Control::new("BEGIN", true),
        "START" if word(1) == Some("TRANSACTION") => Control::new("START TRANSACTION", true),
        "END" if matches!(word(1), None | Some("TRANSACTION" | "WORK")) => {
            Control::new("END", false)
        }
        "PREPARE" if word(1) == Some("TRANSACTION") => Control::new("PREPARE TRANSACTION", false),
        "COMMIT" | "ABORT" | "ROLLBACK" => finishes(words),
        "XA" => xa(word(1)?),
        _ => None,
    }
}

/// Whether `BEGIN` followed by `next` starts a transaction (rather than a block).
fn begins_transaction(next: Option<&str>) -> bool {
    matches!(
        next,
        None | Some(
            "TRANSACTION"
                | "WORK"
                | "ISOLATION"
                | "READ"
                | "NOT"
                | "DEFERRABLE"
                | "DEFERRED"
                | "IMMEDIATE"
                | "EXCLUSIVE"
        )
    )
}

/// `COMMIT`, `ABORT` or `ROLLBACK`, with an optional `WORK` or `TRANSACTION`, then
/// `AND [NO] CHAIN`, `PREPARED '<id>'` or `TO [SAVEPOINT] <name>` (not transaction control).
fn finishes<S: AsRef<str>>(words: &[S]) -> Option<Control> {
    let mut rest = words.iter().map(AsRef::as_ref).skip(1).peekable();
    rest.next_if(|w| matches!(*w, "WORK" | "TRANSACTION"));
    let chain = match (rest.next(), rest.next()) {
        (Some("TO"), _) => return None,
        (Some("PREPARED"), _) => return prepared(words[0].as_ref()),
        (Some("AND"), Some("CHAIN")) => true,
        _ => false,
    };
    match (words[0].as_ref(), chain) {
        ("COMMIT", false) => Control::new("COMMIT", false),
        ("COMMIT", true) => Control::new("COMMIT AND CHAIN", true),
        ("ABORT", false) => Control::new("ABORT", false),
        ("ABORT", true) => Control::new("ABORT AND CHAIN", true),
        (_, false) => Control::new("ROLLBACK", false),
        (_, true) => Control::new("ROLLBACK AND CHAIN", true),
    }
}

/// PostgreSQL's `COMMIT PREPARED` and `ROLLBACK PREPARED`, which finish a prepared transaction
/// and cannot run inside one.
fn prepared(first: &str) -> Option<Control> {
    match first {
        "COMMIT" => Control::new("COMMIT PREPARED", false),
        "ROLLBACK" => Control::new("ROLLBACK PREPARED", false),
        _ => None,
    }
}

/// MySQL's XA statements, except `XA RECOVER`, which only lists prepared transactions.
fn xa(verb: &str) -> Option<Control> {
    match verb {
        "START" | "BEGIN" => Control::new("XA START", true),
        "END" => Control::new("XA END", false),
        "PREPARE" => Control::new("XA PREPARE", false),
        "COMMIT" => Control::new("XA COMMIT", false),
        "ROLLBACK" => Control::new("XA ROLLBACK", false),
        _ => None,
    }
}

/// Whether the directives allow `transaction-control`.
pub(crate) fn allowed(directives: &Directives) -> bool {
    directives
        .allowed_lints()
        .any(|lint| lint == TRANSACTION_CONTROL.name)
}

/// See [`Script::ends_transactions`].
pub(crate) fn ends_transactions(script: &Script) -> bool {
    if !allowed(script.directives()) {
        return false;
    }
    let mut statements = script.statements().peekable();
    if statements.peek().is_none() {
        // Not located (no `sql` feature, or text the tokenizer cannot read): the file asked to
        // control transactions and nothing says it does not.
        return sql_text::preamble(script.sql()).statement_start.is_some();
    }
    statements.any(|statement| {
        let words: Vec<_> = sql_text::words(statement).take(4).collect();
        transaction_control(&words).is_some()
    })
}
