//! The commands that work on a database, one function each: what it runs, and what it prints.
//! Each returns the process's exit code, or the error to report.

use super::database::AnyConnection;
use super::output::{self, PlanJson, StatusJson, VerifyJson};
use super::{MarkAs, EXIT_NOT_UP_TO_DATE, EXIT_OK};
use crate::runner::{Runner, State};
use crate::Error;

/// `runner`, stopping after `to` when given.
fn up_to<'m>(runner: &Runner<'m>, to: Option<u64>) -> Runner<'m> {
    match to {
        Some(version) => runner.clone().target(version),
        None => runner.clone(),
    }
}

/// `status [--json]`: every migration and its state.
pub fn status(runner: &Runner<'_>, conn: &mut AnyConnection, json: bool) -> Result<u8, Error> {
    let status = runner.status(conn)?;
    match json {
        true => output::json(&StatusJson::of(&status)),
        false => output::out(&output::status_table(&status)),
    }
    Ok(EXIT_OK)
}

/// `plan [--to V] [--json]` and `up --dry-run`: the SQL `up` would send, changing nothing.
pub fn plan(
    runner: &Runner<'_>,
    conn: &mut AnyConnection,
    to: Option<u64>,
    json: bool,
) -> Result<u8, Error> {
    let plan = up_to(runner, to).plan(conn)?;
    match json {
        true => output::json(&PlanJson::of(&plan)),
        false => print!("{plan}"),
    }
    Ok(EXIT_OK)
}

/// `up [--to V] [--single-transaction] [--defer-background]`: applies what is pending,
/// background migrations too unless deferred.
pub fn up(
    runner: &Runner<'_>,
    conn: &mut AnyConnection,
    to: Option<u64>,
    single_transaction: bool,
    defer_background: bool,
) -> Result<u8, Error> {
    let runner = up_to(runner, to).single_transaction(single_transaction);
    let report = match defer_background {
        true => runner.run_pending(conn)?,
        false => runner.run_background(conn)?,
    };
    if let Some(first) = report.deferred.first() {
        output::out(&format!(
            "left to the background: {} and {} migration(s) after it; the app's background \
             run applies them, or `migrate up`",
            first,
            report.deferred.len() - 1
        ));
    }
    if !report.ahead.is_empty() {
        let ahead: Vec<String> = report.ahead.iter().map(ToString::to_string).collect();
        output::warning(&format!(
            "the database is ahead of this binary: it records {} as applied, which this binary \
             does not embed; going on, as each only adds to the schema (expand)",
            ahead.join(", ")
        ));
    }
    output::out(&output::summary(
        &report,
        "applied",
        "nothing to do: every migration is applied",
    ));
    Ok(EXIT_OK)
}

/// `down [--to V | --steps N | --all]`: reverts the newest migrations.
pub fn down(
    runner: &Runner<'_>,
    conn: &mut AnyConnection,
    to: Option<u64>,
    steps: Option<usize>,
    all: bool,
) -> Result<u8, Error> {
    let report = match (to, steps, all) {
        (_, _, true) => runner.revert_all(conn)?,
        (Some(version), _, false) => runner.revert_to(conn, version)?,
        (None, Some(steps), false) => runner.revert_steps(conn, steps)?,
        (None, None, false) => runner.revert_last(conn)?,
    };
    output::out(&output::summary(
        &report,
        "reverted",
        "nothing to revert: no migration is applied",
    ));
    Ok(EXIT_OK)
}

/// `redo`: reverts the newest migration and applies it again.
pub fn redo(runner: &Runner<'_>, conn: &mut AnyConnection) -> Result<u8, Error> {
    let reverted = runner.revert_last(conn)?;
    match reverted.migrations.first() {
        Some(ran) => {
            runner.apply_version(conn, ran.version, false)?;
            output::out(&format!("redid {} {}", ran.version_text, ran.name));
        }
        None => output::out("nothing to redo: no migration is applied"),
    }
    Ok(EXIT_OK)
}

/// `run V [--force]`: applies one migration, wherever it stands in the order.
pub fn run(
    runner: &Runner<'_>,
    conn: &mut AnyConnection,
    version: u64,
    force: bool,
) -> Result<u8, Error> {
    let status = runner.status(conn)?;
    let applied = status
        .migrations
        .iter()
        .any(|m| m.version == version && m.state == State::Applied);
    if applied && force {
        output::warning(&format!(
            "migration {version} is already applied; running it again because of --force"
        ));
    }
    let ran = runner.apply_version(conn, version, force)?;
    output::out(&format!("applied {ran}"));
    Ok(EXIT_OK)
}

/// `mark V applied|unapplied`: records a migration without running it.
pub fn mark(
    runner: &Runner<'_>,
    conn: &mut AnyConnection,
    version: u64,
    state: MarkAs,
) -> Result<u8, Error> {
    match state {
        MarkAs::Applied => {
            runner.mark_applied(conn, version)?;
            output::out(&format!(
                "recorded migration {version} as applied, without running it"
            ));
        }
        MarkAs::Unapplied => {
            runner.mark_unapplied(conn, version)?;
            output::out(&format!(
                "recorded migration {version} as not applied; it is pending again"
            ));
        }
    }
    Ok(EXIT_OK)
}

/// `repair V | --all [--dry-run]`: accepts edited checksums, clears rolled-back failures,
/// and says which rows it left for an operator.
pub fn repair(
    runner: &Runner<'_>,
    conn: &mut AnyConnection,
    version: Option<u64>,
    dry_run: bool,
) -> Result<u8, Error> {
    let repair = match (dry_run, version) {
        (true, version) => runner.plan_repair(conn, version)?,
        (false, Some(version)) => runner.repair_version(conn, version)?,
        (false, None) => runner.repair(conn)?,
    };
    let (accept, clear) = match dry_run {
        true => ("would accept", "would clear"),
        false => ("accepted", "cleared"),
    };
    for drift in &repair.accepted {
        output::out(&format!(
            "{accept} the new checksum of {} ({} -> {})",
            drift.migration, drift.stored, drift.embedded
        ));
    }
    for cleared in &repair.cleared {
        output::out(&format!(
            "{clear} the failure of {cleared}; it is pending again"
        ));
    }
    for left in &repair.partly_applied {
        let version = left.version;
        output::out(&format!(
            "left {left} as it is: it failed or stopped outside a transaction and may be partly \
             applied; check the schema, then `migrate mark {version} applied` if it is complete, \
             or undo what it did and `migrate mark {version} unapplied`"
        ));
    }
    if repair.accepted.is_empty() && repair.cleared.is_empty() && repair.partly_applied.is_empty() {
        output::out("nothing to repair");
    }
    Ok(EXIT_OK)
}

/// `baseline V | --from-diesel`: records an existing database's migrations as applied.
pub fn baseline(
    runner: &Runner<'_>,
    conn: &mut AnyConnection,
    version: Option<u64>,
    from_diesel: bool,
) -> Result<u8, Error> {
    let baseline = match (version, from_diesel) {
        (_, true) => runner.baseline_from_diesel(conn)?,
        (Some(version), false) => runner.baseline(conn, version)?,
        (None, false) => unreachable!("clap requires a version without --from-diesel"),
    };
    for recorded in &baseline.recorded {
        output::out(&format!(
            "recorded {recorded} as applied, without running it"
        ));
    }
    output::out(&format!(
        "baseline: {} migrations recorded",
        baseline.recorded.len()
    ));
    Ok(EXIT_OK)
}

/// `verify [--json]`: exit 3 unless every migration is applied as embedded, naming each that
/// is not.
pub fn verify(runner: &Runner<'_>, conn: &mut AnyConnection, json: bool) -> Result<u8, Error> {
    let status = runner.status(conn)?;
    match json {
        true => output::json(&VerifyJson::of(&status)),
        false => {
            output::out(&output::summary_line(&status));
            for problem in status.problems() {
                output::out(&format!(
                    "  {} {}: {}",
                    problem.version_text, problem.name, problem.state
                ));
            }
        }
    }
    Ok(match status.is_up_to_date() {
        true => EXIT_OK,
        false => EXIT_NOT_UP_TO_DATE,
    })
}
