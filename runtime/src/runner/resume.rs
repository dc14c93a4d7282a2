//! Running a migration written in Rust. In a transaction, its code runs where a script's SQL
//! would. Outside one it is resumable: the run holds the migration by a row in
//! `<table>_runs` (a holder, a secret token and an end by the server's clock) that every
//! backfill batch extends, its heartbeat; each batch commits with its checkpoint in
//! `<table>_checkpoints`, written only if the run still holds the migration and no other
//! batch was recorded since. A run that stopped part-way leaves its tracking row `running`
//! (or `failed`); the next run takes the migration over once its hold has ended, runs the
//! code again from the top, and each backfill goes on after its checkpoint.

use std::time::Duration;

use diesel::result::QueryResult;
use waterline_core::{Backend, Migration};

use super::apply::is_transactional;
use super::apply::write_record;
use super::apply::{claim, claimed_by_another, ran, record_failure, revert_failed, settle};
use super::apply::{set_statement_timeout, Attempt, Context};
use super::assess::{migration_ref, RESUMABLE, REVERTING, REVERT_FAILED};
use super::dialect::{lease_text, Dialect};
use super::driver::Driver;
use super::fault::{pause, Point};
use super::lock::database;
use super::lock_wait::{LockRetry, Tries};
use super::record::Record;
use super::record::RecordStatus;
use super::report::Ran;
use super::tables::create_racing;
use super::Progress;
use crate::code::{Code, Entry, Interrupted, Step};
use crate::error::Error;
use crate::Stop;

/// How long a run holds a resumable migration without a heartbeat, by default: a batch (or
/// the code between two) may take this long before another process may take over.
pub const DEFAULT_HEARTBEAT_LEASE: Duration = Duration::from_secs(60);

/// A run's hold on a resumable migration, and what its backfills report to.
pub struct Resume<'a> {
    pub(crate) dialect: &'a Dialect,
    token: String,
    lease: Duration,
    pub(crate) observer: Option<&'a (dyn Fn(Progress<'_>) + Send + Sync + 'a)>,
    stop: Option<&'a Stop>,
    /// How long a batch waits for row locks, and for how long it tries again.
    pub(crate) retry: LockRetry,
}

impl<'a> Resume<'a> {
    pub fn new(ctx: &Context<'a>, lease: Duration) -> Self {
        Resume {
            dialect: ctx.dialect,
            token: super::lock::token(),
            lease,
            observer: ctx.observer,
            stop: ctx.stop,
            retry: ctx.retry,
        }
    }

    /// Sets the session's lock timeout for batches (PostgreSQL, MySQL): a batch that waits
    /// for rows an application transaction holds gives way, and is tried again.
    pub fn bound_lock_waits(&self, driver: &mut dyn Driver) -> QueryResult<()> {
        match self.retry.set_timeout(driver.backend()) {
            Some(set) => driver.batch(&set),
            None => Ok(()),
        }
    }

    /// After a batch that timed out waiting for a lock: the pause before trying it again, or
    /// `None` when the budget is spent.
    pub fn give_way(&self, tries: &mut Tries) -> Option<Duration> {
        tries.next_pause()
    }

    fn runs(&self) -> String {
        self.dialect.with_suffix("_runs")
    }

    fn checkpoints(&self) -> String {
        self.dialect.with_suffix("_checkpoints")
    }

    /// Creates the two tables when missing.
    pub fn create_tables(&self, driver: &mut dyn Driver) -> QueryResult<()> {
        let timestamp = match self.dialect.backend() {
            Backend::Postgres => "TIMESTAMPTZ",
            Backend::Mysql => "DATETIME(6)",
            Backend::Sqlite => "TEXT",
        };
        let runs = format!(
            "CREATE TABLE IF NOT EXISTS {} (version BIGINT NOT NULL PRIMARY KEY, holder \
             VARCHAR(255) NOT NULL, token VARCHAR(64) NOT NULL, expires_at {timestamp} NOT NULL)",
            self.runs()
        );
        let checkpoints = format!(
            "CREATE TABLE IF NOT EXISTS {} (version BIGINT NOT NULL, backfill VARCHAR(191) NOT \
             NULL, last_key BIGINT, rows_done BIGINT NOT NULL, rows_total BIGINT, batches BIGINT \
             NOT NULL, rows_per_second BIGINT, updated_at {timestamp} NOT NULL, finished_at \
             {timestamp}, PRIMARY KEY (version, backfill))",
            self.checkpoints()
        );
        // Once they exist, no DDL: MariaDB's metadata locks make concurrent `CREATE TABLE IF
        // NOT EXISTS` of an existing table deadlock-prone.
        let probe = format!(
            "SELECT CAST(COUNT(*) AS {}) AS value FROM {} WHERE version = -1",
            self.dialect.bigint(),
            self.checkpoints()
        );
        let exists = &mut |driver: &mut dyn Driver| driver.scalar(&probe).is_ok();
        if exists(driver) {
            return Ok(());
        }
        let create = &mut |driver: &mut dyn Driver| {
            driver.batch(&runs)?;
            driver.batch(&checkpoints)
        };
        create_racing(driver, create, exists)
    }

    /// Takes migration `version` for this run: deletes a hold that has ended, then inserts
    /// this run's. `false` when another run holds it.
    pub fn take(&self, driver: &mut dyn Driver, version: u64, holder: &str) -> QueryResult<bool> {
        let delete = format!(
            "DELETE FROM {} WHERE version = {version} AND expires_at < {}",
            self.runs(),
            self.dialect.lease_time(None)
        );
        driver.execute(&delete)?;
        let insert = format!(
            "INSERT INTO {} (version, holder, token, expires_at) VALUES ({version}, '{}', '{}', {})",
            self.runs(),
            lease_text(holder),
            self.token,
            self.dialect.lease_time(Some(self.lease.as_millis()))
        );
        match driver.execute(&insert) {
            Ok(_) => Ok(true),
            Err(cause) if super::lock::is_duplicate(&cause) => Ok(false),
            Err(cause) => Err(cause),
        }
    }

    /// Extends this run's hold on `version`, on `driver` (in a batch's transaction); `false`
    /// when it is no longer this run's.
    pub fn renew_in(&self, driver: &mut dyn Driver, version: u64) -> QueryResult<bool> {
        let renew = format!(
            "UPDATE {} SET expires_at = {} WHERE version = {version} AND token = '{}'",
            self.runs(),
            self.dialect.lease_time(Some(self.lease.as_millis())),
            self.token
        );
        Ok(driver.execute(&renew)? == 1)
    }

    /// [`renew_in`](Self::renew_in), as [`Step::heartbeat`] asks.
    pub fn heartbeat(
        &self,
        driver: &mut dyn Driver,
        migration: &Migration,
    ) -> Result<(), Interrupted> {
        match self.renew_in(driver, migration.version()) {
            Ok(true) => Ok(()),
            Ok(false) => Err(Interrupted::TakenOver {
                holder: self.holder_of(driver, migration.version()),
            }),
            Err(error) => {
                tracing::warn!(%error, "could not extend the hold on a migration");
                Ok(())
            }
        }
    }

    /// Ends this run's hold on `version`.
    pub fn release(&self, driver: &mut dyn Driver, version: u64) {
        let delete = format!(
            "DELETE FROM {} WHERE version = {version} AND token = '{}'",
            self.runs(),
            self.token
        );
        if let Err(error) = driver.execute(&delete) {
            tracing::warn!(version, %error, "could not release the hold on a migration; it ends with its lease");
        }
    }

    /// Who holds `version`, if anyone.
    pub fn holder_of(&self, driver: &mut dyn Driver, version: u64) -> Option<String> {
        let sql = format!(
            "SELECT holder AS value FROM {} WHERE version = {version}",
            self.runs()
        );
        driver.texts(&sql).ok()?.into_iter().flatten().next()
    }

    pub fn stop_requested(&self) -> bool {
        self.stop.is_some_and(Stop::is_requested)
    }

    /// Waits `pause` between two batches, cut short by a stop.
    pub fn pause(&self, pause: Duration) {
        let until = std::time::Instant::now() + pause;
        while !self.stop_requested() {
            let left = until.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return;
            }
            std::thread::sleep(left.min(Duration::from_millis(50)));
        }
    }
}

/// Where one backfill of one migration stands.
pub struct CheckpointState {
    pub last_key: Option<i64>,
    pub rows_done: u64,
    pub batches: u64,
    pub finished: bool,
}

/// The checkpoint row of one backfill.
pub struct Checkpoint<'r> {
    resume: &'r Resume<'r>,
    version: u64,
    name: String,
}

impl<'r> Checkpoint<'r> {
    pub fn new(resume: &'r Resume<'r>, version: u64, name: &str) -> Self {
        Checkpoint {
            resume,
            version,
            name: lease_text(name),
        }
    }

    fn row(&self) -> String {
        format!(
            "{} WHERE version = {} AND backfill = '{}'",
            self.resume.checkpoints(),
            self.version,
            self.name
        )
    }

    /// Reads the checkpoint, written first when there is none.
    pub fn start(&self, driver: &mut dyn Driver) -> QueryResult<CheckpointState> {
        let dialect = self.resume.dialect;
        let select = format!(
            "SELECT CAST(batches AS {}) AS value FROM {}",
            dialect.bigint(),
            self.row()
        );
        if driver.scalar(&select)?.is_none() {
            let insert = format!(
                "INSERT INTO {} (version, backfill, rows_done, batches, updated_at) VALUES ({}, \
                 '{}', 0, 0, {})",
                self.resume.checkpoints(),
                self.version,
                self.name,
                dialect.lease_time(None)
            );
            driver.execute(&insert)?;
        }
        let read = |driver: &mut dyn Driver, column: &str| {
            let sql = format!(
                "SELECT CAST({column} AS {}) AS value FROM {}",
                dialect.bigint(),
                self.row()
            );
            driver.scalar(&sql)
        };
        Ok(CheckpointState {
            last_key: read(driver, "last_key")?,
            rows_done: read(driver, "rows_done")?.unwrap_or(0) as u64,
            batches: read(driver, "batches")?.unwrap_or(0) as u64,
            finished: read(driver, "CASE WHEN finished_at IS NULL THEN 0 ELSE 1 END")? == Some(1),
        })
    }

    pub fn set_total(&self, total: u64) -> String {
        format!(
            "UPDATE {} SET rows_total = {total}",
            self.resume.checkpoints()
        ) + &format!(
            " WHERE version = {} AND backfill = '{}'",
            self.version, self.name
        )
    }

    /// Records a batch ending at `last` that changed `rows`, if the checkpoint is still the
    /// one `state` read: one row matched, or none when another run recorded a batch since.
    pub fn advance(&self, state: &CheckpointState, last: i64, rows: u64, rate: f64) -> String {
        format!(
            "UPDATE {} SET last_key = {last}, rows_done = rows_done + {rows}, batches = batches + \
             1, rows_per_second = {}, updated_at = {} WHERE version = {} AND backfill = '{}' AND \
             batches = {}",
            self.resume.checkpoints(),
            rate.round() as i64,
            self.resume.dialect.lease_time(None),
            self.version,
            self.name,
            state.batches
        )
    }

    /// Records the backfill as done, if the checkpoint is still the one `state` holds.
    pub fn finish(&self, state: &CheckpointState) -> String {
        format!(
            "UPDATE {} SET finished_at = {}, updated_at = {} WHERE version = {} AND backfill = \
             '{}' AND batches = {}",
            self.resume.checkpoints(),
            self.resume.dialect.lease_time(None),
            self.resume.dialect.lease_time(None),
            self.version,
            self.name,
            state.batches
        )
    }
}

/// The fault tests' pause points of a batch (debug builds only): written, not yet
/// committed, or committed.
pub fn fault_pause_batch(version: u64, committed: bool) {
    match committed {
        true => pause(Point::BatchCommitted, version),
        false => pause(Point::BatchWritten, version),
    }
}

/// Runs `code`'s `up` as `migration`, on `driver`, with `resume` when outside a transaction.
/// An error the code returns is turned into a diesel error carrying its message, so a
/// failure is recorded as a script's is; a diesel error passes through as it was.
pub fn run_up(
    driver: &mut dyn Driver,
    migration: &Migration,
    code: &Code,
    resume: Option<&Resume<'_>>,
) -> Result<(), CodeFailure> {
    let mut step = Step::new(driver, migration, resume);
    (code.up())(&mut step).map_err(CodeFailure::from)
}

/// How the code of a migration failed.
pub enum CodeFailure {
    /// It stopped between batches, as asked.
    Stopped,
    /// Another run took it over.
    TakenOver { holder: Option<String> },
    /// It failed.
    Failed(diesel::result::Error),
}

impl From<Box<dyn std::error::Error + Send + Sync>> for CodeFailure {
    fn from(error: Box<dyn std::error::Error + Send + Sync>) -> Self {
        let error = match error.downcast::<Interrupted>() {
            Ok(interrupted) => match *interrupted {
                Interrupted::Stopped => return CodeFailure::Stopped,
                Interrupted::TakenOver { holder } => return CodeFailure::TakenOver { holder },
                other => Box::new(other) as Box<dyn std::error::Error + Send + Sync>,
            },
            Err(error) => error,
        };
        match error.downcast::<diesel::result::Error>() {
            Ok(diesel) => CodeFailure::Failed(*diesel),
            Err(other) => CodeFailure::Failed(diesel::result::Error::QueryBuilderError(other)),
        }
    }
}

impl CodeFailure {
    /// The failure as a diesel error, for a migration's transaction.
    pub fn into_diesel(self) -> diesel::result::Error {
        match self {
            CodeFailure::Failed(cause) => cause,
            other => diesel::result::Error::QueryBuilderError(other.to_string().into()),
        }
    }
}

impl std::fmt::Display for CodeFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CodeFailure::Stopped => Interrupted::Stopped.fmt(f),
            CodeFailure::TakenOver { holder } => Interrupted::TakenOver {
                holder: holder.clone(),
            }
            .fmt(f),
            CodeFailure::Failed(cause) => cause.fmt(f),
        }
    }
}

/// Applies the resumable `attempt` (a migration written in Rust, outside a transaction):
/// holds it, claims or takes over its tracking row, runs its code, and records it `applied`
/// only once the code returned, every backfill done.
pub fn apply_resumable(
    driver: &mut dyn Driver,
    ctx: &Context<'_>,
    attempt: &Attempt<'_>,
    code: &Code,
) -> Result<Ran, Error> {
    let migration = attempt.migration;
    let version = migration.version();
    let resume = Resume::new(ctx, ctx.heartbeat_lease);
    let failed = |operation, cause| database(operation, ctx.dialect, cause);
    resume
        .create_tables(driver)
        .map_err(|cause| failed("create the tables of resumable migrations", cause))?;
    if !resume
        .take(driver, version, ctx.applied_by)
        .map_err(|cause| failed("hold a resumable migration", cause))?
    {
        return Err(Error::HeldElsewhere {
            migration: Box::new(migration_ref(migration)),
            table: ctx.dialect.with_suffix("_runs"),
            holder: resume.holder_of(driver, version).unwrap_or_default(),
            lease: ctx.heartbeat_lease,
        });
    }
    let mut running = attempt.record(ctx, RecordStatus::Running, false);
    running.error = Some(RESUMABLE.to_owned());
    // Held, so this run alone takes over the row of a run that stopped or failed: if it is
    // still as this run read it (another run may have finished it since).
    let claimed = match attempt.replacing {
        Some(RecordStatus::Running) => {
            write_if_still(driver, ctx.dialect.update_running_record(), &running)
        }
        Some(RecordStatus::Failed) => {
            write_if_still(driver, ctx.dialect.update_failed_record(), &running)
        }
        Some(RecordStatus::Applied) => write_record(driver, ctx, &running, true),
        None => claim(driver, ctx, attempt, &running),
    };
    let changed = matches!(&claimed, Err(cause) if is_changed(cause));
    if let Err(cause) = claimed {
        resume.release(driver, version);
        let another = match changed {
            true => claimed_since(driver, ctx, attempt),
            false => claimed_by_another(driver, ctx, attempt, &cause),
        };
        return Err(another.unwrap_or_else(|| failed("record the start of a migration", cause)));
    }
    if attempt.replacing.is_some() {
        tracing::info!(
            version,
            name = migration.name(),
            "resuming a migration that a run before this one left unfinished"
        );
    }
    pause(Point::RunningRecorded, version);
    // `// waterline:statement-timeout(...)` bounds each statement of the code, each batch's.
    let outcome = set_statement_timeout(driver, ctx.backend(), attempt.script)
        .map_err(CodeFailure::Failed)
        .and_then(|()| run_up(driver, migration, code, Some(&resume)));
    match outcome {
        Ok(()) => {}
        Err(CodeFailure::Stopped) => {
            resume.release(driver, version);
            return Err(Error::Stopped {
                applied: Vec::new(),
                pending: vec![migration_ref(migration)],
            });
        }
        Err(CodeFailure::TakenOver { holder }) => {
            return Err(Error::TakenOver {
                migration: Box::new(migration_ref(migration)),
                holder: holder.unwrap_or_default(),
                lease: ctx.heartbeat_lease,
            });
        }
        Err(CodeFailure::Failed(cause)) => {
            let error = record_failure(driver, ctx, attempt, false, cause);
            resume.release(driver, version);
            return Err(error);
        }
    }
    pause(Point::ScriptDone, version);
    let applied = attempt.record(ctx, RecordStatus::Applied, false);
    let settled = settle(driver, ctx, &applied);
    resume.release(driver, version);
    match settled {
        Ok(true) => {}
        Ok(false) => {
            return Err(Error::TakenOver {
                migration: Box::new(migration_ref(migration)),
                holder: String::new(),
                lease: ctx.heartbeat_lease,
            })
        }
        Err(cause) => return Err(failed("record a migration as applied", cause)),
    }
    pause(Point::Committed, version);
    Ok(ran(migration, attempt.clock))
}

/// Reverts the applied `migration`, written in Rust, with its `down` function: in a
/// transaction with the deletion of its row where its `up` ran in one, else between a
/// `running` row and its deletion, as a script outside a transaction is. Its backfills'
/// checkpoints go with it, so that applying it again runs them again.
pub fn revert_code(
    driver: &mut dyn Driver,
    ctx: &Context<'_>,
    migration: &Migration,
    record: &Record,
    down: Entry,
) -> Result<Ran, Error> {
    let clock = std::time::Instant::now();
    let delete = ctx.dialect.delete_record(record.version);
    let failed = |cause, rolled_back| revert_failed(ctx, migration, cause, rolled_back);
    let run = |driver: &mut dyn Driver| {
        let mut step = Step::new(driver, migration, None);
        down(&mut step).map_err(|error| CodeFailure::from(error).into_diesel())
    };
    let script = migration
        .up()
        .default_script()
        .expect("a Rust migration has its source");
    if is_transactional(script, ctx.dialect.backend()) {
        driver
            .transaction(&mut |tx| {
                run(tx)?;
                tx.batch(&delete)
            })
            .map_err(|cause| failed(cause, true))?;
    } else {
        let mut running = super::kept_record(ctx, record, migration);
        running.status = RecordStatus::Running;
        running.error = Some(REVERTING.to_owned());
        write_record(driver, ctx, &running, true)
            .map_err(|cause| database("record the start of a revert", ctx.dialect, cause))?;
        if let Err(cause) = run(driver) {
            let mut marked = running.clone();
            marked.status = RecordStatus::Failed;
            marked.error = Some(format!("{REVERT_FAILED}{cause}"));
            let _ = write_record(driver, ctx, &marked, true);
            return Err(failed(cause, false));
        }
        driver.batch(&delete).map_err(|cause| {
            database("delete the row of a reverted migration", ctx.dialect, cause)
        })?;
    }
    let checkpoints = format!(
        "DELETE FROM {} WHERE version = {}",
        ctx.dialect.with_suffix("_checkpoints"),
        migration.version()
    );
    // No table: no backfill ever ran.
    let _ = driver.execute(&checkpoints);
    Ok(ran(migration, clock))
}

/// Where the backfills of migration `version` stand, from their checkpoints; `None` when
/// none has run a batch (or the tables do not exist yet).
pub fn backfill_status(
    driver: &mut dyn Driver,
    dialect: &Dialect,
    version: u64,
) -> Option<super::report::BackfillStatus> {
    let checkpoints = dialect.with_suffix("_checkpoints");
    let read = |driver: &mut dyn Driver, expression: &str| {
        let sql = format!(
            "SELECT CAST({expression} AS {}) AS value FROM {checkpoints} WHERE version = {version}",
            dialect.bigint()
        );
        driver.scalar(&sql).ok().flatten()
    };
    let batches = read(driver, "SUM(batches)")?;
    let holder = format!(
        "SELECT holder AS value FROM {} WHERE version = {version} AND expires_at >= {}",
        dialect.with_suffix("_runs"),
        dialect.lease_time(None)
    );
    Some(super::report::BackfillStatus {
        rows_done: read(driver, "SUM(rows_done)").unwrap_or(0) as u64,
        rows_total: read(driver, "SUM(COALESCE(rows_total, rows_done))").unwrap_or(0) as u64,
        batches: batches as u64,
        rows_per_second: read(driver, "MAX(rows_per_second)").unwrap_or(0) as u64,
        finished: read(
            driver,
            "SUM(CASE WHEN finished_at IS NULL THEN 1 ELSE 0 END)",
        ) == Some(0),
        held_by: driver.texts(&holder).ok()?.into_iter().flatten().next(),
    })
}

/// Writes `record` with `sql`, an UPDATE that matches only a row still in the status this
/// run read; a [changed](is_changed) error when none matched.
fn write_if_still(
    driver: &mut dyn Driver,
    sql: &super::write::RowSql,
    record: &super::record::NewRecord<'_>,
) -> QueryResult<()> {
    match driver.write_row(sql, record)? {
        0 => Err(diesel::result::Error::NotFound),
        _ => Ok(()),
    }
}

/// Whether a conditional write found the row changed since it was read.
fn is_changed(cause: &diesel::result::Error) -> bool {
    matches!(cause, diesel::result::Error::NotFound)
}

/// [`Error::Claimed`] for a row another run changed since this one read it.
fn claimed_since(
    driver: &mut dyn Driver,
    ctx: &Context<'_>,
    attempt: &Attempt<'_>,
) -> Option<Error> {
    let records = super::tables::read(driver, ctx.dialect).ok()?;
    let row = records
        .iter()
        .find(|r| r.version() == attempt.migration.version())?;
    Some(Error::Claimed {
        migration: Box::new(migration_ref(attempt.migration)),
        table: ctx.table(),
        holder: row.applied_by.clone(),
        status: row.status().as_str().to_owned(),
    })
}
