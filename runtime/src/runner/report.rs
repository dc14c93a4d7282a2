//! What the operations return: the report of a run, the status of every migration, the plan.

use std::fmt;
use std::time::Duration;

/// One migration that ran (forward or back), and how long it took.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Ran {
    /// The version, e.g. 24.
    pub version: u64,
    /// The version as written, e.g. `024`.
    pub version_text: String,
    /// The name, e.g. `add_codec`.
    pub name: String,
    /// How long its SQL and tracking row took.
    pub duration: Duration,
}

impl fmt::Display for Ran {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} ({} ms)",
            self.version_text,
            self.name,
            self.duration.as_millis()
        )
    }
}

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// The migrations applied (or, for a revert, reverted), in the order they ran.
    pub migrations: Vec<Ran>,
    /// How long the run waited for the lock; `None` when it took none (nothing to do).
    pub lock_wait: Option<Duration>,
    /// Applied migrations this binary does not embed, which it went on past (see
    /// [`Runner::ahead`](crate::Runner::ahead)): a newer binary applied them.
    pub ahead: Vec<crate::error::MigrationRef>,
    /// Pending migrations [`run_pending`](crate::Runner::run_pending) left to
    /// [`run_background`](crate::Runner::run_background): the first background migration and
    /// every one after it.
    pub deferred: Vec<crate::error::MigrationRef>,
}

impl Report {
    /// Whether nothing ran. A run that [deferred](Self::deferred) background migrations ran
    /// nothing else may be empty too.
    pub fn is_empty(&self) -> bool {
        self.migrations.is_empty()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_applied(f)?;
        if let Some(first) = self.deferred.first() {
            let count = self.deferred.len();
            write!(
                f,
                "\n{count} migration{} left to the background run, from {first}",
                plural(count)
            )?;
        }
        Ok(())
    }
}

impl Report {
    fn fmt_applied(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.migrations.len() {
            0 if !self.deferred.is_empty() => f.write_str("nothing applied"),
            0 => f.write_str("nothing to do"),
            count => {
                let total: Duration = self.migrations.iter().map(|ran| ran.duration).sum();
                write!(
                    f,
                    "{count} migration{} in {} ms:",
                    plural(count),
                    total.as_millis()
                )?;
                self.migrations
                    .iter()
                    .try_for_each(|ran| write!(f, "\n  {ran}"))
            }
        }
    }
}

fn plural(count: usize) -> &'static str {
    if count == 1 {
        ""
    } else {
        "s"
    }
}

/// The state of one migration, from the embedded set and the tracking table together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Applied, and the file is unchanged.
    Applied,
    /// Not applied yet.
    Pending,
    /// Failed on its last run.
    Failed,
    /// Started outside a transaction and never finished.
    Running,
    /// Applied, but the embedded file changed since.
    Drifted,
    /// Recorded as applied, but not embedded in this binary.
    MissingFromBinary,
}

impl State {
    /// The state's name as shown by `status` and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Applied => "applied",
            State::Pending => "pending",
            State::Failed => "failed",
            State::Running => "running",
            State::Drifted => "drifted",
            State::MissingFromBinary => "missing from binary",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of [`Status`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MigrationStatus {
    /// The version.
    pub version: u64,
    /// The version as written (the bare number when not embedded).
    pub version_text: String,
    /// The name.
    pub name: String,
    /// The file or directory, when embedded.
    pub file: Option<String>,
    /// The state.
    pub state: State,
    /// When it was applied (finished), RFC 3339 UTC.
    pub applied_at: Option<String>,
    /// How long it took, in milliseconds.
    pub execution_ms: Option<i64>,
    /// Who applied it (host and process).
    pub applied_by: Option<String>,
    /// The checksum in the tracking table.
    pub stored_checksum: Option<String>,
    /// The checksum of the embedded script for this backend.
    pub embedded_checksum: Option<String>,
    /// The error of a failed run.
    pub error: Option<String>,
    /// Where its backfills stand, for a resumable migration written in Rust that has run
    /// at least one batch.
    pub backfill: Option<BackfillStatus>,
}

/// Where the backfills of one migration stand, from their checkpoints.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BackfillStatus {
    /// Rows changed, by every run.
    pub rows_done: u64,
    /// About how many rows there are to do in all.
    pub rows_total: u64,
    /// Batches committed.
    pub batches: u64,
    /// Rows a second, at the last batch.
    pub rows_per_second: u64,
    /// Whether every backfill of the migration is done.
    pub finished: bool,
    /// The run holding the migration now, with a live heartbeat, if any.
    pub held_by: Option<String>,
}

impl BackfillStatus {
    /// About how long until done, at the last rate.
    pub fn eta(&self) -> Option<std::time::Duration> {
        let left = self.rows_total.saturating_sub(self.rows_done);
        (self.rows_per_second > 0 && !self.finished)
            .then(|| std::time::Duration::from_secs(left / self.rows_per_second))
    }
}

/// Every migration, embedded or recorded, in version order.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Status {
    /// The tracking table.
    pub table: String,
    /// One line per version.
    pub migrations: Vec<MigrationStatus>,
    /// Whether the runner that read it goes on past migrations the binary lacks
    /// ([`Runner::ignore_missing`](crate::Runner::ignore_missing)).
    pub(crate) missing_ok: bool,
}

impl Status {
    /// How many migrations are in `state`.
    pub fn count(&self, state: State) -> usize {
        self.migrations.iter().filter(|m| m.state == state).count()
    }

    /// Whether every migration is applied and unchanged (and, for a runner that ignores
    /// them, whatever the binary lacks is applied too).
    pub fn is_up_to_date(&self) -> bool {
        self.problems().next().is_none()
    }

    /// The migrations that keep the database from being up to date, in version order:
    /// pending, failed, running, drifted, and missing from the binary unless the runner that
    /// read the status ignores those.
    pub fn problems(&self) -> impl Iterator<Item = &MigrationStatus> {
        self.migrations.iter().filter(|m| match m.state {
            State::Applied => false,
            State::MissingFromBinary => !self.missing_ok,
            _ => true,
        })
    }
}

/// One migration `run_pending` would apply, with the exact SQL it would send.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlannedMigration {
    /// The version.
    pub version: u64,
    /// The version as written.
    pub version_text: String,
    /// The name.
    pub name: String,
    /// The script that would run, e.g. `migrations/024_add_codec/up.postgres.sql`.
    pub file: String,
    /// Whether it runs in a transaction with its tracking row.
    pub transactional: bool,
    /// The SQL, in the order it is sent: one batch, or one statement at a time. Empty for a
    /// migration written in Rust, whose SQL its code decides as it runs.
    pub statements: Vec<String>,
    /// Whether it is written in Rust: its `up` function runs.
    pub rust: bool,
    /// Whether it runs in the background (`// waterline:background`): `run_pending` defers it,
    /// and the migrations after it, to [`run_background`](crate::Runner::run_background).
    pub background: bool,
}

/// What `run_pending` would do, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Plan {
    /// The migrations, in the order they would run.
    pub migrations: Vec<PlannedMigration>,
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.migrations.is_empty() {
            return f.write_str("-- nothing to do\n");
        }
        for planned in &self.migrations {
            let how = if planned.transactional {
                "in a transaction"
            } else {
                "outside a transaction"
            };
            let when = if planned.background {
                ", in the background"
            } else {
                ""
            };
            writeln!(
                f,
                "-- {} {} ({}), {how}{when}",
                planned.version_text, planned.name, planned.file
            )?;
            if planned.rust {
                writeln!(f, "-- Rust: the `up` function of {}", planned.file)?;
            }
            for statement in &planned.statements {
                let statement = statement.trim_end();
                // A `;` after a trailing `--` comment would be part of the comment.
                let last_line = statement.lines().last().unwrap_or_default();
                let end = match (statement.ends_with(';'), last_line.contains("--")) {
                    (true, _) => "",
                    (false, true) => "\n;",
                    (false, false) => ";",
                };
                writeln!(f, "{statement}{end}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_ends_each_statement_outside_its_comments() {
        let plan = Plan {
            migrations: vec![PlannedMigration {
                version: 2,
                version_text: "002".to_owned(),
                name: "backfill".to_owned(),
                file: "migrations/002_backfill.sql".to_owned(),
                transactional: true,
                statements: vec![
                    "UPDATE streams SET title = ''\n-- a harmless comment\n".to_owned(),
                    "SELECT 1;".to_owned(),
                    "SELECT 2".to_owned(),
                ],
                rust: false,
                background: false,
            }],
        };
        assert_eq!(
            plan.to_string(),
            "-- 002 backfill (migrations/002_backfill.sql), in a transaction\n\
             UPDATE streams SET title = ''\n-- a harmless comment\n;\n\
             SELECT 1;\n\
             SELECT 2;\n\n"
        );
    }

    #[test]
    fn a_plan_names_the_function_of_a_rust_migration_and_when_it_runs() {
        let plan = Plan {
            migrations: vec![PlannedMigration {
                version: 13,
                version_text: "013".to_owned(),
                name: "default_profile_images".to_owned(),
                file: "migrations/013_default_profile_images.rs".to_owned(),
                transactional: false,
                statements: Vec::new(),
                rust: true,
                background: true,
            }],
        };
        assert_eq!(
            plan.to_string(),
            "-- 013 default_profile_images (migrations/013_default_profile_images.rs), outside a \
             transaction, in the background\n\
             -- Rust: the `up` function of migrations/013_default_profile_images.rs\n\n"
        );
    }
}
