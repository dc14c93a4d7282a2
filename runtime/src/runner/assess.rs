//! The comparison of the embedded set with the tracking rows: what is pending, and every
//! reason to refuse. Pure, so the rules are unit-tested without a database.

use std::collections::HashMap;

use waterline_core::{Backend, Migration, ALGORITHM};

use super::record::{Record, RecordStatus, State};
use super::Ahead;
use crate::error::{Drift, Error, MigrationRef};
use crate::migrations::UpChecksum;

/// The error text of the `running` row of a migration being reverted.
pub const REVERTING: &str = "reverting";

/// The start of the error text of a revert that failed outside a transaction.
pub const REVERT_FAILED: &str = "revert failed: ";

/// The `error` of the `running` row of a resumable migration (written in Rust, outside a
/// transaction): a binary that does not embed it can tell it from a half-applied script.
pub const RESUMABLE: &str = "resumable: a stopped run resumes from its checkpoints";

/// The choices that relax the rules.
#[derive(Clone, Copy, Debug, Default)]
pub struct Rules {
    pub allow_out_of_order: bool,
    pub ahead: Ahead,
    pub target: Option<u64>,
    /// The run holds no migration lock: a `running` row may be another process at work.
    pub unlocked: bool,
}

impl Rules {
    /// Whether a run goes as far as `version`: no target, or a target at or after it.
    pub fn reaches(&self, version: u64) -> bool {
        self.target.is_none_or(|target| version <= target)
    }
}

/// How a migration is named in errors.
pub fn migration_ref(migration: &Migration) -> MigrationRef {
    MigrationRef {
        version: migration.version(),
        version_text: migration.version_text().to_owned(),
        name: migration.name().to_owned(),
        file: migration.path().to_owned(),
    }
}

/// How a row is named in errors: by its migration when embedded.
pub fn record_ref(record: &Record, embedded: Option<&Migration>) -> MigrationRef {
    embedded.map(migration_ref).unwrap_or_else(|| MigrationRef {
        version: record.version(),
        version_text: record.version.to_string(),
        name: record.name.clone(),
        file: String::new(),
    })
}

/// The checksum `backend` runs for `migration`.
pub fn embedded_checksum(migration: &Migration, backend: Backend) -> String {
    migration
        .up()
        .for_backend(backend)
        .map(|script| script.checksum().to_hex())
        .unwrap_or_default()
}

/// The migrations to apply, in order, or the first reason to refuse.
pub fn pending<'m>(
    migrations: &'m [Migration],
    backend: Backend,
    records: &[Record],
    rules: Rules,
    table: &str,
) -> Result<Vec<&'m Migration>, Error> {
    let embedded: HashMap<u64, &Migration> = migrations.iter().map(|m| (m.version(), m)).collect();
    let find = |record: &Record| embedded.get(&record.version()).copied();
    unfinished(records, &find, rules, table)?;
    drift(records, &find, backend, table)?;
    refuse_missing(records, &find, rules, table)?;
    let applied: HashMap<u64, &Record> = records
        .iter()
        .filter(|r| r.status() == RecordStatus::Applied)
        .map(|r| (r.version(), r))
        .collect();
    let pending: Vec<&Migration> = migrations
        .iter()
        .filter(|m| !applied.contains_key(&m.version()))
        .filter(|m| rules.reaches(m.version()))
        .collect();
    refuse_out_of_order(&pending, records, &find, rules, table)?;
    Ok(pending)
}

/// What a run would find, as far as the no-op check can tell without the lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quick {
    /// Every migration in scope is applied unchanged: nothing to do.
    Nothing,
    /// Every migration before `from` is applied unchanged, and `from`, the first one pending,
    /// runs in the background, with no row at or after it: the run would only defer `from`
    /// and the migrations after it to [`Runner::run_background`](crate::Runner::run_background).
    Defer {
        /// The version of the first pending migration, a background one.
        from: u64,
    },
    /// Anything else: the run under the lock decides, and explains.
    Lock,
}

/// What a run would find: nothing to do when every row is applied under the current algorithm
/// with its embedded checksum (rows the binary lacks only when `ignore_missing`) and every
/// embedded migration up to the target is applied; only deferring when the first one that is
/// not is a background migration. Compares every checksum, allocates nothing, and never
/// refuses: anything else is left to [`pending`], under the lock, to explain.
///
/// `embedded` is what [`Migrations::up_checksums`](crate::Migrations) gives. `states` are
/// sorted by version, as `embedded` is, so one walk over both suffices; rows out of order only
/// make it answer [`Quick::Lock`].
pub fn quick_check(
    embedded: impl Iterator<Item = UpChecksum>,
    states: &[State],
    rules: Rules,
) -> Quick {
    // The first in-scope migration without a row ends the walk: pending.
    let first_pending = |up: UpChecksum, rows_after: bool| {
        if up.background && !rows_after {
            Quick::Defer { from: up.version }
        } else {
            Quick::Lock
        }
    };
    let mut embedded = embedded.peekable();
    for state in states {
        let Ok(version) = u64::try_from(state.version) else {
            return Quick::Lock;
        };
        // Embedded migrations before this row have no row: pending, if the run would apply them.
        while let Some(unapplied) = embedded.next_if(|up| up.version < version) {
            if rules.reaches(unapplied.version) {
                return first_pending(unapplied, true);
            }
        }
        let unchanged = match embedded.next_if(|up| up.version == version) {
            Some(up) => up
                .checksum
                .is_some_and(|checksum| state.checksum.is(checksum)),
            // An expand-only gap needs the classes: the run under the lock looks at them.
            None => rules.ahead == Ahead::Allow,
        };
        if !(unchanged && state.current) {
            return Quick::Lock;
        }
    }
    match embedded.find(|up| rules.reaches(up.version)) {
        Some(unapplied) => first_pending(unapplied, false),
        None => Quick::Nothing,
    }
}

type Find<'a, 'm> = dyn Fn(&Record) -> Option<&'m Migration> + 'a;

/// Refuses a `running` row, or a `failed` row that may be partly applied. A failure rolled
/// back left nothing behind: whatever caused it (the file, a timeout, a lost connection), the
/// migration is pending and the next run tries it again.
pub fn refuse_unfinished(
    records: &[Record],
    migrations: &[Migration],
    table: &str,
) -> Result<(), Error> {
    unfinished(
        records,
        &|r: &Record| migrations.iter().find(|m| m.version() == r.version()),
        Rules::default(),
        table,
    )
}

/// Refuses applied rows whose embedded file changed.
pub fn refuse_drift(
    records: &[Record],
    migrations: &[Migration],
    backend: Backend,
    table: &str,
) -> Result<(), Error> {
    drift(
        records,
        &|r: &Record| migrations.iter().find(|m| m.version() == r.version()),
        backend,
        table,
    )
}

fn unfinished(
    records: &[Record],
    find: &Find<'_, '_>,
    rules: Rules,
    table: &str,
) -> Result<(), Error> {
    for record in records {
        // A resumable migration (Rust, outside a transaction) that stopped part-way runs
        // again, resuming after its checkpoints, once no other run holds it.
        if find(record).is_some_and(Migration::is_resumable) {
            continue;
        }
        // A newer binary's background migration, in progress: when it only adds, this binary
        // keeps working beside it, as beside an applied expand migration.
        let resuming = record.status() == RecordStatus::Running
            && record.error.as_deref() == Some(RESUMABLE)
            && find(record).is_none();
        if resuming
            && rules.ahead != Ahead::Refuse
            && (record.is_expand() || rules.ahead == Ahead::Allow)
        {
            continue;
        }
        let migration = Box::new(record_ref(record, find(record)));
        let table = table.to_owned();
        match record.status() {
            RecordStatus::Applied => {}
            // Without the lock, a `running` row may be another process at work: its claim.
            RecordStatus::Running if rules.unlocked && record.error.is_none() => {
                return Err(Error::Claimed {
                    migration,
                    table,
                    holder: record.applied_by.clone(),
                    status: record.status.clone(),
                });
            }
            RecordStatus::Running => {
                let reverting = record.error.as_deref() == Some(REVERTING);
                let started = if reverting {
                    "started reverting"
                } else {
                    "was started"
                };
                let what = format!(
                    "{started} at {} by {} and never finished",
                    record.started_at, record.applied_by
                );
                return Err(Error::Unfinished {
                    migration,
                    table,
                    what,
                    detail: None,
                    reverting,
                });
            }
            RecordStatus::Failed if record.transactional == 0 => {
                let detail = record.error.clone();
                let reverting = detail
                    .as_deref()
                    .is_some_and(|e| e.starts_with(REVERT_FAILED));
                let what = match reverting {
                    true => "failed outside a transaction while being reverted".to_owned(),
                    false => "failed outside a transaction".to_owned(),
                };
                return Err(Error::Unfinished {
                    migration,
                    table,
                    what,
                    detail,
                    reverting,
                });
            }
            // Rolled back, so nothing of it is in the database: it is pending, and runs again.
            RecordStatus::Failed => {}
        }
    }
    Ok(())
}

fn drift(
    records: &[Record],
    find: &Find<'_, '_>,
    backend: Backend,
    table: &str,
) -> Result<(), Error> {
    let drifted: Vec<Drift> = records
        .iter()
        .filter(|record| record.status() == RecordStatus::Applied)
        .filter_map(|record| {
            let migration = find(record)?;
            let embedded = embedded_checksum(migration, backend);
            let same = record.checksum == embedded && record.checksum_algorithm == ALGORITHM;
            (!same).then(|| Drift {
                migration: migration_ref(migration),
                stored: record.checksum.clone(),
                embedded,
            })
        })
        .collect();
    match drifted.is_empty() {
        true => Ok(()),
        false => Err(Error::ChecksumMismatch {
            drifted,
            table: table.to_owned(),
        }),
    }
}

fn refuse_missing(
    records: &[Record],
    find: &Find<'_, '_>,
    rules: Rules,
    table: &str,
) -> Result<(), Error> {
    let missing: Vec<&Record> = records
        .iter()
        .filter(|record| record.status() == RecordStatus::Applied && find(record).is_none())
        .collect();
    let contract: Vec<MigrationRef> = missing
        .iter()
        .filter(|record| !record.is_expand())
        .map(|record| record_ref(record, None))
        .collect();
    let go_on = match rules.ahead {
        Ahead::Allow => true,
        Ahead::ExpandOnly => contract.is_empty(),
        Ahead::Refuse => missing.is_empty(),
    };
    match go_on {
        true => Ok(()),
        false => Err(Error::MissingFromBinary {
            missing: missing
                .iter()
                .map(|record| record_ref(record, None))
                .collect(),
            contract: match rules.ahead {
                Ahead::ExpandOnly => contract,
                Ahead::Refuse | Ahead::Allow => Vec::new(),
            },
            table: table.to_owned(),
        }),
    }
}

/// The applied migrations this binary does not embed, which a newer binary applied: the run
/// goes on past them only as [`Rules::ahead`] allows.
pub fn ahead_of_binary(records: &[Record], migrations: &[Migration]) -> Vec<MigrationRef> {
    records
        .iter()
        .filter(|record| record.status() == RecordStatus::Applied)
        .filter(|record| {
            migrations
                .binary_search_by_key(&record.version(), Migration::version)
                .is_err()
        })
        .map(|record| record_ref(record, None))
        .collect()
}

/// Whether a run with `rules` goes on past the migrations `records` has that this binary
/// lacks: what `status` and `verify` say, as `run_pending` does.
pub fn ahead_is_tolerated(records: &[Record], migrations: &[Migration], rules: Rules) -> bool {
    let embedded: HashMap<u64, &Migration> = migrations.iter().map(|m| (m.version(), m)).collect();
    let find = |record: &Record| embedded.get(&record.version()).copied();
    refuse_missing(records, &find, rules, "").is_ok()
}

fn refuse_out_of_order(
    pending: &[&Migration],
    records: &[Record],
    find: &Find<'_, '_>,
    rules: Rules,
    table: &str,
) -> Result<(), Error> {
    let newest = records
        .iter()
        .filter(|r| r.status() == RecordStatus::Applied)
        .max_by_key(|r| r.version);
    let Some(newest) = newest else { return Ok(()) };
    let late: Vec<MigrationRef> = pending
        .iter()
        .filter(|m| m.version() < newest.version())
        .map(|m| migration_ref(m))
        .collect();
    match late.is_empty() || rules.allow_out_of_order {
        true => Ok(()),
        false => Err(Error::OutOfOrder {
            pending: late,
            newest_applied: record_ref(newest, find(newest)).to_string(),
            table: table.to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::columns::{Applied, CurrentAlgorithm, StoredChecksum};

    fn set(files: &[(&str, &str)]) -> Vec<Migration> {
        let dir = tempfile::tempdir().unwrap();
        for (file, sql) in files {
            std::fs::write(dir.path().join(file), sql).unwrap();
        }
        waterline_core::read_folder(dir.path(), "migrations").unwrap()
    }

    fn record(migration: &Migration, status: RecordStatus, transactional: bool) -> Record {
        Record {
            version: migration.version() as i64,
            name: migration.name().to_owned(),
            checksum: embedded_checksum(migration, Backend::Sqlite),
            checksum_algorithm: ALGORITHM.to_owned(),
            status: status.as_str().to_owned(),
            started_at: "2026-11-22T00:00:00.000000Z".to_owned(),
            finished_at: None,
            execution_ms: None,
            error: Some("no such table: x".to_owned()),
            applied_by: "host (pid 7)".to_owned(),
            transactional: i16::from(transactional),
            class: Some(migration.class().as_str().to_owned()),
        }
    }

    fn run(migrations: &[Migration], records: &[Record], rules: Rules) -> Result<Vec<u64>, Error> {
        pending(
            migrations,
            Backend::Sqlite,
            records,
            rules,
            "waterline_migrations",
        )
        .map(|pending| pending.iter().map(|m| m.version()).collect())
    }

    fn three() -> Vec<Migration> {
        set(&[
            ("001_a.sql", "SELECT 1;"),
            ("002_b.sql", "SELECT 2;"),
            ("003_c.sql", "SELECT 3;"),
        ])
    }

    #[test]
    fn fresh_database_has_everything_pending_in_order() {
        assert_eq!(run(&three(), &[], Rules::default()).unwrap(), [1, 2, 3]);
    }

    #[test]
    fn applied_rows_are_not_pending_and_target_stops_early() {
        let m = three();
        let applied = [record(&m[0], RecordStatus::Applied, true)];
        assert_eq!(run(&m, &applied, Rules::default()).unwrap(), [2, 3]);
        assert_eq!(
            run(
                &m,
                &applied,
                Rules {
                    target: Some(2),
                    ..Rules::default()
                }
            )
            .unwrap(),
            [2]
        );
    }

    #[test]
    fn changed_checksum_is_refused_naming_both_sums() {
        let m = three();
        let mut row = record(&m[0], RecordStatus::Applied, true);
        row.checksum = "0".repeat(64);
        let error = run(&m, &[row], Rules::default()).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "applied migration 001 `migrations/001_a.sql` changed since it was applied: \
                 `waterline_migrations` records checksum {}, the embedded file has {}; restore the \
                 original file, or if the change is intended (a comment, say) accept it with \
                 `repair`",
                "0".repeat(64),
                embedded_checksum(&m[0], Backend::Sqlite)
            )
        );
    }

    #[test]
    fn versions_the_binary_lacks_are_refused_unless_ignored() {
        let m = three();
        let old = set(&[("001_a.sql", "SELECT 1;")]);
        let rows = [
            record(&m[0], RecordStatus::Applied, true),
            record(&m[2], RecordStatus::Applied, true),
        ];
        let refuse = Rules {
            ahead: Ahead::Refuse,
            ..Rules::default()
        };
        // `c` only adds (SELECT 1): by default the older binary goes on past it.
        assert_eq!(
            run(&old, &rows, Rules::default()).unwrap(),
            Vec::<u64>::new()
        );
        let error = run(&old, &rows, refuse).unwrap_err();
        assert!(
            matches!(&error, Error::MissingFromBinary { missing, .. } if missing[0].version == 3)
        );
        assert!(
            error
                .to_string()
                .contains("records migration 3 `c` as applied"),
            "{error}"
        );
        assert_eq!(
            run(
                &old,
                &rows,
                Rules {
                    ahead: Ahead::Allow,
                    ..Rules::default()
                }
            )
            .unwrap(),
            Vec::<u64>::new()
        );
    }

    #[test]
    fn older_pending_migration_is_refused_unless_allowed() {
        let m = three();
        let rows = [
            record(&m[0], RecordStatus::Applied, true),
            record(&m[2], RecordStatus::Applied, true),
        ];
        let error = run(&m, &rows, Rules::default()).unwrap_err();
        assert!(matches!(&error, Error::OutOfOrder { pending, .. } if pending[0].version == 2));
        assert_eq!(
            run(
                &m,
                &rows,
                Rules {
                    allow_out_of_order: true,
                    ..Rules::default()
                }
            )
            .unwrap(),
            [2]
        );
    }

    #[test]
    fn running_rows_are_refused_with_instructions() {
        let m = three();
        let error = run(
            &m,
            &[record(&m[0], RecordStatus::Running, false)],
            Rules::default(),
        )
        .unwrap_err();
        let message = error.to_string();
        assert!(message.contains("never finished"), "{message}");
        assert!(
            message.contains("`mark_applied(1)`") && message.contains("`mark_unapplied(1)`"),
            "{message}"
        );
    }

    #[test]
    fn an_interrupted_revert_gets_revert_advice() {
        let m = three();
        let mut reverting = record(&m[0], RecordStatus::Running, false);
        reverting.error = Some(REVERTING.to_owned());
        let text = run(&m, &[reverting], Rules::default())
            .unwrap_err()
            .to_string();
        assert!(
            text.contains("started reverting at") && text.contains("may be partly reverted"),
            "{text}"
        );
        assert!(
            text.contains("`mark_unapplied(1)` if the revert is complete"),
            "{text}"
        );
        let mut failed = record(&m[0], RecordStatus::Failed, false);
        failed.error = Some(format!("{REVERT_FAILED}cannot drop index"));
        let text = run(&m, &[failed], Rules::default())
            .unwrap_err()
            .to_string();
        assert!(
            text.contains("failed outside a transaction while being reverted"),
            "{text}"
        );
        assert!(
            text.contains(": revert failed: cannot drop index, so it may be partly reverted"),
            "{text}"
        );
    }

    #[test]
    fn rolled_back_failures_retry_and_partly_applied_ones_refuse() {
        let m = three();
        let failed = record(&m[0], RecordStatus::Failed, true);
        assert_eq!(
            run(&m, std::slice::from_ref(&failed), Rules::default()).unwrap(),
            [1, 2, 3]
        );
        let mut fixed = failed;
        fixed.checksum = "0".repeat(64);
        assert_eq!(run(&m, &[fixed], Rules::default()).unwrap(), [1, 2, 3]);
        let partial = record(&m[0], RecordStatus::Failed, false);
        assert!(matches!(
            run(&m, &[partial], Rules::default()),
            Err(Error::Unfinished { .. })
        ));
    }

    /// What `Migrations::up_checksums` gives for `migrations` on SQLite.
    fn up(migrations: &[Migration]) -> impl Iterator<Item = UpChecksum> + '_ {
        migrations
            .iter()
            .map(|m| UpChecksum::of(m, Backend::Sqlite))
    }

    fn states(migrations: &[Migration], checksums: &[&str]) -> Vec<State> {
        migrations
            .iter()
            .zip(checksums)
            .map(|(m, checksum)| {
                let checksum = match *checksum {
                    "same" => embedded_checksum(m, Backend::Sqlite),
                    other => other.to_owned(),
                };
                let status = RecordStatus::Applied.as_str();
                state(m, &checksum, ALGORITHM, status)
            })
            .collect()
    }

    /// A row of `migration` as the no-op check reads it.
    fn state(migration: &Migration, checksum: &str, algorithm: &str, status: &str) -> State {
        let version = migration.version() as i64;
        let checksum = StoredChecksum::from_text(checksum.as_bytes());
        let algorithm = CurrentAlgorithm::from_text(algorithm.as_bytes());
        State::new(
            version,
            checksum,
            algorithm,
            Applied::from_text(status.as_bytes()),
        )
    }

    /// The row `states[index]` of `migrations` with another algorithm or status.
    fn changed(migrations: &[Migration], index: usize, algorithm: &str, status: &str) -> State {
        let checksum = embedded_checksum(&migrations[index], Backend::Sqlite);
        state(&migrations[index], &checksum, algorithm, status)
    }

    #[test]
    fn nothing_to_do_only_when_every_migration_is_applied_unchanged() {
        let migrations = three();
        let all = states(&migrations, &["same", "same", "same"]);
        let rules = Rules::default();
        assert_eq!(quick_check(up(&migrations), &all, rules), Quick::Nothing);
        assert_eq!(quick_check(up(&migrations), &all[..2], rules), Quick::Lock);
        assert_eq!(quick_check(up(&migrations), &[], rules), Quick::Lock);
        let upper = embedded_checksum(&migrations[1], Backend::Sqlite).to_uppercase();
        for second in ["", "0000", upper.as_str()] {
            let changed = states(&migrations, &["same", second, "same"]);
            assert_eq!(
                quick_check(up(&migrations), &changed, rules),
                Quick::Lock,
                "{second:?}"
            );
        }
    }

    #[test]
    fn a_pending_background_migration_first_is_deferred_without_the_lock() {
        let backfill = "// waterline:background\npub fn up(step: &mut waterline::code::Step<'_>) -> waterline::code::Result { Ok(()) }\n";
        let migrations = set(&[
            ("001_a.sql", "SELECT 1;"),
            ("002_backfill.rs", backfill),
            ("003_c.sql", "SELECT 3;"),
        ]);
        assert!(migrations[1].is_background());
        let rules = Rules::default();
        let first = states(&migrations, &["same"]);
        let defer = Quick::Defer { from: 2 };
        assert_eq!(quick_check(up(&migrations), &first, rules), defer);
        // A pending plain migration before it must run at start-up: the lock.
        assert_eq!(quick_check(up(&migrations), &[], rules), Quick::Lock);
        // A row of the backfill (a run holds it) or after it: the run under the lock looks.
        let mut running = states(&migrations, &["same", "same"]);
        running[1] = changed(&migrations, 1, ALGORITHM, RecordStatus::Running.as_str());
        assert_eq!(quick_check(up(&migrations), &running, rules), Quick::Lock);
        let mut out_of_order = states(&migrations, &["same", "same", "same"]);
        out_of_order.remove(1);
        assert_eq!(
            quick_check(up(&migrations), &out_of_order, rules),
            Quick::Lock
        );
        // An edited applied migration before it: the lock, which refuses.
        let drifted = states(&migrations, &["0000"]);
        assert_eq!(quick_check(up(&migrations), &drifted, rules), Quick::Lock);
        // A target before it: nothing to do.
        let target = Rules {
            target: Some(1),
            ..Rules::default()
        };
        assert_eq!(quick_check(up(&migrations), &first, target), Quick::Nothing);
    }

    #[test]
    fn nothing_to_do_follows_the_target_and_ignore_missing() {
        let migrations = three();
        let two = states(&migrations, &["same", "same"]);
        let target = Rules {
            target: Some(2),
            ..Rules::default()
        };
        assert_eq!(quick_check(up(&migrations), &two, target), Quick::Nothing);
        let all = states(&migrations, &["same", "same", "same"]);
        assert_eq!(
            quick_check(up(&migrations[..2]), &two, Rules::default()),
            Quick::Nothing
        );
        assert_eq!(
            quick_check(up(&migrations[..2]), &all, Rules::default()),
            Quick::Lock
        );
        let ignore = Rules {
            ahead: Ahead::Allow,
            ..Rules::default()
        };
        assert_eq!(
            quick_check(up(&migrations[..2]), &all, ignore),
            Quick::Nothing
        );
        let mut running = all.clone();
        running[2] = changed(&migrations, 2, ALGORITHM, RecordStatus::Running.as_str());
        assert_eq!(
            quick_check(up(&migrations[..2]), &running, ignore),
            Quick::Lock
        );
        let mut other_algorithm = all.clone();
        other_algorithm[0] = changed(&migrations, 0, "sha256-v0", RecordStatus::Applied.as_str());
        let rules = Rules::default();
        assert_eq!(
            quick_check(up(&migrations), &other_algorithm, rules),
            Quick::Lock
        );
        let mut failed = all.clone();
        failed[1] = changed(&migrations, 1, ALGORITHM, RecordStatus::Failed.as_str());
        assert_eq!(quick_check(up(&migrations), &all, rules), Quick::Nothing);
        assert_eq!(quick_check(up(&migrations), &failed, rules), Quick::Lock);
        let reversed: Vec<State> = all.iter().rev().cloned().collect();
        assert_eq!(quick_check(up(&migrations), &reversed, rules), Quick::Lock);
    }
}
