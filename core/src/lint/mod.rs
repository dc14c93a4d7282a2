//! Lints: migration mistakes that only show in production, found at compile time.
//!
//! Each script is split into statements with sqlparser's tokenizer and each statement parsed
//! with the dialect of the backends that run it. A statement the parser cannot read is never
//! an error: it is recorded as unchecked. Error rules fail the build unless the file allows
//! them with `-- waterline:allow(<rule>)`; advice rules are shown by `migrate lint` and fail
//! the build only in strict mode.
//!
//! Checking needs the `sql` feature (sqlparser); the rule catalogue does not.

mod catalog;
#[cfg(feature = "sql")]
mod class;
pub(crate) mod control;
#[cfg(feature = "sql")]
mod parse;
#[cfg(feature = "sql")]
mod rules;
#[cfg(feature = "sql")]
mod undo;

use std::fmt;

#[cfg(feature = "sql")]
use crate::model::Migration;
use crate::model::{Backend, Script};

pub use catalog::RULES;
#[cfg(feature = "sql")]
pub use class::classify;
#[cfg(feature = "sql")]
pub use parse::Statement;

/// How much a rule matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Shown by `migrate lint`; an error only in strict mode.
    Advice,
    /// A compile error unless allowed in the file.
    Error,
}

/// A lint rule: its name (used in `-- waterline:allow(...)`), why it matters and the fix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Rule {
    /// The kebab-case name, as written in `-- waterline:allow(...)`, e.g. `drop-table`.
    pub name: &'static str,
    /// Whether a finding fails the build ([`Severity::Error`]) or is shown as advice.
    pub severity: Severity,
    /// Why the statement is a problem, worded to follow a colon in a message, e.g. "its data
    /// is gone for good, ...".
    pub why: &'static str,
    /// What to do instead, worded to follow a semicolon in a message, e.g. "drop it in a later
    /// release, ...".
    pub fix: &'static str,
}

/// The backends a script runs on, and how.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct Context<'a> {
    /// The script being checked.
    pub script: &'a Script,
    /// Whether it is a backward script (`down.sql` or a `down.<backend>.sql`).
    pub down: bool,
    /// The backends that run it: one for a variant such as `up.postgres.sql`, every backend
    /// without a variant for a default script.
    pub backends: &'a [Backend],
}

impl Context<'_> {
    /// Whether `backend` runs the script.
    pub fn runs_on(&self, backend: Backend) -> bool {
        self.backends.contains(&backend)
    }

    /// Whether the runner wraps the script in a transaction on some backend.
    pub fn in_transaction(&self) -> bool {
        !self.script.directives().no_transaction()
    }
}

/// One thing a rule found.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Finding {
    /// The rule that found it.
    pub rule: Rule,
    /// The script as shown to users, e.g. `migrations/024_add_codec.sql`.
    pub file: String,
    /// The 1-based line the statement starts on.
    pub line: usize,
    /// What the statement does wrong, e.g. "`CREATE INDEX CONCURRENTLY` in a transaction".
    pub what: String,
}

impl Finding {
    /// Whether the file allows this finding's rule.
    #[cfg(feature = "sql")]
    fn allowed_in(&self, script: &Script) -> bool {
        script
            .directives()
            .allowed_lints()
            .any(|lint| lint == self.rule.name)
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Rule { name, why, fix, .. } = self.rule;
        write!(
            f,
            "`{}` line {}: {} [{name}]: {why}; {fix}, or allow it with `-- waterline:allow({name})` at the \
             top of the file",
            self.file, self.line, self.what
        )
    }
}

/// A statement the parser could not read, so no rule checked it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Unchecked {
    /// The script as shown to users, e.g. `migrations/024_add_codec.sql`.
    pub file: String,
    /// The 1-based line the statement starts on.
    pub line: usize,
    /// Why it was not read: sqlparser's message, e.g. "sql parser error: Expected: ..., found:
    /// ...", or "read as 2 statements" or "the tokenizer could not read the file".
    pub reason: String,
}

/// Everything the lints found in a migration set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LintReport {
    /// Findings not allowed by their files, migration by migration in the order given: each
    /// script's in line order, then those of `down-does-not-undo`.
    pub findings: Vec<Finding>,
    /// Statements the parser could not read, so no rule checked them.
    pub unchecked: Vec<Unchecked>,
}

impl LintReport {
    /// The findings that fail a build: errors, and in `strict` mode advice too.
    pub fn failing(&self, strict: bool) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(move |f| strict || f.rule.severity == Severity::Error)
    }
}

/// Lints every script of every migration, for every backend.
#[cfg(feature = "sql")]
pub fn lint(migrations: &[Migration]) -> LintReport {
    lint_for(migrations, &Backend::ALL)
}

/// Lints every script of every migration for the backends an app runs them on: a
/// PostgreSQL-only app gets no MySQL advice about a shared `up.sql`, and a variant such as
/// `up.mysql.sql` is not checked at all.
#[cfg(feature = "sql")]
pub fn lint_for(migrations: &[Migration], backends: &[Backend]) -> LintReport {
    let mut report = LintReport::default();
    for migration in migrations {
        lint_migration(migration, Scope::Every, backends, &mut report);
    }
    report
}

/// The findings that fail a build: what [`LintReport::failing`] gives for [`lint`], found
/// with less work. Unless `strict`, only the error rules run, and a script with none of the
/// words they look for (most scripts) is not parsed at all.
#[cfg(feature = "sql")]
pub fn failing(migrations: &[Migration], strict: bool) -> Vec<Finding> {
    failing_for(migrations, strict, &Backend::ALL)
}

/// [`failing`] for the `backends` an app runs the migrations on, as [`lint_for`].
#[cfg(feature = "sql")]
pub fn failing_for(migrations: &[Migration], strict: bool, backends: &[Backend]) -> Vec<Finding> {
    let mut report = LintReport::default();
    let scope = if strict { Scope::Every } else { Scope::Errors };
    for migration in migrations {
        lint_migration(migration, scope, backends, &mut report);
    }
    report.failing(strict).cloned().collect()
}

/// Which rules a lint run checks.
#[cfg(feature = "sql")]
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    Every,
    Errors,
}

#[cfg(feature = "sql")]
fn lint_migration(
    migration: &Migration,
    scope: Scope,
    running: &[Backend],
    report: &mut LintReport,
) {
    for (down, direction) in [(false, migration.up()), (true, migration.down())] {
        for (script, backends) in scripts_by_backends(direction, running) {
            // Rust source is compiled, not linted as SQL.
            if script.is_rust() {
                continue;
            }
            if scope == Scope::Errors && !rules::may_break(script.sql()) {
                continue;
            }
            let ctx = Context {
                script,
                down,
                backends: &backends,
            };
            let statements = parse::statements(script, &backends);
            report
                .unchecked
                .extend(statements.iter().filter_map(|s| s.unchecked(script)));
            let found = rules::check(&ctx, &statements);
            report
                .findings
                .extend(found.into_iter().filter(|f| !f.allowed_in(script)));
        }
    }
    if scope == Scope::Errors {
        return;
    }
    let up_down = undo::down_does_not_undo(migration);
    report.findings.extend(up_down.into_iter().filter(|f| {
        let down = migration.down().default_script();
        !down.is_some_and(|script| f.allowed_in(script))
    }));
}

/// Each script of a direction with the backends among `running` that run it.
#[cfg(feature = "sql")]
fn scripts_by_backends<'d>(
    direction: &'d crate::model::Direction,
    running: &[Backend],
) -> Vec<(&'d Script, Vec<Backend>)> {
    let mut scripts: Vec<(&Script, Vec<Backend>)> = direction
        .variants()
        .iter()
        .filter(|v| running.contains(&v.backend()))
        .map(|v| (v.script(), vec![v.backend()]))
        .collect();
    if let Some(default) = direction.default_script() {
        let covered: Vec<Backend> = direction.variants().iter().map(|v| v.backend()).collect();
        let rest: Vec<Backend> = Backend::ALL
            .into_iter()
            .filter(|b| !covered.contains(b) && running.contains(b))
            .collect();
        if !rest.is_empty() {
            scripts.push((default, rest));
        }
    }
    scripts
}

/// Whether `name` is a lint rule.
pub fn is_rule(name: &str) -> bool {
    RULES.iter().any(|rule| rule.name == name)
}

#[cfg(all(test, feature = "sql"))]
mod tests;
