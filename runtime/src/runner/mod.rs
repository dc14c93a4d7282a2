//! The runner: applies, verifies and tracks migrations through a diesel connection.

mod adopt;
mod apply;
mod assess;
mod cause;
mod columns;
mod dialect;
mod driver;
mod fault;
mod lock;
pub(crate) mod lock_wait;
mod message;
mod operations;
mod record;
mod report;
mod resume;
mod session;
mod status;
mod stop;
mod table;
mod tables;
mod write;

pub use lock_wait::LockRetry;
pub(crate) use lock_wait::Tries;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
pub use stop::Stop;

use waterline_core::Migration;

#[cfg(feature = "cli")]
pub(crate) use apply::rfc3339_micros;
pub(crate) use driver::Driver;
pub use driver::{MigrationConnection, SupportedBackend};
pub use report::{
    BackfillStatus, MigrationStatus, Plan, PlannedMigration, Ran, Report, State, Status,
};
pub use resume::DEFAULT_HEARTBEAT_LEASE;
pub(crate) use resume::{fault_pause_batch, Checkpoint, Resume};
pub use table::DEFAULT_TABLE;

use self::apply::Context;
use self::assess::{migration_ref, Rules};
use self::dialect::Dialect;
use self::record::{NewRecord, Record, RecordStatus};
use crate::error::{Drift, Error, MigrationRef};
use crate::Migrations;

/// The default time to wait for another process's migration lock.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(60);

/// Applies and inspects migrations, with settings. Made by [`Migrations::runner`].
///
/// ```
/// # #[cfg(feature = "sqlite")]
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
///
/// use diesel::{Connection, SqliteConnection};
/// use waterline::State;
///
/// static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("../migrations");
///
/// let mut conn = SqliteConnection::establish(":memory:")?;
/// let runner = MIGRATIONS
///     .runner()
///     .table("applied_migrations")
///     .lock_timeout(Duration::from_secs(30))
///     .target(3);
///
/// // What would run, without running it.
/// let plan = runner.plan(&mut conn)?;
/// assert_eq!(plan.migrations.len(), 3);
///
/// let report = runner.run_pending(&mut conn)?;
/// println!("{report}");
///
/// let status = runner.status(&mut conn)?;
/// assert_eq!(status.count(State::Applied), 3);
/// assert_eq!(status.count(State::Pending), MIGRATIONS.len() - 3);
/// # Ok(())
/// # }
/// # #[cfg(not(feature = "sqlite"))]
/// # fn main() {}
/// ```
#[derive(Clone)]
pub struct Runner<'m> {
    migrations: &'m Migrations,
    table: String,
    lock_timeout: Duration,
    locking: Locking,
    rules: Rules,
    applied_by: Option<String>,
    single_transaction: bool,
    progress_every: Duration,
    keep_diesel_table: bool,
    heartbeat_lease: Duration,
    lock_retry: LockRetry,
    stop: Option<Stop>,
    observer: Option<Arc<Observer<'m>>>,
}

type Observer<'m> = dyn Fn(Progress<'_>) + Send + Sync + 'm;

impl fmt::Debug for Runner<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runner")
            .field("table", &self.table)
            .field("lock_timeout", &self.lock_timeout)
            .field("locking", &self.locking)
            .field("rules", &self.rules)
            .field("applied_by", &self.applied_by)
            .field("keep_diesel_table", &self.keep_diesel_table)
            .finish_non_exhaustive()
    }
}

/// What a run does when the database records migrations this binary does not embed; see
/// [`Runner::ahead`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Ahead {
    /// Refuse, whatever they are.
    Refuse,
    /// Go on when every one of them is recorded as an expand migration (it only adds, so this
    /// binary keeps working); refuse, naming the others, when any is a contract or was
    /// recorded without a class.
    #[default]
    ExpandOnly,
    /// Go on, whatever they are.
    Allow,
}

/// How a run keeps other processes from migrating the same database at the same time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Locking {
    /// A lock of the database session: a PostgreSQL advisory lock, a MySQL `GET_LOCK`, an
    /// exclusive lock on the SQLite file. Freed by the server if the process dies. Needs the
    /// run's statements to share one server session, which PgBouncer's transaction pooling
    /// does not give.
    Session,
    /// A lease: a row in `<table>_lock` naming the holder, with a token and an end time by
    /// the server's clock, taken and renewed (before each migration) by single statements, so
    /// it works through any connection pooler. A holder that dies holds it until the lease
    /// runs out; make it longer than the longest migration, as a holder still running past it
    /// may find another process has taken over (that process then meets the running
    /// migration's claim and stops).
    Lease(Duration),
    /// No lock. Each migration's row is still its claim, so none runs twice, but processes
    /// that meet stop with [`Error::Claimed`] rather than wait for each other.
    Off,
}

/// How often a long wait or a long migration is reported, unless
/// [`Runner::progress_interval`] says otherwise.
pub const DEFAULT_PROGRESS_INTERVAL: Duration = Duration::from_secs(10);

/// The lease [`Locking::Lease`] gets from the `migrate` command unless told otherwise.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);

/// The default of [`Runner::lock_retry`]: each try waits 500 ms for its locks, for 5 minutes
/// in all.
pub const DEFAULT_LOCK_RETRY: LockRetry = LockRetry {
    timeout: Duration::from_millis(500),
    budget: Duration::from_secs(300),
};

/// Which way a migration runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunDirection {
    /// Applying its up script.
    Up,
    /// Reverting with its down script.
    Down,
}

/// Progress of a run, for live output (see [`Runner::on_progress`]).
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum Progress<'a> {
    /// The run waits for another process's migration lock: said when it starts waiting, then
    /// every [`progress_interval`](Runner::progress_interval).
    WaitingForLock {
        /// The tracking table whose lock it waits for.
        table: &'a str,
        /// How long it has waited.
        waited: Duration,
        /// Who holds the lock, where the database can tell.
        holder: Option<&'a str>,
    },
    /// A migration still runs: said every [`progress_interval`](Runner::progress_interval)
    /// while it does.
    StillRunning {
        /// The migration.
        migration: &'a Migration,
        /// Whether it is being applied or reverted.
        direction: RunDirection,
        /// How long it has run.
        elapsed: Duration,
    },
    /// A migration waited for a table lock for its `lock_timeout`, gave way, and will try
    /// again: said after each such try (see [`Runner::lock_retry`]).
    GaveWay {
        /// The migration.
        migration: &'a Migration,
        /// How many tries gave way so far.
        tries: u32,
        /// How long since its first try started.
        waited: Duration,
        /// The lock timeout of each try.
        timeout: Duration,
        /// The sessions holding table locks in an open transaction older than the timeout:
        /// who keeps it waiting (at most five, a line each), where the database can tell.
        blockers: &'a [String],
    },
    /// A migration is about to run.
    Started {
        /// The migration.
        migration: &'a Migration,
        /// Whether it is being applied or reverted.
        direction: RunDirection,
    },
    /// A migration ran.
    Finished {
        /// The migration and how long it took.
        ran: &'a Ran,
        /// Whether it was applied or reverted.
        direction: RunDirection,
    },
    /// A batch of a backfill committed, with its checkpoint (see
    /// [`Step::backfill`](crate::code::Step::backfill)).
    Batch {
        /// Where the backfill stands.
        progress: &'a crate::code::BatchProgress<'a>,
    },
    /// The run stopped before a background migration, leaving it and the migrations after
    /// it to [`Runner::run_background`].
    Deferred {
        /// The first background migration.
        migration: &'a Migration,
        /// How many migrations wait, that one included.
        waiting: usize,
    },
}

/// What [`Runner::repair`] changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Repair {
    /// Applied migrations whose new checksums were accepted.
    pub accepted: Vec<Drift>,
    /// Failed rows that were cleared, so those migrations are pending again: failures that
    /// were rolled back, so nothing of them is in the database.
    pub cleared: Vec<MigrationRef>,
    /// Rows left as they are: migrations that failed, or never finished, outside a
    /// transaction, and may be partly applied. Only an operator who checked the schema can
    /// settle each, with [`Runner::mark_applied`] or [`Runner::mark_unapplied`].
    pub partly_applied: Vec<MigrationRef>,
}

/// The migrations [`Runner::baseline`] and [`Runner::baseline_from_diesel`] recorded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Baseline {
    /// Recorded as applied without running.
    pub recorded: Vec<MigrationRef>,
}

impl Migrations {
    /// A runner with the default settings, to change some before running.
    #[cfg_attr(
        docsrs,
        doc(cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite")))
    )]
    pub fn runner(&self) -> Runner<'_> {
        Runner {
            migrations: self,
            table: DEFAULT_TABLE.to_owned(),
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            locking: Locking::Session,
            rules: Rules::default(),
            applied_by: None,
            single_transaction: false,
            keep_diesel_table: false,
            heartbeat_lease: DEFAULT_HEARTBEAT_LEASE,
            lock_retry: DEFAULT_LOCK_RETRY,
            stop: None,
            progress_every: DEFAULT_PROGRESS_INTERVAL,
            observer: None,
        }
    }

    /// Applies every pending migration with the default settings; see [`Runner::run_pending`].
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use diesel::{Connection, SqliteConnection};
    ///
    /// static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("../migrations");
    ///
    /// let mut conn = SqliteConnection::establish(":memory:")?;
    /// let report = MIGRATIONS.run_pending(&mut conn)?;
    /// // The example app's last migration is a background backfill: start-up leaves it.
    /// assert_eq!(report.migrations.len() + report.deferred.len(), MIGRATIONS.len());
    /// println!("{report}"); // "12 migrations in 3 ms:", one line each, and what was deferred
    ///
    /// // Usually from a thread of its own, once the app serves.
    /// MIGRATIONS.runner().run_background(&mut conn)?;
    ///
    /// // Everything is applied now: the next start-up is one query and takes no lock.
    /// assert!(MIGRATIONS.run_pending(&mut conn)?.is_empty());
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "sqlite"))]
    /// # fn main() {}
    /// ```
    #[cfg_attr(
        docsrs,
        doc(cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite")))
    )]
    pub fn run_pending<C: MigrationConnection>(&self, conn: &mut C) -> Result<Report, Error> {
        self.runner().run_pending(conn)
    }
}

impl<'m> Runner<'m> {
    /// The migrations this runner applies.
    pub fn migrations(&self) -> &'m Migrations {
        self.migrations
    }

    /// The tracking table (default `waterline_migrations`); `schema.table` is accepted.
    pub fn table(mut self, name: impl Into<String>) -> Self {
        self.table = name.into();
        self
    }

    /// How long to wait for another process's lock (default 60 s).
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// Whether to take the migration lock (default true): [`Locking::Session`] or
    /// [`Locking::Off`]. Without it, a migration is still never run twice (each one's row is
    /// its claim), but replicas that meet stop with [`Error::Claimed`] instead of waiting.
    pub fn locking(self, locking: bool) -> Self {
        let locking = match locking {
            true => Locking::Session,
            false => Locking::Off,
        };
        self.lock_with(locking)
    }

    /// How to keep other processes from migrating at the same time (default
    /// [`Locking::Session`]); behind PgBouncer's transaction pooling use [`Locking::Lease`].
    pub fn lock_with(mut self, locking: Locking) -> Self {
        self.locking = locking;
        self.rules.unlocked = locking == Locking::Off;
        self
    }

    /// Apply pending migrations older than the newest applied one (default false: refuse).
    pub fn allow_out_of_order(mut self, allow: bool) -> Self {
        self.rules.allow_out_of_order = allow;
        self
    }

    /// What a run does when the database records migrations this binary does not embed: a
    /// newer binary applied them, and this one is an old replica restarting during a rolling
    /// deploy, or a rollback. By default ([`Ahead::ExpandOnly`]) it goes on, applying
    /// nothing of theirs, when each of them only adds (an *expand* migration), and refuses,
    /// naming them, when one is a *contract*. `status` and `verify` agree.
    pub fn ahead(mut self, ahead: Ahead) -> Self {
        self.rules.ahead = ahead;
        self
    }

    /// Go on whatever the migrations this binary does not embed are: the same as
    /// [`ahead(Ahead::Allow)`](Self::ahead); `false` restores the default,
    /// [`Ahead::ExpandOnly`].
    pub fn ignore_missing(mut self, ignore: bool) -> Self {
        self.rules.ahead = if ignore {
            Ahead::Allow
        } else {
            Ahead::default()
        };
        self
    }

    /// Apply only up to and including `version`.
    pub fn target(mut self, version: u64) -> Self {
        self.rules.target = Some(version);
        self
    }

    /// Who is recorded as applying (default: the host name and process id).
    pub fn applied_by(mut self, who: impl Into<String>) -> Self {
        self.applied_by = Some(who.into());
        self
    }

    /// Lock-safe DDL (PostgreSQL, MySQL and MariaDB): each try of a migration waits at most
    /// `timeout` for a table lock (PostgreSQL's `lock_timeout`, MySQL's `lock_wait_timeout`
    /// in whole seconds), then gives way: the try is rolled back (or, outside a transaction,
    /// the one statement that timed out did not run), the sessions holding the locks are
    /// named, and it tries again after a pause that grows, with jitter, to 2 s, for at most
    /// `budget` in all. Queries queued behind the migration's lock request then wait at most
    /// `timeout`, not for as long as the longest open transaction. When the budget is spent
    /// the run stops with [`Error::LockRetriesExhausted`] naming the blockers, having applied
    /// and recorded nothing of that migration. Default 500 ms and 5 min; a zero `timeout`
    /// turns it off. A `CREATE INDEX CONCURRENTLY` waits without a timeout: timed out, it
    /// would leave an invalid index behind.
    pub fn lock_retry(mut self, timeout: Duration, budget: Duration) -> Self {
        self.lock_retry = LockRetry { timeout, budget };
        self
    }

    /// Stop cleanly when `stop` is requested (a SIGTERM handler, an orchestrator's shutdown):
    /// the migration in progress finishes and is recorded, the migration lock is released,
    /// and the run ends before the next migration with [`Error::Stopped`], listing what it
    /// applied and what is still pending. A run waiting for the migration lock, or giving
    /// way to table locks, stops waiting. The `migrate` command does this on SIGTERM and
    /// Ctrl-C.
    pub fn stop_on(mut self, stop: &Stop) -> Self {
        self.stop = Some(stop.clone());
        self
    }

    /// Whether a stop was requested of this runner.
    fn stop_requested(&self) -> bool {
        self.stop.as_ref().is_some_and(Stop::is_requested)
    }

    /// The lock-safe DDL setting: [`lock_retry`](Self::lock_retry)'s timeout and budget.
    pub fn current_lock_retry(&self) -> LockRetry {
        self.lock_retry
    }

    /// Keep `__diesel_schema_migrations` in step with the tracking table (default false):
    /// after each run, revert, mark or baseline, it records exactly the embedded migrations
    /// that are applied, so that diesel_cli, or a return to diesel_migrations, sees the
    /// database as it is. For teams moving over while some still run diesel_cli. The table is
    /// created when missing; rows of versions this binary does not embed are left alone.
    pub fn keep_diesel_table(mut self, keep: bool) -> Self {
        self.keep_diesel_table = keep;
        self
    }

    /// How long a run holds a resumable migration (written in Rust, outside a transaction)
    /// without a heartbeat; 60 s by default. Each backfill batch is a heartbeat: should a run
    /// go quiet this long (killed, frozen, or a batch this slow), another run takes the
    /// migration over from its last checkpoint, and the quiet run's next batch is rolled back.
    pub fn heartbeat_lease(mut self, lease: Duration) -> Self {
        self.heartbeat_lease = lease.max(Duration::from_millis(100));
        self
    }

    /// Apply all pending migrations in one transaction with their rows: all or none (default
    /// false: one transaction each). PostgreSQL and SQLite only, and no `no-transaction`
    /// script among them; otherwise the run refuses with [`Error::NotTogether`].
    pub fn single_transaction(mut self, together: bool) -> Self {
        self.single_transaction = together;
        self
    }

    /// How often a run that waits for the lock, or a migration that runs long, says so (to
    /// the [`on_progress`](Self::on_progress) observer, and as a `tracing` event); 10 s by
    /// default.
    pub fn progress_interval(mut self, every: Duration) -> Self {
        self.progress_every = every.max(Duration::from_millis(1));
        self
    }

    /// Calls `observer` before and after each migration runs, for live progress output.
    pub fn on_progress(mut self, observer: impl Fn(Progress<'_>) + Send + Sync + 'm) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }

    /// Applies every pending migration, in version order, each in its own transaction.
    ///
    /// When nothing is pending and every checksum matches, this is one query and takes no
    /// lock. Otherwise it takes the lock, creates the tracking table if missing, reads the
    /// state again, refuses if anything is wrong (see [`Error`]), and applies.
    ///
    /// It stops before the first pending background migration (`// waterline:background`):
    /// that one and every migration after it are left to [`run_background`](Self::run_background),
    /// and listed in [`Report::deferred`]. When that deferral is all there is to do (every
    /// migration before it applied, unchanged, and no run holding it yet), this is the no-op's
    /// one query, without the lock.
    pub fn run_pending<C: MigrationConnection>(&self, conn: &mut C) -> Result<Report, Error> {
        conn.with_driver(|driver| {
            let span = tracing::info_span!(
                "waterline_run",
                backend = ?driver.backend(),
                table = self.table.as_str(),
                outcome = tracing::field::Empty,
            );
            let _entered = span.enter();
            let report = self.run_pending_on(driver);
            let outcome = match &report {
                Ok(report) if report.is_empty() => "nothing to do".to_owned(),
                Ok(report) => format!("applied {}", report.migrations.len()),
                Err(_) => "failed".to_owned(),
            };
            span.record("outcome", outcome.as_str());
            report
        })
    }

    /// Applies everything pending, background migrations included, in version order: what
    /// [`run_pending`](Self::run_pending) defers, for a thread or task the app starts after
    /// start-up, or a `migrate up` run by an operator.
    ///
    /// A background migration runs without the migration lock, so start-ups of other
    /// replicas never wait for it; it is held instead by a row with a heartbeat (see
    /// [`heartbeat_lease`](Self::heartbeat_lease)). Should another replica hold it, this run
    /// waits, and takes it over from its last checkpoint should that replica stop beating.
    /// Migrations after it are applied under the lock once it is done. Stops between batches
    /// when a [stop](Self::stop_on) is requested.
    ///
    /// ```no_run
    /// # #[cfg(feature = "postgres")]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use diesel::{Connection, PgConnection};
    ///
    /// static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("../migrations");
    ///
    /// let url = std::env::var("DATABASE_URL")?;
    /// let mut conn = PgConnection::establish(&url)?;
    /// let report = MIGRATIONS.run_pending(&mut conn)?; // quick: backfills are deferred
    /// if !report.deferred.is_empty() {
    ///     std::thread::spawn(move || {
    ///         let mut conn = PgConnection::establish(&url).expect("a connection");
    ///         if let Err(error) = MIGRATIONS.runner().run_background(&mut conn) {
    ///             eprintln!("background migrations: {error}");
    ///         }
    ///     });
    /// }
    /// // ... serve
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "postgres"))]
    /// # fn main() {}
    /// ```
    pub fn run_background<C: MigrationConnection>(&self, conn: &mut C) -> Result<Report, Error> {
        conn.with_driver(|driver| {
            let span = tracing::info_span!(
                "waterline_background",
                backend = ?driver.backend(),
                table = self.table.as_str(),
            );
            let _entered = span.enter();
            self.run_background_on(driver)
        })
    }

    /// The state of every migration, embedded or recorded. Changes nothing.
    pub fn status<C: MigrationConnection>(&self, conn: &mut C) -> Result<Status, Error> {
        conn.with_driver(|driver| self.status_on(driver))
    }

    /// The exact SQL [`run_pending`](Self::run_pending) would run, in order, or the error it
    /// would refuse with. Changes nothing and takes no lock.
    pub fn plan<C: MigrationConnection>(&self, conn: &mut C) -> Result<Plan, Error> {
        conn.with_driver(|driver| self.plan_on(driver))
    }

    /// Applies the one migration `version`, pending or (with `force`) already applied, whatever
    /// its place in the order. A forced re-run that fails in a transaction leaves the
    /// migration recorded as applied, as it was.
    pub fn apply_version<C: MigrationConnection>(
        &self,
        conn: &mut C,
        version: u64,
        force: bool,
    ) -> Result<Ran, Error> {
        conn.with_driver(|driver| self.apply_version_on(driver, version, force))
    }

    /// Reverts the `steps` newest applied migrations, newest first.
    pub fn revert_steps<C: MigrationConnection>(
        &self,
        conn: &mut C,
        steps: usize,
    ) -> Result<Report, Error> {
        conn.with_driver(|driver| self.revert_steps_on(driver, steps))
    }

    /// Reverts the newest applied migration with its down script.
    pub fn revert_last<C: MigrationConnection>(&self, conn: &mut C) -> Result<Report, Error> {
        conn.with_driver(|driver| self.revert_last_on(driver))
    }

    /// Reverts, newest first, every applied migration, version 0 included.
    pub fn revert_all<C: MigrationConnection>(&self, conn: &mut C) -> Result<Report, Error> {
        conn.with_driver(|driver| self.revert_all_on(driver))
    }

    /// Reverts, newest first, every applied migration newer than `version`, which stays
    /// applied; [`revert_all`](Self::revert_all) reverts everything.
    pub fn revert_to<C: MigrationConnection>(
        &self,
        conn: &mut C,
        version: u64,
    ) -> Result<Report, Error> {
        conn.with_driver(|driver| self.revert_to_on(driver, version))
    }

    /// Records `version` as applied without running it (manual recovery).
    pub fn mark_applied<C: MigrationConnection>(
        &self,
        conn: &mut C,
        version: u64,
    ) -> Result<(), Error> {
        conn.with_driver(|driver| self.mark_applied_on(driver, version))
    }

    /// Removes the row of `version`, so the migration is pending again (manual recovery).
    pub fn mark_unapplied<C: MigrationConnection>(
        &self,
        conn: &mut C,
        version: u64,
    ) -> Result<(), Error> {
        conn.with_driver(|driver| self.mark_unapplied_on(driver, version))
    }

    /// Accepts the embedded checksums of applied migrations whose files changed, and clears
    /// failed rows so those migrations are pending again.
    pub fn repair<C: MigrationConnection>(&self, conn: &mut C) -> Result<Repair, Error> {
        conn.with_driver(|driver| self.repair_on(driver, None, false))
    }

    /// [`repair`](Self::repair) of one migration's row only.
    pub fn repair_version<C: MigrationConnection>(
        &self,
        conn: &mut C,
        version: u64,
    ) -> Result<Repair, Error> {
        conn.with_driver(|driver| self.repair_on(driver, Some(version), false))
    }

    /// What [`repair`](Self::repair) (of every row, or of `version`'s) would do, changing
    /// nothing.
    pub fn plan_repair<C: MigrationConnection>(
        &self,
        conn: &mut C,
        version: Option<u64>,
    ) -> Result<Repair, Error> {
        conn.with_driver(|driver| self.repair_on(driver, version, true))
    }

    /// Records every embedded migration up to and including `version` as applied without
    /// running it: adopts a database whose schema already has them.
    pub fn baseline<C: MigrationConnection>(
        &self,
        conn: &mut C,
        version: u64,
    ) -> Result<Baseline, Error> {
        conn.with_driver(|driver| self.baseline_on(driver, version))
    }

    /// Records as applied every embedded migration that diesel_migrations recorded in
    /// `__diesel_schema_migrations`, to move a database from diesel_migrations to waterline.
    ///
    /// Every run does this on its own when the tracking table has no rows and diesel's table
    /// exists; this is the explicit spelling, which reports what it recorded. A version is
    /// mapped exactly: diesel's `20170831230457` is the migration whose version is written
    /// `2017-08-31-230457` or `20170831230457`. Refuses, recording nothing, with
    /// [`Error::DieselVersionsNotEmbedded`] when diesel's table records a version this binary
    /// does not embed, and with [`Error::NoDieselTable`] when there is no such table.
    pub fn baseline_from_diesel<C: MigrationConnection>(
        &self,
        conn: &mut C,
    ) -> Result<Baseline, Error> {
        conn.with_driver(|driver| self.baseline_from_diesel_on(driver))
    }

    /// The migrations to apply given `records`, or the first reason to refuse.
    fn pending(&self, dialect: &Dialect, records: &[Record]) -> Result<Vec<&'m Migration>, Error> {
        let migrations: &'m [Migration] = self.migrations.as_slice();
        assess::pending(
            migrations,
            dialect.backend(),
            records,
            self.rules,
            dialect.table(),
        )
    }

    /// Runs `work` on `migration` between the observer's two calls.
    fn observed(
        &self,
        migration: &Migration,
        direction: RunDirection,
        work: impl FnOnce() -> Result<Ran, Error>,
    ) -> Result<Ran, Error> {
        if let Some(observer) = &self.observer {
            observer(Progress::Started {
                migration,
                direction,
            });
        }
        let span = tracing::info_span!(
            "waterline_migration",
            version = migration.version(),
            name = migration.name(),
            direction = ?direction,
            outcome = tracing::field::Empty,
        );
        let _entered = span.enter();
        let ran = self.while_it_runs(migration, direction, work);
        span.record("outcome", if ran.is_ok() { "done" } else { "failed" });
        let ran = ran?;
        let verb = match direction {
            RunDirection::Up => "applied migration",
            RunDirection::Down => "reverted migration",
        };
        let duration_ms = ran.duration.as_millis() as u64;
        // An observer (the `migrate` command) shows each migration itself: the event is then
        // a debug one, so that a subscriber does not print every migration a second time.
        match self.observer.is_some() {
            true => tracing::debug!(
                version = ran.version,
                name = ran.name,
                duration_ms,
                "{verb}"
            ),
            false => tracing::info!(
                version = ran.version,
                name = ran.name,
                duration_ms,
                "{verb}"
            ),
        }
        if let Some(observer) = &self.observer {
            observer(Progress::Finished {
                ran: &ran,
                direction,
            });
        }
        Ok(ran)
    }

    /// Runs `work`, and says every `progress_every` while it does that `migration` still
    /// runs: from another thread, as this one waits on the database.
    fn while_it_runs(
        &self,
        migration: &Migration,
        direction: RunDirection,
        work: impl FnOnce() -> Result<Ran, Error>,
    ) -> Result<Ran, Error> {
        use std::sync::mpsc::{channel, RecvTimeoutError};
        if self.observer.is_none() && !tracing::enabled!(tracing::Level::INFO) {
            return work();
        }
        let every = self.progress_every;
        let observer = self.observer.as_deref();
        std::thread::scope(|scope| {
            let (done, finished) = channel::<()>();
            let started = std::time::Instant::now();
            scope.spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = finished.recv_timeout(every) {
                    let elapsed = started.elapsed();
                    tracing::info!(
                        version = migration.version(),
                        name = migration.name(),
                        elapsed_s = elapsed.as_secs(),
                        "migration still running"
                    );
                    if let Some(observer) = observer {
                        observer(Progress::StillRunning {
                            migration,
                            direction,
                            elapsed,
                        });
                    }
                }
            });
            let ran = work();
            drop(done);
            ran
        })
    }

    /// Tells the observer the run waits for the lock.
    fn waiting_for_lock(&self, table: &str, waited: Duration, holder: Option<&str>) {
        if let Some(observer) = &self.observer {
            observer(Progress::WaitingForLock {
                table,
                waited,
                holder,
            });
        }
    }

    fn embedded(&self, version: u64) -> Result<&'m Migration, Error> {
        self.migrations
            .get(version)
            .ok_or_else(|| self.unknown(version))
    }

    fn unknown(&self, version: u64) -> Error {
        let versions: Vec<&str> = self
            .migrations
            .iter()
            .map(Migration::version_text)
            .collect();
        let embedded = match versions.as_slice() {
            [] => "none".to_owned(),
            [only] => (*only).to_owned(),
            [first, .., last] => format!("{first} to {last}"),
        };
        Error::UnknownVersion { version, embedded }
    }

    fn who(&self) -> String {
        self.applied_by.clone().unwrap_or_else(|| {
            let host = gethostname::gethostname().to_string_lossy().into_owned();
            format!("{host} (pid {})", std::process::id())
        })
    }
}

/// How far a revert goes.
#[derive(Clone, Copy)]
enum RevertUntil {
    Count(usize),
    Version(u64),
    All,
}

/// A row for a migration recorded by hand or by a baseline: applied now, nothing ran.
fn manual_record<'m>(ctx: &Context<'_>, migration: &'m Migration) -> NewRecord<'m> {
    let now = ctx.dialect.timestamp_value(&apply::now());
    NewRecord {
        version: migration.version() as i64,
        name: migration.name(),
        checksum: assess::embedded_checksum(migration, ctx.dialect.backend()),
        status: RecordStatus::Applied,
        started_at: now.clone(),
        finished_at: Some(now),
        execution_ms: None,
        error: None,
        applied_by: "",
        transactional: true,
        class: migration.class(),
    }
}

/// A copy of an existing row, to rewrite with one field changed.
fn kept_record<'m>(
    ctx: &Context<'_>,
    record: &'m Record,
    migration: &'m Migration,
) -> NewRecord<'m> {
    NewRecord {
        version: record.version,
        name: migration.name(),
        checksum: record.checksum.clone(),
        status: record.status(),
        started_at: ctx.dialect.timestamp_value(&record.started_at),
        finished_at: record
            .finished_at
            .as_deref()
            .map(|t| ctx.dialect.timestamp_value(t)),
        execution_ms: record.execution_ms,
        error: record.error.clone(),
        applied_by: &record.applied_by,
        transactional: record.transactional != 0,
        class: migration.class(),
    }
}

fn record_baseline(
    driver: &mut dyn Driver,
    ctx: &Context<'_>,
    migrations: &[Migration],
    records: &[Record],
    adopt: impl Fn(&Migration) -> bool,
) -> Result<Baseline, Error> {
    let mut baseline = Baseline::default();
    for migration in migrations.iter().filter(|m| adopt(m)) {
        if records.iter().any(|r| r.version() == migration.version()) {
            continue;
        }
        let record = manual_record(ctx, migration);
        apply::write_record(driver, ctx, &record, false)
            .map_err(|cause| lock::database("record a baseline", ctx.dialect, cause))?;
        baseline.recorded.push(migration_ref(migration));
    }
    Ok(baseline)
}
