//! Pause points for the fault tests, compiled into debug builds only: release builds have no
//! trace of them.
//!
//! With `WATERLINE_FAULT_PAUSE=<point>:<version>` in the environment, the runner stops at that
//! point of that migration, writes `waterline-fault: paused at <point> <version>` to standard
//! error, and waits for a line on standard input. A test then kills the process there, or cuts
//! its database connection and lets it go on. `<version>` 0 matches every migration.

/// The moments a test can stop a run at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Point {
    /// The lock is held, the state read again; nothing applied yet.
    Locked,
    /// A migration is about to start.
    Before,
    /// Outside a transaction: its `running` row is written.
    RunningRecorded,
    /// Outside a transaction: between two of its statements.
    BetweenStatements,
    /// Its SQL ran; in a transaction, not yet committed; outside, its row still `running`.
    ScriptDone,
    /// In a transaction: its row is written, the transaction not yet committed.
    Recorded,
    /// Committed (or recorded `applied`).
    Committed,
    /// A backfill batch and its checkpoint are written, not yet committed.
    BatchWritten,
    /// A backfill batch and its checkpoint are committed.
    BatchCommitted,
}

impl Point {
    #[cfg(debug_assertions)]
    fn name(self) -> &'static str {
        match self {
            Point::Locked => "locked",
            Point::Before => "before",
            Point::RunningRecorded => "running-recorded",
            Point::BetweenStatements => "between-statements",
            Point::ScriptDone => "script-done",
            Point::Recorded => "recorded",
            Point::Committed => "committed",
            Point::BatchWritten => "batch-written",
            Point::BatchCommitted => "batch-committed",
        }
    }
}

/// Stops here when the environment asks to (debug builds only).
#[cfg(debug_assertions)]
pub fn pause(point: Point, version: u64) {
    use std::io::{BufRead, Write};
    let Ok(wanted) = std::env::var("WATERLINE_FAULT_PAUSE") else {
        return;
    };
    let Some((name, at)) = wanted.split_once(':') else {
        return;
    };
    let matches =
        name == point.name() && at.parse::<u64>().is_ok_and(|at| at == 0 || at == version);
    if matches {
        let mut stderr = std::io::stderr();
        let _ = writeln!(
            stderr,
            "waterline-fault: paused at {} {version}",
            point.name()
        );
        let _ = stderr.flush();
        let _ = std::io::stdin().lock().read_line(&mut String::new());
    }
}

/// Release builds: nothing.
#[cfg(not(debug_assertions))]
#[inline(always)]
pub fn pause(_: Point, _: u64) {}
