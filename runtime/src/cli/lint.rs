//! `migrate lint`: what the lints find in the embedded migrations, or in a folder.

use super::output;
use super::{Failure, EXIT_NOT_UP_TO_DATE, EXIT_OK};
use crate::Migrations;

/// `lint [--strict] [--unchecked] [--dir DIR]`: what the lints find, for the backends this
/// binary is built with; findings in applied history (`history = "..."`) are advice.
pub fn lint(
    migrations: &Migrations,
    strict: bool,
    unchecked: bool,
    dir: Option<&std::path::Path>,
) -> Result<u8, Failure> {
    let read;
    let set = match dir {
        Some(dir) => {
            let label = dir.display().to_string();
            read = Migrations::from_folder(dir, &label)
                .map_err(|problems| Failure::usage(problems.to_string()))?;
            &read
        }
        None => migrations,
    };
    let backends = compiled_backends();
    let all = set.as_slice();
    let history_end = set
        .history_until()
        .map_or(0, |until| all.partition_point(|m| m.version() <= until));
    let history = waterline_core::lint::lint_for(&all[..history_end], &backends);
    let report = waterline_core::lint::lint_for(&all[history_end..], &backends);
    let notices: Vec<&str> = set.notices().collect();
    for notice in &notices {
        output::advice(notice);
    }
    for finding in &history.findings {
        output::advice(&format!(
            "{finding} (applied history, up to the `history` given to embed_migrations!: advice)"
        ));
    }
    for finding in &report.findings {
        match finding.rule.severity {
            waterline_core::lint::Severity::Error => output::error(&finding.to_string()),
            waterline_core::lint::Severity::Advice => output::advice(&finding.to_string()),
        }
    }
    if unchecked {
        for statement in history.unchecked.iter().chain(&report.unchecked) {
            output::out(&format!(
                "not checked: `{}` line {}: {}",
                statement.file, statement.line, statement.reason
            ));
        }
    }
    let count = report.findings.len() + history.findings.len() + notices.len();
    let noun = if count == 1 { "finding" } else { "findings" };
    output::out(&format!(
        "{} migrations checked: {count} {noun}, {} statements the parser could not read",
        set.len(),
        report.unchecked.len() + history.unchecked.len()
    ));
    Ok(
        if report.failing(strict).next().is_some() || (strict && !notices.is_empty()) {
            EXIT_NOT_UP_TO_DATE
        } else {
            EXIT_OK
        },
    )
}

/// The backends this binary is built with, which the lints check for: as `embed_migrations!`
/// does, from the same features.
fn compiled_backends() -> Vec<waterline_core::Backend> {
    waterline_core::Backend::compiled(
        cfg!(feature = "postgres"),
        cfg!(feature = "mysql"),
        cfg!(feature = "sqlite"),
    )
}
