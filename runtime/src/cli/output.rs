//! What the commands print: a status table, progress lines, summaries and JSON. Colour goes
//! through anstream, which writes it only to a terminal and never when `NO_COLOR` is set.

use std::io::{IsTerminal, Write};

use anstyle::{AnsiColor, Style};
use serde::Serialize;

use crate::runner::{
    BackfillStatus, MigrationStatus, Plan, Progress, Ran, Report, RunDirection, State, Status,
};

const GREEN: Style = AnsiColor::Green.on_default();
const YELLOW: Style = AnsiColor::Yellow.on_default();
const RED: Style = AnsiColor::Red.on_default().bold();
const BOLD: Style = Style::new().bold();

/// Writes a line to standard output, colour stripped where it must be.
pub fn out(text: &str) {
    let mut stdout = anstream::stdout();
    let _ = writeln!(stdout, "{text}");
}

/// Where a labelled line goes.
enum Stream {
    Out,
    Err,
}

/// Writes `<label>: <message>`, the label in `style`.
fn labelled(stream: Stream, style: Style, label: &str, message: &str) {
    let line = format!("{style}{label}:{style:#} {message}");
    let _ = match stream {
        Stream::Out => writeln!(anstream::stdout(), "{line}"),
        Stream::Err => writeln!(anstream::stderr(), "{line}"),
    };
}

/// Writes `error: <message>` to standard error.
pub fn error(message: &str) {
    labelled(Stream::Err, RED, "error", message);
}

/// Writes `warning: <message>` to standard error.
pub fn warning(message: &str) {
    labelled(Stream::Err, YELLOW, "warning", message);
}

/// Writes `advice: <message>` to standard output.
pub fn advice(message: &str) {
    labelled(Stream::Out, YELLOW, "advice", message);
}

fn state_style(state: State) -> Style {
    match state {
        State::Applied => GREEN,
        State::Pending => YELLOW,
        State::Failed | State::Running | State::Drifted | State::MissingFromBinary => RED,
    }
}

/// One line per migration as it runs: on a terminal `applying 003 name ... done (12 ms)`,
/// elsewhere (logs) `applied 003 name (12 ms)` once it has run.
pub fn progress(event: Progress<'_>) {
    let terminal = std::io::stdout().is_terminal();
    let mut stdout = anstream::stdout();
    match event {
        Progress::Started {
            migration,
            direction,
        } if terminal => {
            let verb = if direction == RunDirection::Up {
                "applying"
            } else {
                "reverting"
            };
            let _ = write!(
                stdout,
                "{verb} {} {} ... ",
                migration.version_text(),
                migration.name()
            );
            let _ = stdout.flush();
        }
        Progress::Finished { ran, .. } if terminal => {
            let _ = writeln!(
                stdout,
                "{GREEN}done{GREEN:#} ({} ms)",
                ran.duration.as_millis()
            );
        }
        Progress::Finished { ran, direction } => {
            let verb = if direction == RunDirection::Up {
                "applied"
            } else {
                "reverted"
            };
            let _ = writeln!(stdout, "{verb} {ran}");
        }
        // Waits and long migrations go to standard error, a line each, terminal or not: a log
        // shows why a start-up takes long.
        Progress::WaitingForLock {
            table,
            waited,
            holder,
        } => {
            let holder = holder.map(|h| format!(", held by {h}")).unwrap_or_default();
            eprintln!(
                "waiting for the migration lock of `{table}`{holder} ({} s so far)",
                waited.as_secs()
            );
        }
        Progress::StillRunning {
            migration, elapsed, ..
        } => {
            if terminal {
                let _ = writeln!(stdout);
            }
            eprintln!(
                "{} {} still running after {} s",
                migration.version_text(),
                migration.name(),
                elapsed.as_secs()
            );
        }
        Progress::GaveWay {
            migration,
            tries,
            waited,
            timeout,
            blockers,
        } => {
            if terminal {
                let _ = writeln!(stdout);
            }
            let by = match blockers.is_empty() {
                true => String::new(),
                false => format!("; held by {}", blockers.join("; ")),
            };
            eprintln!(
                "{} {} gave way after waiting {} ms for a table lock (try {tries}, {} s so far){by}",
                migration.version_text(),
                migration.name(),
                timeout.as_millis(),
                waited.as_secs()
            );
        }
        Progress::Batch { progress } => {
            // A line a second at most: a backfill of a million rows is a thousand batches.
            static LAST: std::sync::Mutex<Option<std::time::Instant>> = std::sync::Mutex::new(None);
            let mut last = LAST
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let due = last.is_none_or(|at| at.elapsed() >= std::time::Duration::from_secs(1));
            if due || progress.rows_done >= progress.rows_total {
                *last = Some(std::time::Instant::now());
                if terminal {
                    let _ = writeln!(stdout);
                }
                let eta = progress
                    .eta
                    .map(|eta| format!(", about {} s left", eta.as_secs()))
                    .unwrap_or_default();
                eprintln!(
                    "{} {}: {} of about {} rows ({} batches, {:.0} rows/s{eta})",
                    progress.migration.version_text(),
                    progress.backfill,
                    progress.rows_done,
                    progress.rows_total,
                    progress.batches,
                    progress.rate
                );
            }
        }
        _ => {}
    }
}

/// The closing line of a run.
pub fn summary(report: &Report, verb: &str, none: &str) -> String {
    match report.migrations.len() {
        0 => none.to_owned(),
        count => {
            let total: u128 = report
                .migrations
                .iter()
                .map(|ran: &Ran| ran.duration.as_millis())
                .sum();
            let noun = if count == 1 {
                "migration"
            } else {
                "migrations"
            };
            format!("{verb} {count} {noun} in {total} ms")
        }
    }
}

/// The status as a table and a summary line.
pub fn status_table(status: &Status) -> String {
    let headers = ["VERSION", "NAME", "STATE", "APPLIED AT", "DURATION"];
    let rows: Vec<[String; 5]> = status.migrations.iter().map(row).collect();
    let mut widths = headers.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    let mut table = String::new();
    let header: Vec<String> = headers
        .iter()
        .zip(widths)
        .map(|(h, w)| format!("{h:w$}"))
        .collect();
    table.push_str(&format!("{BOLD}{}{BOLD:#}\n", header.join("  ").trim_end()));
    for (row, line) in rows.iter().zip(&status.migrations) {
        let style = state_style(line.state);
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(column, (cell, width))| match column {
                2 => format!("{style}{cell:width$}{style:#}"),
                _ => format!("{cell:width$}"),
            })
            .collect();
        table.push_str(cells.join("  ").trim_end());
        table.push('\n');
        if let Some(backfill) = line.backfill.as_ref().filter(|b| !b.finished) {
            table.push_str(&format!("    {}\n", backfill_line(backfill)));
        }
    }
    table.push_str(&summary_line(status));
    table
}

/// Where an unfinished backfill stands, for `status`.
fn backfill_line(backfill: &BackfillStatus) -> String {
    let eta = backfill
        .eta()
        .map(|eta| format!(", about {} s left", eta.as_secs()))
        .unwrap_or_default();
    let held = match &backfill.held_by {
        Some(holder) => format!("; running in {holder}"),
        None => "; not running now: the next run resumes it".to_owned(),
    };
    format!(
        "backfill: {} of about {} rows in {} batches, {} rows/s{eta}{held}",
        backfill.rows_done, backfill.rows_total, backfill.batches, backfill.rows_per_second
    )
}

fn row(line: &MigrationStatus) -> [String; 5] {
    let applied_at = line
        .applied_at
        .as_deref()
        .map(readable_time)
        .unwrap_or_default();
    let duration = line
        .execution_ms
        .map(|ms| format!("{ms} ms"))
        .unwrap_or_default();
    [
        line.version_text.clone(),
        line.name.clone(),
        line.state.to_string(),
        applied_at,
        duration,
    ]
}

/// `2026-11-22T01:02:03.123456Z` as `2026-11-22 01:02:03 UTC`.
fn readable_time(rfc3339: &str) -> String {
    match rfc3339.get(..19) {
        Some(seconds) => format!("{} UTC", seconds.replacen('T', " ", 1)),
        None => rfc3339.to_owned(),
    }
}

/// `10 migrations: 3 applied, 7 pending (tracking table waterline_migrations)`.
pub fn summary_line(status: &Status) -> String {
    let states = [
        State::Applied,
        State::Pending,
        State::Failed,
        State::Running,
        State::Drifted,
        State::MissingFromBinary,
    ];
    let parts: Vec<String> = states
        .iter()
        .filter(|state| status.count(**state) > 0)
        .map(|state| format!("{} {state}", status.count(*state)))
        .collect();
    let total = status.migrations.len();
    let noun = if total == 1 {
        "migration"
    } else {
        "migrations"
    };
    let parts = if parts.is_empty() {
        "none".to_owned()
    } else {
        parts.join(", ")
    };
    format!("{total} {noun}: {parts} (tracking table {})", status.table)
}

/// The JSON name of a state.
fn state_key(state: State) -> &'static str {
    match state {
        State::Applied => "applied",
        State::Pending => "pending",
        State::Failed => "failed",
        State::Running => "running",
        State::Drifted => "drifted",
        State::MissingFromBinary => "missing_from_binary",
    }
}

/// `status --json`.
#[derive(Serialize)]
pub struct StatusJson<'a> {
    table: &'a str,
    migrations: Vec<MigrationJson<'a>>,
    summary: Summary,
}

#[derive(Serialize)]
struct MigrationJson<'a> {
    version: u64,
    version_text: &'a str,
    name: &'a str,
    state: &'static str,
    file: Option<&'a str>,
    applied_at: Option<&'a str>,
    execution_ms: Option<i64>,
    applied_by: Option<&'a str>,
    checksum: Option<&'a str>,
    embedded_checksum: Option<&'a str>,
    error: Option<&'a str>,
    backfill: Option<BackfillJson<'a>>,
}

#[derive(Serialize)]
struct BackfillJson<'a> {
    rows_done: u64,
    rows_total: u64,
    batches: u64,
    rows_per_second: u64,
    finished: bool,
    eta_seconds: Option<u64>,
    held_by: Option<&'a str>,
}

/// How many migrations are in each state.
#[derive(Serialize)]
pub struct Summary {
    total: usize,
    applied: usize,
    pending: usize,
    failed: usize,
    running: usize,
    drifted: usize,
    missing_from_binary: usize,
}

impl Summary {
    fn of(status: &Status) -> Summary {
        Summary {
            total: status.migrations.len(),
            applied: status.count(State::Applied),
            pending: status.count(State::Pending),
            failed: status.count(State::Failed),
            running: status.count(State::Running),
            drifted: status.count(State::Drifted),
            missing_from_binary: status.count(State::MissingFromBinary),
        }
    }
}

impl<'a> StatusJson<'a> {
    /// The JSON form of `status`.
    pub fn of(status: &'a Status) -> StatusJson<'a> {
        let migrations = status
            .migrations
            .iter()
            .map(|m| MigrationJson {
                version: m.version,
                version_text: &m.version_text,
                name: &m.name,
                state: state_key(m.state),
                file: m.file.as_deref(),
                applied_at: m.applied_at.as_deref(),
                execution_ms: m.execution_ms,
                applied_by: m.applied_by.as_deref(),
                checksum: m.stored_checksum.as_deref(),
                embedded_checksum: m.embedded_checksum.as_deref(),
                error: m.error.as_deref(),
                backfill: m.backfill.as_ref().map(|b| BackfillJson {
                    rows_done: b.rows_done,
                    rows_total: b.rows_total,
                    batches: b.batches,
                    rows_per_second: b.rows_per_second,
                    finished: b.finished,
                    eta_seconds: b.eta().map(|eta| eta.as_secs()),
                    held_by: b.held_by.as_deref(),
                }),
            })
            .collect();
        StatusJson {
            table: &status.table,
            migrations,
            summary: Summary::of(status),
        }
    }
}

/// `verify --json`.
#[derive(Serialize)]
pub struct VerifyJson<'a> {
    ok: bool,
    table: &'a str,
    summary: Summary,
    problems: Vec<MigrationJson<'a>>,
}

impl<'a> VerifyJson<'a> {
    /// The JSON form of a verification of `status`.
    pub fn of(status: &'a Status) -> VerifyJson<'a> {
        let all = StatusJson::of(status);
        let problem_versions: Vec<u64> = status.problems().map(|m| m.version).collect();
        let problems: Vec<MigrationJson<'a>> = all
            .migrations
            .into_iter()
            .filter(|m| problem_versions.contains(&m.version))
            .collect();
        VerifyJson {
            ok: problems.is_empty(),
            table: &status.table,
            summary: all.summary,
            problems,
        }
    }
}

/// `plan --json`.
#[derive(Serialize)]
pub struct PlanJson<'a> {
    migrations: Vec<PlannedJson<'a>>,
}

#[derive(Serialize)]
struct PlannedJson<'a> {
    version: u64,
    version_text: &'a str,
    name: &'a str,
    file: &'a str,
    transactional: bool,
    statements: &'a [String],
    rust: bool,
    background: bool,
}

impl<'a> PlanJson<'a> {
    /// The JSON form of `plan`.
    pub fn of(plan: &'a Plan) -> PlanJson<'a> {
        let migrations = plan
            .migrations
            .iter()
            .map(|p| PlannedJson {
                version: p.version,
                version_text: &p.version_text,
                name: &p.name,
                file: &p.file,
                transactional: p.transactional,
                statements: &p.statements,
                rust: p.rust,
                background: p.background,
            })
            .collect();
        PlanJson { migrations }
    }
}

/// Prints `value` as pretty JSON.
pub fn json(value: &impl Serialize) {
    out(&serde_json::to_string_pretty(value).expect("plain data serialises"));
}
