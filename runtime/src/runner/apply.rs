//! Applying and reverting one migration. In a transaction (PostgreSQL and SQLite, unless the
//! script says `no-transaction`), the SQL and the tracking row commit together. Otherwise
//! (MySQL, whose DDL commits implicitly, and `no-transaction` scripts) the row is written
//! `running` first and `applied` after, so a crash or failure leaves a row that the next run
//! refuses to pass: nothing half-applied is ever reported as applied.

use std::time::{Instant, SystemTime};

use diesel::result::QueryResult;
use tidemark_core::{Backend, Migration, Script};

use super::assess::{embedded_checksum, migration_ref};
use super::dialect::Dialect;
use super::driver::Driver;
use super::lock::database;
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
    ) -> NewRecord<'m>
    where
        Self: 'm,
    {
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

/// Replaces the row of `record.version` with `record`, in one transaction.
pub fn write_record(
    driver: &mut dyn Driver,
    ctx: &Context<'_>,
    record: &NewRecord<'_>,
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
    let (delete, insert) = (
        ctx.dialect.delete_record(record.version),
        ctx.dialect.insert_record(),
    );
    driver.transaction(&mut |tx| {
        tx.batch(&delete)?;
        tx.insert_record(&insert, &record)
    })
}

/// Applies `migration`.
pub fn apply(
    driver: &mut dyn Driver,
    ctx: &Context<'_>,
    migration: &Migration,
) -> Result<Ran, Error> {
    let script = migration
        .up()
        .for_backend(ctx.backend())
        .expect("every migration has an up script");
    let started_at = now();
    let clock = Instant::now();
    let outcome = match is_transactional(script, ctx.backend()) {
        true => apply_in_transaction(driver, ctx, migration, script, &started_at, clock),
        false => apply_outside_transaction(driver, ctx, migration, script, &started_at, clock),
    };
    let ran = outcome?;
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
    migration: &Migration,
    script: &Script,
    started_at: &str,
    clock: Instant,
) -> Result<Ran, Error> {
    let result = driver.transaction(&mut |tx| {
        tx.batch(script.sql())?;
        let mut record = ctx.record(migration, RecordStatus::Applied, started_at);
        record.finished_at = Some(ctx.dialect.timestamp_value(&now()));
        record.execution_ms = Some(clock.elapsed().as_millis() as i64);
        record.transactional = true;
        write_record(tx, ctx, &record)
    });
    match result {
        Ok(()) => Ok(ran(migration, clock)),
        Err(cause) => Err(record_failure(
            driver, ctx, migration, started_at, clock, true, cause,
        )),
    }
}

fn apply_outside_transaction(
    driver: &mut dyn Driver,
    ctx: &Context<'_>,
    migration: &Migration,
    script: &Script,
    started_at: &str,
    clock: Instant,
) -> Result<Ran, Error> {
    let running = ctx.record(migration, RecordStatus::Running, started_at);
    write_record(driver, ctx, &running)
        .map_err(|cause| database("record the start of a migration", ctx.dialect, cause))?;
    let result = run_outside_transaction(driver, script, ctx.backend());
    if let Err(cause) = result {
        return Err(record_failure(
            driver, ctx, migration, started_at, clock, false, cause,
        ));
    }
    let mut applied = ctx.record(migration, RecordStatus::Applied, started_at);
    applied.finished_at = Some(ctx.dialect.timestamp_value(&now()));
    applied.execution_ms = Some(clock.elapsed().as_millis() as i64);
    // Should this fail, the row stays `running` and the next run refuses with instructions.
    write_record(driver, ctx, &applied)
        .map_err(|cause| database("record a migration as applied", ctx.dialect, cause))?;
    Ok(ran(migration, clock))
}

/// Runs a script with no transaction of its own around its tracking row. On MySQL a script
/// without `no-transaction` still runs in a transaction, which undoes its data changes on
/// failure (its DDL has committed anyway).
fn run_outside_transaction(
    driver: &mut dyn Driver,
    script: &Script,
    backend: Backend,
) -> QueryResult<()> {
    if backend == Backend::Mysql && !script.directives().no_transaction() {
        return driver.transaction(&mut |tx| tx.batch(script.sql()));
    }
    batches(script, backend)
        .into_iter()
        .try_for_each(|sql| driver.batch(sql))
}

fn record_failure(
    driver: &mut dyn Driver,
    ctx: &Context<'_>,
    migration: &Migration,
    started_at: &str,
    clock: Instant,
    rolled_back: bool,
    cause: diesel::result::Error,
) -> Error {
    let message = cause.to_string();
    let mut failed = ctx.record(migration, RecordStatus::Failed, started_at);
    failed.finished_at = Some(ctx.dialect.timestamp_value(&now()));
    failed.execution_ms = Some(clock.elapsed().as_millis() as i64);
    failed.error = Some(message.clone());
    failed.transactional = rolled_back;
    if let Err(error) = write_record(driver, ctx, &failed) {
        tracing::error!(version = migration.version(), %error, "could not record the failure of a migration");
    }
    tracing::error!(version = migration.version(), name = migration.name(), error = %message, "migration failed");
    Error::MigrationFailed {
        migration: Box::new(migration_ref(migration)),
        table: ctx.table(),
        message,
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
        running.error = Some("reverting".to_owned());
        write_record(driver, ctx, &running)
            .map_err(|cause| database("record the start of a revert", ctx.dialect, cause))?;
        if let Err(cause) = run_outside_transaction(driver, script, ctx.backend()) {
            let mut marked = running.clone();
            marked.status = RecordStatus::Failed;
            marked.error = Some(format!("revert failed: {cause}"));
            let _ = write_record(driver, ctx, &marked);
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
