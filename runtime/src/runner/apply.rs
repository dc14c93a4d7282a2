//! Applying and reverting one migration. In a transaction (PostgreSQL and SQLite, unless the
//! script says `no-transaction`), the SQL and the tracking row commit together. Otherwise
//! (MySQL, whose DDL commits implicitly, and `no-transaction` scripts) the row is written
//! `running` first and `applied` after, so a crash or failure leaves a row that the next run
//! refuses to pass: nothing half-applied is ever reported as applied.
//!
//! A migration's row is also its claim: it is written with a plain INSERT before any of the
//! script runs (after deleting the row this process read, for a retry), so a process that
//! finds a row written by another since it read the table stops with
//! [`Error::Claimed`] and runs nothing. The lock keeps replicas from meeting there; the claim
//! keeps a migration from running twice when they do (locking off, a lock lost).

use std::time::{Instant, SystemTime};

use diesel::result::QueryResult;
use waterline_core::{Backend, Migration, Script};

use super::assess::{embedded_checksum, migration_ref};
use super::cause::Transient;
use super::dialect::Dialect;
use super::driver::Driver;
use super::fault::{pause, Point};
use super::lock::database;
use super::lock_wait::{self, LockRetry, Tries};
use super::message;
use super::record::{NewRecord, Record, RecordStatus};
use super::report::Ran;
use super::tables;
use super::{Progress, Stop};
use crate::code::Code;
use crate::error::Error;

/// What every write needs: the SQL dialect and who is migrating; and how long a migration
/// waits for its table locks, with whom to tell of each wait.
pub struct Context<'a> {
    pub dialect: &'a Dialect,
    pub applied_by: &'a str,
    pub retry: LockRetry,
    pub observer: Option<&'a (dyn Fn(Progress<'_>) + Send + Sync + 'a)>,
    pub stop: Option<&'a Stop>,
    /// The code of the migrations written in Rust.
    pub code: &'a [Code],
    /// How long a resumable migration is held without a heartbeat.
    pub heartbeat_lease: std::time::Duration,
}

impl<'a> Context<'a> {
    pub(super) fn backend(&self) -> Backend {
        self.dialect.backend()
    }

    pub(super) fn table(&self) -> String {
        self.dialect.table().to_owned()
    }

    /// The code of `migration`, written in Rust: [`Error::CodeNotEmbedded`] for a set read
    /// at run time, which has its source but not its compiled code.
    fn code_of(&self, migration: &Migration) -> Result<&'a Code, Error> {
        self.code
            .iter()
            .find(|code| code.version() == migration.version())
            .ok_or_else(|| Error::CodeNotEmbedded {
                migration: Box::new(migration_ref(migration)),
            })
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
            class: migration.class(),
        }
    }
}

/// The current time as RFC 3339 UTC with microseconds. A clock set before 1970 (or after
/// 9999) records the nearest time it can write, and says so, rather than stop a migration.
pub fn now() -> String {
    let time = SystemTime::now();
    rfc3339_micros(time).unwrap_or_else(|| {
        tracing::warn!(clock = ?time, "the system clock is outside 1970 to 9999; recording the nearest time instead");
        let nearest = match time < SystemTime::UNIX_EPOCH {
            true => SystemTime::UNIX_EPOCH,
            false => SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(253_402_300_799),
        };
        rfc3339_micros(nearest).expect("1970 and 9999 can be written")
    })
}

/// `time` as RFC 3339 UTC with microseconds, if it falls within 1970 to 9999.
pub fn rfc3339_micros(time: SystemTime) -> Option<String> {
    use std::fmt::Write;
    let mut text = String::new();
    time.duration_since(SystemTime::UNIX_EPOCH).ok()?;
    write!(text, "{}", humantime::format_rfc3339_micros(time)).ok()?;
    Some(text)
}

/// Whether `script` runs in a transaction with its tracking row on `backend`: not on MySQL,
/// whose DDL commits implicitly, not with `no-transaction`, and not when the script commits
/// or rolls back inside itself (an allowed `transaction-control`), which would end that
/// transaction part-way.
pub fn is_transactional(script: &Script, backend: Backend) -> bool {
    backend != Backend::Mysql
        && !script.directives().no_transaction()
        && !script.ends_transactions()
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
pub(super) struct Attempt<'a> {
    pub(super) migration: &'a Migration,
    pub(super) script: &'a Script,
    /// The status of the migration's row when this process read it, if it had one: a failure
    /// being retried, or an applied migration run again.
    pub(super) replacing: Option<RecordStatus>,
    started_at: String,
    pub(super) clock: Instant,
}

impl<'a> Attempt<'a> {
    pub(super) fn new(
        migration: &'a Migration,
        script: &'a Script,
        replacing: Option<RecordStatus>,
    ) -> Self {
        Attempt {
            migration,
            script,
            replacing,
            started_at: now(),
            clock: Instant::now(),
        }
    }

    /// A row for this attempt, `finished` now unless `status` is running.
    pub(super) fn record<'r>(
        &self,
        ctx: &Context<'r>,
        status: RecordStatus,
        transactional: bool,
    ) -> NewRecord<'r>
    where
        'a: 'r,
    {
        let mut record = ctx.record(self.migration, status, &self.started_at);
        record.applied_by = ctx.applied_by;
        if status != RecordStatus::Running {
            record.finished_at = Some(ctx.dialect.timestamp_value(&now()));
            record.execution_ms = Some(self.clock.elapsed().as_millis() as i64);
        }
        record.transactional = transactional;
        record
    }

    /// The SQL that deletes the row this process read, before its claim is inserted.
    fn replacing_sql(&self, ctx: &Context<'_>) -> Option<String> {
        let version = self.migration.version() as i64;
        self.replacing
            .map(|status| ctx.dialect.delete_record_if(version, status))
    }
}

/// Claims `attempt`'s migration by writing `record` (its `running` row): deletes the row this
/// process read, if any, then inserts. The INSERT fails on a row another process wrote since.
pub(super) fn claim(
    driver: &mut dyn Driver,
    ctx: &Context<'_>,
    attempt: &Attempt<'_>,
    record: &NewRecord<'_>,
) -> QueryResult<()> {
    if let Some(delete) = attempt.replacing_sql(ctx) {
        driver.batch(&delete)?;
    }
    driver
        .write_row(ctx.dialect.insert_record(), record)
        .map(drop)
}

/// Sets this process's `running` row to `record`; false if the row is no longer `running`.
pub(super) fn settle(
    driver: &mut dyn Driver,
    ctx: &Context<'_>,
    record: &NewRecord<'_>,
) -> QueryResult<bool> {
    // The count is of rows matched, also on MySQL (diesel connects with CLIENT_FOUND_ROWS).
    let sql = ctx.dialect.update_running_record();
    driver.write_row(sql, record).map(|matched| matched > 0)
}

/// After `cause` stopped an attempt before its claim held: [`Error::Claimed`] if another
/// process wrote the migration's row since this one read the table.
pub(super) fn claimed_by_another(
    driver: &mut dyn Driver,
    ctx: &Context<'_>,
    attempt: &Attempt<'_>,
    cause: &diesel::result::Error,
) -> Option<Error> {
    use diesel::result::{DatabaseErrorKind, Error as DieselError};
    if !matches!(
        cause,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
    ) {
        return None;
    }
    let records = tables::read(driver, ctx.dialect).ok()?;
    let version = attempt.migration.version();
    let row = records.iter().find(|r| r.version() == version)?;
    (Some(row.status()) != attempt.replacing).then(|| Error::Claimed {
        migration: Box::new(migration_ref(attempt.migration)),
        table: ctx.table(),
        holder: row.applied_by.clone(),
        status: row.status().as_str().to_owned(),
    })
}

/// Applies `migration`. `replacing` is the status of its row when this process read the
/// table, if it had one: `failed` for a retry, `applied` to run it again (a failure rolled
/// back in a transaction then leaves the row as it was, recorded as applied).
pub fn apply(
    driver: &mut dyn Driver,
    ctx: &Context<'_>,
    migration: &Migration,
    replacing: Option<RecordStatus>,
) -> Result<Ran, Error> {
    let script = migration
        .up()
        .for_backend(ctx.backend())
        .expect("every migration has an up script");
    pause(Point::Before, migration.version());
    let attempt = Attempt::new(migration, script, replacing);
    if migration.is_resumable() {
        return super::resume::apply_resumable(driver, ctx, &attempt, ctx.code_of(migration)?);
    }
    if migration.is_rust() {
        ctx.code_of(migration)?;
    }
    let ran = match is_transactional(script, ctx.backend()) {
        true => apply_in_transaction(driver, ctx, &attempt),
        false => apply_outside_transaction(driver, ctx, &attempt),
    }?;
    Ok(ran)
}

fn apply_in_transaction(
    driver: &mut dyn Driver,
    ctx: &Context<'_>,
    attempt: &Attempt<'_>,
) -> Result<Ran, Error> {
    let version = attempt.migration.version();
    let mut tries = Tries::new(ctx.retry);
    loop {
        let result = try_in_transaction(driver, ctx, attempt);
        match result {
            // Rolled back, row and all: nothing of it is in the database. Wait, and try again.
            Err(cause) if ctx.retry.is_on(ctx.backend()) && lock_wait::timed_out(&cause) => {
                give_way(driver, ctx, attempt.migration, &mut tries, true)?;
            }
            result => return settle_try(driver, ctx, attempt, version, result),
        }
    }
}

/// One try of a migration in a transaction with its row.
fn try_in_transaction(
    driver: &mut dyn Driver,
    ctx: &Context<'_>,
    attempt: &Attempt<'_>,
) -> QueryResult<()> {
    // PostgreSQL sends its lock timeout with the migration, in one message.
    if let Some(set) = ctx
        .retry
        .set_timeout(ctx.backend())
        .filter(|_| ctx.backend() != Backend::Postgres)
    {
        driver.batch(&set)?;
    }
    set_statement_timeout(driver, ctx.backend(), attempt.script)?;
    match ctx.backend() {
        // Code runs in a transaction of diesel's, its lock timeout set first.
        Backend::Postgres if attempt.script.is_rust() => driver.transaction(&mut |tx| {
            if let Some(set) = ctx.retry.set_timeout(Backend::Postgres) {
                tx.batch(&set)?;
            }
            script_and_row(tx, ctx, attempt)
        }),
        // One message is one implicit transaction: no BEGIN and COMMIT round trips.
        Backend::Postgres => script_and_row(driver, ctx, attempt),
        Backend::Sqlite if turns_foreign_keys_off(attempt.script) => {
            // SQLite ignores `PRAGMA foreign_keys` inside a transaction, so its table-rebuild
            // recipe would cascade its DROP TABLE to every child row. Off before the
            // transaction, checked before the commit, as SQLite documents; the session's
            // setting is put back after the migration.
            driver.batch("PRAGMA foreign_keys = OFF").and_then(|()| {
                driver.transaction(&mut |tx| {
                    script_and_row(tx, ctx, attempt)?;
                    check_foreign_keys(tx)
                })
            })
        }
        Backend::Mysql | Backend::Sqlite => {
            driver.transaction(&mut |tx| script_and_row(tx, ctx, attempt))
        }
    }
}

/// After a try that timed out waiting for a lock: says who holds it, and pauses before the
/// next try; [`Error::LockRetriesExhausted`] when the budget is spent. When nothing of the
/// migration has run (`nothing_ran`), a requested stop ends the wait with [`Error::Stopped`].
fn give_way(
    driver: &mut dyn Driver,
    ctx: &Context<'_>,
    migration: &Migration,
    tries: &mut Tries,
    nothing_ran: bool,
) -> Result<(), Error> {
    if nothing_ran && ctx.stop.is_some_and(Stop::is_requested) {
        return Err(Error::Stopped {
            applied: Vec::new(),
            pending: Vec::new(),
        });
    }
    let blockers = lock_wait::blockers(driver, ctx.backend(), ctx.retry.timeout);
    let Some(pause) = tries.next_pause() else {
        return Err(Error::LockRetriesExhausted {
            migration: Box::new(migration_ref(migration)),
            tries: tries.count(),
            waited: tries.elapsed(),
            timeout: ctx.retry.timeout,
            blockers,
        });
    };
    tracing::warn!(
        version = migration.version(),
        name = migration.name(),
        tries = tries.count() - 1,
        blockers = %blockers.join("; "),
        "a migration gave way: it waited {} ms for a table lock, and tries again in {} ms",
        ctx.retry.timeout.as_millis(),
        pause.as_millis()
    );
    if let Some(observer) = ctx.observer {
        observer(Progress::GaveWay {
            migration,
            tries: tries.count() - 1,
            waited: tries.elapsed(),
            timeout: ctx.retry.timeout,
            blockers: &blockers,
        });
    }
    std::thread::sleep(pause);
    Ok(())
}

/// What the last try of a migration in a transaction comes to.
fn settle_try(
    driver: &mut dyn Driver,
    ctx: &Context<'_>,
    attempt: &Attempt<'_>,
    version: u64,
    result: QueryResult<()>,
) -> Result<Ran, Error> {
    match result {
        Ok(()) => {
            pause(Point::Committed, version);
            Ok(ran(attempt.migration, attempt.clock))
        }
        // The tracking row, not the script, was refused: a privilege is missing.
        Err(cause) if refused_on_tracking_table(ctx, &cause) => {
            Err(database("record a migration", ctx.dialect, cause))
        }
        Err(cause) => match claimed_by_another(driver, ctx, attempt, &cause) {
            Some(claimed) => Err(claimed),
            None => Err(record_failure(driver, ctx, attempt, true, cause)),
        },
    }
}

/// Whether `cause` is the database refusing this role a write to the tracking table.
fn refused_on_tracking_table(ctx: &Context<'_>, cause: &diesel::result::Error) -> bool {
    let table = ctx.table();
    let bare = table.rsplit('.').next().unwrap_or(&table);
    super::lock::is_permission_denied(cause) && cause.to_string().contains(bare)
}

/// Whether a SQLite script turns foreign keys off (`PRAGMA foreign_keys = OFF`, `0`, `false`
/// or `no`), as SQLite's recipe for changing a table does.
fn turns_foreign_keys_off(script: &Script) -> bool {
    if !script.sql().to_ascii_lowercase().contains("foreign_keys") {
        return false;
    }
    let words: Vec<_> = waterline_core::sql_text::words(script.sql()).collect();
    words.windows(3).any(|w| {
        w[0] == "PRAGMA"
            && w[1] == "FOREIGN_KEYS"
            && matches!(w[2].as_ref(), "OFF" | "0" | "FALSE" | "NO")
    })
}

/// SQLite: fails, so the transaction rolls back, when a row breaks a foreign key.
fn check_foreign_keys(driver: &mut dyn Driver) -> QueryResult<()> {
    let broken = driver.texts(
        "SELECT \"table\" || ' row ' || coalesce(rowid, '?') || ' refers to a missing row of ' || \
         parent AS value FROM pragma_foreign_key_check",
    )?;
    let broken: Vec<String> = broken.into_iter().flatten().collect();
    if broken.is_empty() {
        return Ok(());
    }
    let message = format!(
        "the foreign key check after the script failed: {}{}",
        broken
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join(", "),
        match broken.len() {
            0..=5 => String::new(),
            more => format!(" and {} more", more - 5),
        }
    );
    Err(diesel::result::Error::DatabaseError(
        diesel::result::DatabaseErrorKind::ForeignKeyViolation,
        Box::new(message),
    ))
}

/// Claims the migration of `attempt`, runs its script and sets its row `applied`, in the
/// transaction the caller provides. On PostgreSQL all three go in one message
/// ([`message`](super::message)).
fn script_and_row(
    driver: &mut dyn Driver,
    ctx: &Context<'_>,
    attempt: &Attempt<'_>,
) -> QueryResult<()> {
    let version = attempt.migration.version();
    if ctx.backend() == Backend::Postgres && !attempt.script.is_rust() {
        let record = attempt.record(ctx, RecordStatus::Running, true);
        let table = ctx.dialect.quoted();
        let sql = attempt.script.sql();
        let replacing = attempt.replacing_sql(ctx);
        let message = message::apply_in_one_message(table, sql, &record, replacing.as_deref());
        // The lock timeout rides in the same message: no round trip of its own. A `SET` in
        // it is undone with it should the try be rolled back.
        return match ctx.retry.set_timeout(Backend::Postgres) {
            Some(set) => driver.batch(&format!("{set};\n{message}")),
            None => driver.batch(&message),
        };
    }
    claim(
        driver,
        ctx,
        attempt,
        &attempt.record(ctx, RecordStatus::Running, true),
    )?;
    match attempt.script.is_rust() {
        true => run_code(driver, ctx, attempt.migration)?,
        false => driver.batch(attempt.script.sql())?,
    }
    pause(Point::ScriptDone, version);
    settle(
        driver,
        ctx,
        &attempt.record(ctx, RecordStatus::Applied, true),
    )?;
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
    if let Err(cause) = claim(driver, ctx, attempt, &running) {
        return Err(claimed_by_another(driver, ctx, attempt, &cause)
            .unwrap_or_else(|| database("record the start of a migration", ctx.dialect, cause)));
    }
    pause(Point::RunningRecorded, version);
    if let Err(outside) = run_outside_transaction(driver, ctx, attempt.migration, attempt.script) {
        return Err(match outside {
            // Nothing of it ran: its claim goes, and the next run tries again.
            Outside::GaveUp {
                error, first: true, ..
            } => {
                let delete = ctx
                    .dialect
                    .delete_record_if(version as i64, RecordStatus::Running);
                if let Err(cause) = driver.batch(&delete) {
                    tracing::error!(version, %cause, "could not remove the claim of a migration that gave way");
                }
                *error
            }
            outside => record_failure(driver, ctx, attempt, false, outside.into_cause()),
        });
    }
    pause(Point::ScriptDone, version);
    // Should this fail, the row stays `running` and the next run refuses with instructions.
    let applied = attempt.record(ctx, RecordStatus::Applied, false);
    match settle(driver, ctx, &applied) {
        Ok(true) => {}
        Ok(false) => {
            return Err(Error::Database {
                operation: "record a migration as applied",
                table: ctx.table(),
                message: format!(
                    "the row of version {version} is no longer the `running` row this process \
                     wrote; something else changed it while the migration ran"
                ),
                cause: Box::new(diesel::result::Error::NotFound),
            })
        }
        Err(cause) => {
            return Err(database(
                "record a migration as applied",
                ctx.dialect,
                cause,
            ));
        }
    }
    pause(Point::Committed, version);
    Ok(ran(attempt.migration, attempt.clock))
}

/// Applies `migrations` (each with the status of its row, if it has one) and their rows in
/// one transaction: all of them, or none.
pub fn apply_together(
    driver: &mut dyn Driver,
    ctx: &Context<'_>,
    migrations: &[(&Migration, Option<RecordStatus>)],
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
        let reason = "it runs outside a transaction (`-- waterline:no-transaction`, or a \
                      `COMMIT` of its own)"
            .to_owned();
        return Err(Error::NotTogether {
            migration: Some(Box::new(migration_ref(migrations[index].0))),
            reason,
        });
    }
    let mut done = Vec::with_capacity(migrations.len());
    let mut failing = 0;
    // As for one migration: SQLite's table-rebuild recipe needs foreign keys off before the
    // transaction, and checked before its commit.
    let keys_off = backend == Backend::Sqlite && scripts.iter().any(|s| turns_foreign_keys_off(s));
    let keys_off_first = match keys_off {
        true => driver.batch("PRAGMA foreign_keys = OFF"),
        false => Ok(()),
    };
    let result = keys_off_first.and_then(|()| {
        driver.transaction(&mut |tx| {
            done.clear();
            for (index, ((migration, replacing), script)) in
                migrations.iter().zip(&scripts).enumerate()
            {
                failing = index;
                let attempt = Attempt::new(migration, script, *replacing);
                script_and_row(tx, ctx, &attempt)?;
                done.push(ran(migration, attempt.clock));
            }
            match keys_off {
                true => check_foreign_keys(tx),
                false => Ok(()),
            }
        })
    });
    match result {
        Ok(()) => Ok(done),
        Err(cause) => {
            let (migration, replacing) = migrations[failing];
            let attempt = Attempt::new(migration, scripts[failing], replacing);
            match claimed_by_another(driver, ctx, &attempt, &cause) {
                Some(claimed) => Err(claimed),
                None => Err(record_failure(driver, ctx, &attempt, true, cause)),
            }
        }
    }
}

/// Runs a script with no transaction of its own around its tracking row. On MySQL a script
/// without `no-transaction` still runs in a transaction, which undoes its data changes on
/// failure (its DDL has committed anyway).
///
/// With lock-safe DDL, statement by statement where the statements are known: one that times
/// out waiting for a lock did not run, and is tried again after a pause.
fn run_outside_transaction(
    driver: &mut dyn Driver,
    ctx: &Context<'_>,
    migration: &Migration,
    script: &Script,
) -> Result<(), Outside> {
    let backend = ctx.backend();
    let statements = statements_of(script, ctx);
    let run = |driver: &mut dyn Driver| match script.is_rust() {
        true => run_code(driver, ctx, migration).map_err(|cause| Outside::Failed { cause }),
        false => run_statements(driver, ctx, migration, script, &statements),
    };
    if backend == Backend::Mysql && !script.directives().no_transaction() {
        let mut outcome = Ok(());
        let committed = driver.transaction(&mut |tx| {
            outcome = run(tx);
            match &outcome {
                Ok(()) => Ok(()),
                Err(_) => Err(diesel::result::Error::RollbackTransaction),
            }
        });
        return match (outcome, committed) {
            (Err(outside), _) => Err(outside),
            (Ok(()), Err(cause)) => Err(Outside::Failed { cause }),
            (Ok(()), Ok(())) => Ok(()),
        };
    }
    run(driver)
}

/// Runs the code of `migration`, written in Rust, in the caller's transaction.
fn run_code(driver: &mut dyn Driver, ctx: &Context<'_>, migration: &Migration) -> QueryResult<()> {
    let code = ctx
        .code_of(migration)
        .map_err(|error| diesel::result::Error::QueryBuilderError(error.to_string().into()))?;
    super::resume::run_up(driver, migration, code, None).map_err(|f| f.into_diesel())
}

/// Sets the statement timeout `script` asks for (`-- waterline:statement-timeout(30s)`):
/// PostgreSQL's `statement_timeout`, MariaDB's `max_statement_time` (MySQL proper has no
/// such setting, and runs without one). The session's own value is put back after the
/// migration, as every setting a migration changes.
pub(super) fn set_statement_timeout(
    driver: &mut dyn Driver,
    backend: Backend,
    script: &Script,
) -> QueryResult<()> {
    let Some(timeout) = script.directives().statement_timeout() else {
        return Ok(());
    };
    match backend {
        Backend::Postgres => driver.batch(&format!(
            "SET statement_timeout = '{}ms'",
            timeout.as_millis()
        )),
        Backend::Mysql => {
            let set = format!(
                "SET SESSION max_statement_time = {:.3}",
                timeout.as_secs_f64()
            );
            if let Err(error) = driver.batch(&set) {
                tracing::debug!(%error, "no max_statement_time on this server");
            }
            Ok(())
        }
        Backend::Sqlite => Ok(()),
    }
}

/// How a script run outside a transaction with its row failed.
enum Outside {
    /// A statement failed with `cause`.
    Failed { cause: diesel::result::Error },
    /// A statement gave way to lock holders until the budget was spent
    /// ([`Error::LockRetriesExhausted`]); `cause` is its last lock timeout.
    GaveUp {
        error: Box<Error>,
        cause: diesel::result::Error,
        first: bool,
    },
}

impl Outside {
    fn into_cause(self) -> diesel::result::Error {
        match self {
            Outside::Failed { cause, .. } | Outside::GaveUp { cause, .. } => cause,
        }
    }
}

/// The statements of `script` in the order they are sent: one by one where they are located
/// (a `no-transaction` script) or, with lock-safe DDL on MySQL, found; else the script as one.
fn statements_of<'s>(script: &'s Script, ctx: &Context<'_>) -> Vec<&'s str> {
    let located = batches(script, ctx.backend());
    if located.len() > 1 || !ctx.retry.is_on(ctx.backend()) || ctx.backend() != Backend::Mysql {
        return located;
    }
    #[cfg(feature = "mysql")]
    if let Some(ranges) = waterline_core::statements::split(script.sql()) {
        return ranges
            .into_iter()
            .map(|range| &script.sql()[range])
            .collect();
    }
    located
}

/// Runs `statements` one after another, each tried again after a pause when it times out
/// waiting for a lock (but for a `CONCURRENTLY`, which waits without a timeout).
fn run_statements(
    driver: &mut dyn Driver,
    ctx: &Context<'_>,
    migration: &Migration,
    script: &Script,
    statements: &[&str],
) -> Result<(), Outside> {
    let backend = ctx.backend();
    let set = ctx.retry.set_timeout(backend);
    if let Some(set) = &set {
        driver
            .batch(set)
            .map_err(|cause| Outside::Failed { cause })?;
    }
    set_statement_timeout(driver, backend, script).map_err(|cause| Outside::Failed { cause })?;
    for (index, sql) in statements.iter().enumerate() {
        let first = index == 0;
        if !first {
            pause(Point::BetweenStatements, migration.version());
        }
        if lock_wait::must_not_retry(sql) {
            if let Some(lift) = ctx.retry.lift_timeout(backend) {
                driver
                    .batch(lift)
                    .map_err(|cause| Outside::Failed { cause })?;
            }
            let ran = driver.batch(sql);
            if let Some(set) = &set {
                let _ = driver.batch(set);
            }
            ran.map_err(|cause| Outside::Failed { cause })?;
            continue;
        }
        let mut tries = Tries::new(ctx.retry);
        loop {
            match driver.batch(sql) {
                Ok(()) => break,
                Err(cause) if set.is_some() && lock_wait::timed_out(&cause) => {
                    if let Err(error) = give_way(driver, ctx, migration, &mut tries, first) {
                        return Err(Outside::GaveUp {
                            error: Box::new(error),
                            cause,
                            first,
                        });
                    }
                }
                Err(cause) => return Err(Outside::Failed { cause }),
            }
        }
    }
    Ok(())
}

/// Records the failure of `attempt` in the tracking table, where it can be, and returns its
/// error.
///
/// Rolled back, its claim went with the transaction: the failure is written as a new row (or
/// over the `failed` row it was retrying), unless another process has claimed the migration
/// since. Outside a transaction, the failure replaces this process's `running` row. A rerun of
/// an applied migration leaves its `applied` row as it was. Nothing is written on a connection
/// that is gone.
pub(super) fn record_failure(
    driver: &mut dyn Driver,
    ctx: &Context<'_>,
    attempt: &Attempt<'_>,
    rolled_back: bool,
    cause: diesel::result::Error,
) -> Error {
    let migration = attempt.migration;
    let transient = Transient::of(&cause);
    let mut record = attempt.record(ctx, RecordStatus::Failed, rolled_back);
    record.error = Some(cause.to_string());
    let written = match (transient, rolled_back, attempt.replacing) {
        (Some(t), _, _) if t.lost_the_connection() => Ok(false),
        (_, true, Some(RecordStatus::Applied)) => Ok(false),
        (_, true, Some(RecordStatus::Failed)) => driver
            .write_row(ctx.dialect.update_failed_record(), &record)
            .map(|matched| matched > 0),
        (_, true, _) => driver
            .write_row(ctx.dialect.insert_record(), &record)
            .map(|inserted| inserted > 0),
        (_, false, _) => settle(driver, ctx, &record),
    };
    let recorded = written.unwrap_or_else(|error| {
        tracing::error!(version = migration.version(), %error, "could not record the failure of a migration");
        false
    });
    tracing::error!(version = migration.version(), name = migration.name(), error = %cause, "migration failed");
    Error::MigrationFailed {
        migration: Box::new(migration_ref(migration)),
        table: ctx.table(),
        message: cause.to_string(),
        rolled_back,
        transient: transient.map(Transient::describe),
        recorded,
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
    if migration.is_rust() {
        return match ctx.code_of(migration)?.down() {
            Some(down) => super::resume::revert_code(driver, ctx, migration, record, down),
            None => Err(Error::Irreversible {
                migration: Box::new(migration_ref(migration)),
            }),
        };
    }
    let Some(script) = migration.down().for_backend(ctx.backend()) else {
        return Err(Error::Irreversible {
            migration: Box::new(migration_ref(migration)),
        });
    };
    let clock = Instant::now();
    let delete = ctx.dialect.delete_record(record.version);
    let failed = |cause, rolled_back| revert_failed(ctx, migration, cause, rolled_back);
    if is_transactional(script, ctx.backend()) {
        let sql = script.sql();
        let set = ctx.retry.set_timeout(ctx.backend());
        let mut tries = Tries::new(ctx.retry);
        loop {
            let reverted = driver.transaction(&mut |tx| {
                if let Some(set) = &set {
                    tx.batch(set)?;
                }
                tx.batch(sql)?;
                tx.batch(&delete)
            });
            match reverted {
                Ok(()) => break,
                Err(cause) if set.is_some() && lock_wait::timed_out(&cause) => {
                    give_way(driver, ctx, migration, &mut tries, true)?;
                }
                Err(cause) => return Err(failed(cause, true)),
            }
        }
    } else {
        let mut running = ctx.record(migration, RecordStatus::Running, &now());
        running.checksum = record.checksum.clone();
        running.error = Some(super::assess::REVERTING.to_owned());
        write_record(driver, ctx, &running, true)
            .map_err(|cause| database("record the start of a revert", ctx.dialect, cause))?;
        if let Err(outside) = run_outside_transaction(driver, ctx, migration, script) {
            if let Outside::GaveUp {
                error, first: true, ..
            } = outside
            {
                // Nothing of the down script ran: the migration stays applied.
                let _ = write_record(
                    driver,
                    ctx,
                    &super::kept_record(ctx, record, migration),
                    true,
                );
                return Err(*error);
            }
            let cause = outside.into_cause();
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
    Ok(ran(migration, clock))
}

/// [`Error::RevertFailed`] for `migration`, whose down script (or code) failed with `cause`.
pub(super) fn revert_failed(
    ctx: &Context<'_>,
    migration: &Migration,
    cause: diesel::result::Error,
    rolled_back: bool,
) -> Error {
    Error::RevertFailed {
        migration: Box::new(migration_ref(migration)),
        table: ctx.table(),
        message: cause.to_string(),
        rolled_back,
        cause: Box::new(cause),
    }
}

pub(super) fn ran(migration: &Migration, clock: Instant) -> Ran {
    Ran {
        version: migration.version(),
        version_text: migration.version_text().to_owned(),
        name: migration.name().to_owned(),
        duration: clock.elapsed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_clock_outside_1970_to_9999_is_written_without_a_panic() {
        let before_1970 = SystemTime::UNIX_EPOCH - Duration::from_secs(86_400);
        assert_eq!(rfc3339_micros(before_1970), None);
        let after_9999 = SystemTime::UNIX_EPOCH + Duration::from_secs(253_402_300_800);
        assert_eq!(rfc3339_micros(after_9999), None);
        assert_eq!(
            rfc3339_micros(SystemTime::UNIX_EPOCH + Duration::from_micros(1_500_000)).as_deref(),
            Some("1970-01-01T00:00:01.500000Z")
        );
        assert!(now().ends_with('Z'));
    }
}
