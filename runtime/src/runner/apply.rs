//! Applying and reverting one migration. In a transaction (PostgreSQL and SQLite, unless the
//! script says `no-transaction`), the SQL and the tracking row commit together. Otherwise
//! (MySQL, whose DDL commits implicitly, and `no-transaction` scripts) the row is written
//! `running` first and `applied` after, so a crash or failure leaves a row that the next run
//! refuses to pass: nothing half-applied is ever reported as applied.

use std::time::{Instant, SystemTime};

use diesel::result::QueryResult;
use waterline_core::{Backend, Migration, Script};

use super::assess::{embedded_checksum, migration_ref};
use super::dialect::Dialect;
use super::driver::Driver;
use super::fault::{pause, Point};
use super::lock::database;
use super::message;
use super::record::{NewRecord, Record, RecordStatus};
use super::report::Ran;
use crate::error::Error;

/// What every write needs: the SQL dialect and who is migrating.
pub struct Context<'a> {
    pub dialect: &'a Dialect,
    pub applied_by: &'a str,
}

impl Context<'_> {
    fn backend(&self) -> Backend {
        self.dialect.backend()
    }

    fn table(&self) -> String {
        self.dialect.table().to_owned()
    }

    /// A row for `migration` with the embedded checksum.
    fn record<'m>(
        &self,
        migration: &'m Migration,
        status: RecordStatus,
        started_at: &str,
    ) -> NewRecord<'m> {
        NewRecord {
            version: migration.version() as i64,
            name: migration.name(),
            checksum: embedded_checksum(migration, self.backend()),
            status,
            started_at: self.dialect.timestamp_value(started_at),
            finished_at: None,
            execution_ms: None,
            error: None,
            applied_by: "",
            transactional: false,
        }
    }
}

/// The current time as RFC 3339 UTC with microseconds.
pub fn now() -> String {
    humantime::format_rfc3339_micros(SystemTime::now()).to_string()
}

/// Whether `script` runs in a transaction with its tracking row on `backend`.
pub fn is_transactional(script: &Script, backend: Backend) -> bool {
    backend != Backend::Mysql && !script.directives().no_transaction()
}

/// The SQL of `script` in the order it is sent: statement by statement for a PostgreSQL
/// `no-transaction` script, else as one batch.
pub fn batches(script: &Script, backend: Backend) -> Vec<&str> {
    let split: Vec<&str> = script.statements().collect();
    match backend == Backend::Postgres && !split.is_empty() {
        true => split,
        false => vec![script.sql()],
    }
}

/// Writes the row of `record.version`. With `existing`, a row for that version may be there:
/// it is updated (every column), or inserted if there was none; else it is inserted. Either
/// way it is one statement.
pub fn write_record(
    driver: &mut dyn Driver,
    ctx: &Context<'_>,
    record: &NewRecord<'_>,
    existing: bool,
) -> QueryResult<()> {
    let applied_by = if record.applied_by.is_empty() {
        ctx.applied_by
    } else {
        record.applied_by
    };
    let record = NewRecord {
        applied_by,
        ..record.clone()
    };
    // The count is of rows matched, also on MySQL (diesel connects with CLIENT_FOUND_ROWS).
    if existing && driver.write_row(ctx.dialect.update_record(), &record)? > 0 {
        return Ok(());
    }
    driver
        .write_row(ctx.dialect.insert_record(), &record)
        .map(drop)
}

/// One attempt to apply a migration: what runs, and when it started.
struct Attempt<'a> {
    migration: &'a Migration,
    script: &'a Script,
    /// Whether the migration has a row already (a failure being retried, a forced re-run).
    existing: bool,
    started_at: String,
    clock: Instant,
}

impl<'a> Attempt<'a> {
    /// A row for this attempt, `finished` now unless `status` is running.
    fn record(
        &self,
        ctx: &Context<'_>,
        status: RecordStatus,
        transactional: bool,
    ) -> NewRecord<'a> {
        let mut record = ctx.record(self.migration, status, &self.started_at);
        if status != RecordStatus::Running {
            record.finished_at = Some(ctx.dialect.timestamp_value(&now()));
            record.execution_ms = Some(self.clock.elapsed().as_millis() as i64);
        }
        record.transactional = transactional;
        record
    }
}

/// Applies `migration`. With `rerun`, it is already applied and runs again: a failure rolled
/// back in a transaction then leaves its row as it was, recorded as applied.
pub fn apply(
    driver: &mut dyn Driver,
    ctx: &Context<'_>,
    migration: &Migration,
    rerun: bool,
    existing: bool,
) -> Result<Ran, Error> {
    let script = migration
        .up()
        .for_backend(ctx.backend())
        .expect("every migration has an up script");
    pause(Point::Before, migration.version());
    let attempt = Attempt {
        migration,
        script,
        existing: existing || rerun,
        started_at: now(),
        clock: Instant::now(),
    };
    let ran = match is_transactional(script, ctx.backend()) {
        true => apply_in_transaction(driver, ctx, &attempt, rerun),
        false => apply_outside_transaction(driver, ctx, &attempt),
    }?;
    tracing::info!(
        version = migration.version(),
        name = migration.name(),
        duration_ms = ran.duration.as_millis() as u64,
        "applied migration"
    );
    Ok(ran)
}

fn apply_in_transaction(
    driver: &mut dyn Driver,
    ctx: &Context<'_>,
    attempt: &Attempt<'_>,
    rerun: bool,
) -> Result<Ran, Error> {
    let version = attempt.migration.version();
    let result = match ctx.backend() {
        // One message is one implicit transaction: no BEGIN and COMMIT round trips.
        Backend::Postgres => script_and_row(driver, ctx, attempt),
        Backend::Mysql | Backend::Sqlite => {
            driver.transaction(&mut |tx| script_and_row(tx, ctx, attempt))
        }
    };
    if result.is_ok() {
        pause(Point::Committed, version);
    }
    match result {
        Ok(()) => Ok(ran(attempt.migration, attempt.clock)),
        Err(cause) if rerun => Err(failed(ctx, attempt.migration, true, cause)),
        Err(cause) => Err(record_failure(driver, ctx, attempt, true, cause)),
    }
}

/// Runs the script of `attempt` and writes its `applied` row, in the transaction the caller
/// provides. On PostgreSQL both go in one message ([`message`](super::message)).
fn script_and_row(
    driver: &mut dyn Driver,
    ctx: &Context<'_>,
    attempt: &Attempt<'_>,
) -> QueryResult<()> {
    let record = attempt.record(ctx, RecordStatus::Applied, true);
    if ctx.backend() == Backend::Postgres {
        let record = NewRecord {
            applied_by: ctx.applied_by,
            ..record
        };
        let table = ctx.dialect.quoted();
        let sql = attempt.script.sql();
        return driver.batch(&message::apply_in_one_message(table, sql, &record));
    }
    let version = attempt.migration.version();
    driver.batch(attempt.script.sql())?;
    pause(Point::ScriptDone, version);
    write_record(driver, ctx, &record, attempt.existing)?;
    pause(Point::Recorded, version);
    Ok(())
}

fn apply_outside_transaction(
    driver: &mut dyn Driver,
    ctx: &Context<'_>,
    attempt: &Attempt<'_>,
) -> Result<Ran, Error> {
    let version = attempt.migration.version();
    let running = attempt.record(ctx, RecordStatus::Running, false);
    write_record(driver, ctx, &running, attempt.existing)
        .map_err(|cause| database("record the start of a migration", ctx.dialect, cause))?;
    pause(Point::RunningRecorded, version);
    if let Err(cause) = run_outside_transaction(driver, attempt.script, ctx.backend(), version) {
        return Err(record_failure(driver, ctx, attempt, false, cause));
    }
    pause(Point::ScriptDone, version);
    // Should this fail, the row stays `running` and the next run refuses with instructions.
    let applied = attempt.record(ctx, RecordStatus::Applied, false);
    write_record(driver, ctx, &applied, true)
        .map_err(|cause| database("record a migration as applied", ctx.dialect, cause))?;
    pause(Point::Committed, version);
    Ok(ran(attempt.migration, attempt.clock))
}

/// Applies `migrations` (each with whether it has a row already) and their rows in one
/// transaction: all of them, or none.
pub fn apply_together(
    driver: &mut dyn Driver,
    ctx: &Context<'_>,
    migrations: &[(&Migration, bool)],
) -> Result<Vec<Ran>, Error> {
    let backend = ctx.backend();
    if backend == Backend::Mysql {
        let reason =
            "MySQL and MariaDB commit DDL implicitly, so there is no such transaction".to_owned();
        return Err(Error::NotTogether {
            migration: None,
            reason,
        });
    }
    let scripts: Vec<&Script> = migrations
        .iter()
        .map(|(m, _)| {
            m.up()
                .for_backend(backend)
                .expect("every migration has an up script")
        })
        .collect();
    if let Some(index) = scripts
        .iter()
        .position(|script| !is_transactional(script, backend))
    {
        let reason = "it runs outside a transaction (`-- waterline:no-transaction`)".to_owned();
        return Err(Error::NotTogether {
            migration: Some(Box::new(migration_ref(migrations[index].0))),
            reason,
        });
    }
    let mut done = Vec::with_capacity(migrations.len());
    let mut failing = 0;
    let result = driver.transaction(&mut |tx| {
        done.clear();
        for (index, ((migration, existing), script)) in migrations.iter().zip(&scripts).enumerate()
        {
            failing = index;
            let attempt = Attempt {
                migration,
                script,
                existing: *existing,
                started_at: now(),
                clock: Instant::now(),
            };
            script_and_row(tx, ctx, &attempt)?;
            done.push(ran(migration, attempt.clock));
        }
        Ok(())
    });
    match result {
        Ok(()) => Ok(done),
        Err(cause) => {
            let (migration, existing) = migrations[failing];
            let script = scripts[failing];
            let attempt = Attempt {
                migration,
                script,
                existing,
                started_at: now(),
                clock: Instant::now(),
            };
            Err(record_failure(driver, ctx, &attempt, true, cause))
        }
    }
}

/// Runs a script with no transaction of its own around its tracking row. On MySQL a script
/// without `no-transaction` still runs in a transaction, which undoes its data changes on
/// failure (its DDL has committed anyway).
fn run_outside_transaction(
    driver: &mut dyn Driver,
    script: &Script,
    backend: Backend,
    version: u64,
) -> QueryResult<()> {
    if backend == Backend::Mysql && !script.directives().no_transaction() {
        return driver.transaction(&mut |tx| tx.batch(script.sql()));
    }
    for (index, sql) in batches(script, backend).into_iter().enumerate() {
        if index > 0 {
            pause(Point::BetweenStatements, version);
        }
        driver.batch(sql)?;
    }
    Ok(())
}

/// Records the failure of `attempt` in the tracking table and returns its error.
fn record_failure(
    driver: &mut dyn Driver,
    ctx: &Context<'_>,
    attempt: &Attempt<'_>,
    rolled_back: bool,
    cause: diesel::result::Error,
) -> Error {
    let migration = attempt.migration;
    let mut record = attempt.record(ctx, RecordStatus::Failed, rolled_back);
    record.error = Some(cause.to_string());
    if let Err(error) = write_record(driver, ctx, &record, true) {
        tracing::error!(version = migration.version(), %error, "could not record the failure of a migration");
    }
    tracing::error!(version = migration.version(), name = migration.name(), error = %cause, "migration failed");
    failed(ctx, migration, rolled_back, cause)
}

fn failed(
    ctx: &Context<'_>,
    migration: &Migration,
    rolled_back: bool,
    cause: diesel::result::Error,
) -> Error {
    Error::MigrationFailed {
        migration: Box::new(migration_ref(migration)),
        table: ctx.table(),
        message: cause.to_string(),
        rolled_back,
        cause: Box::new(cause),
    }
}

/// Reverts the applied `migration` (recorded as `record`) with its down script.
pub fn revert(
    driver: &mut dyn Driver,
    ctx: &Context<'_>,
    migration: &Migration,
    record: &Record,
) -> Result<Ran, Error> {
    let Some(script) = migration.down().for_backend(ctx.backend()) else {
        return Err(Error::Irreversible {
            migration: Box::new(migration_ref(migration)),
        });
    };
    let clock = Instant::now();
    let delete = ctx.dialect.delete_record(record.version);
    let failed = |cause: diesel::result::Error, rolled_back| Error::RevertFailed {
        migration: Box::new(migration_ref(migration)),
        table: ctx.table(),
        message: cause.to_string(),
        rolled_back,
        cause: Box::new(cause),
    };
    if is_transactional(script, ctx.backend()) {
        let sql = script.sql();
        driver
            .transaction(&mut |tx| {
                tx.batch(sql)?;
                tx.batch(&delete)
            })
            .map_err(|cause| failed(cause, true))?;
    } else {
        let mut running = ctx.record(migration, RecordStatus::Running, &now());
        running.checksum = record.checksum.clone();
        running.error = Some(super::assess::REVERTING.to_owned());
        write_record(driver, ctx, &running, true)
            .map_err(|cause| database("record the start of a revert", ctx.dialect, cause))?;
        if let Err(cause) =
            run_outside_transaction(driver, script, ctx.backend(), migration.version())
        {
            let mut marked = running.clone();
            marked.status = RecordStatus::Failed;
            marked.error = Some(format!("{}{cause}", super::assess::REVERT_FAILED));
            let _ = write_record(driver, ctx, &marked, true);
            return Err(failed(cause, false));
        }
        driver.batch(&delete).map_err(|cause| {
            database("delete the row of a reverted migration", ctx.dialect, cause)
        })?;
    }
    let ran = ran(migration, clock);
    tracing::info!(
        version = ran.version,
        name = ran.name,
        duration_ms = ran.duration.as_millis() as u64,
        "reverted migration"
    );
    Ok(ran)
}

fn ran(migration: &Migration, clock: Instant) -> Ran {
    Ran {
        version: migration.version(),
        version_text: migration.version_text().to_owned(),
        name: migration.name().to_owned(),
        duration: clock.elapsed(),
    }
}
