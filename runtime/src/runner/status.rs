//! Building the status of every migration from the embedded set and the tracking rows.

use std::collections::HashMap;

use waterline_core::{Backend, Migration};

use super::assess::embedded_checksum;
use super::record::{Record, RecordStatus};
use super::report::{MigrationStatus, State, Status};

/// One line per version, embedded or recorded, in version order.
pub fn build(
    migrations: &[Migration],
    backend: Backend,
    records: &[Record],
    table: &str,
) -> Status {
    let by_version: HashMap<u64, &Record> = records.iter().map(|r| (r.version(), r)).collect();
    let mut lines: Vec<MigrationStatus> = migrations
        .iter()
        .map(|migration| {
            let record = by_version.get(&migration.version()).copied();
            let embedded = embedded_checksum(migration, backend);
            let state = match record {
                None => State::Pending,
                Some(r) => match r.status() {
                    RecordStatus::Running => State::Running,
                    RecordStatus::Failed => State::Failed,
                    RecordStatus::Applied if r.checksum == embedded => State::Applied,
                    RecordStatus::Applied => State::Drifted,
                },
            };
            line(
                migration.version(),
                migration.version_text(),
                migration.name(),
                Some(migration.path()),
                state,
                record,
                Some(embedded),
            )
        })
        .collect();
    for record in records
        .iter()
        .filter(|r| !migrations.iter().any(|m| m.version() == r.version()))
    {
        let version_text = record.version.to_string();
        lines.push(line(
            record.version(),
            &version_text,
            &record.name,
            None,
            State::MissingFromBinary,
            Some(record),
            None,
        ));
    }
    lines.sort_by_key(|line| line.version);
    Status {
        table: table.to_owned(),
        migrations: lines,
        missing_ok: false,
    }
}

fn line(
    version: u64,
    version_text: &str,
    name: &str,
    file: Option<&str>,
    state: State,
    record: Option<&Record>,
    embedded_checksum: Option<String>,
) -> MigrationStatus {
    MigrationStatus {
        version,
        version_text: version_text.to_owned(),
        name: name.to_owned(),
        file: file.map(str::to_owned),
        state,
        applied_at: record.and_then(|r| r.finished_at.clone()),
        execution_ms: record.and_then(|r| r.execution_ms),
        applied_by: record.map(|r| r.applied_by.clone()),
        stored_checksum: record.map(|r| r.checksum.clone()),
        embedded_checksum,
        error: record.and_then(|r| r.error.clone()),
        backfill: None,
    }
}
