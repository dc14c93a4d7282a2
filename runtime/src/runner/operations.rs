//! The runner's operations on one connection, through `&mut dyn Driver`. They are compiled
//! once, here, rather than again in the application's crate for its connection type: the
//! public methods generic over the connection are one-line shims.

use waterline_core::{Backend, Migration};

use super::adopt;
use super::apply::{self, Context};
use super::assess::{self, migration_ref, record_ref, Quick};
use super::cause::Transient;
use super::dialect::Dialect;
use super::driver::Driver;
use super::lock::{self, LockGuard, Waiting};
use super::lock_wait::LockRetry;
use super::record::State;
use super::record::{Record, RecordStatus};
use super::session::{self, Session};
use super::table::TableName;
use super::{
    fault, kept_record, manual_record, record_baseline, status, tables, Baseline, Plan,
    PlannedMigration, Progress, Ran, Repair, Report, RevertUntil, RunDirection, Runner, Status,
};
use crate::error::{Drift, Error, MigrationRef};

impl<'m> Runner<'m> {
    /// [`Runner::run_pending`] on `driver`.
    pub(super) fn run_pending_on(&self, driver: &mut dyn Driver) -> Result<Report, Error> {
        let dialect = self.prepare(driver)?;
        if let Some(mut states) = self.read_states(driver, &dialect)? {
            states.sort_unstable_by_key(|state| state.version);
            let embedded = self.migrations.up_checksums(dialect.backend());
            match assess::quick_check(embedded, &states, self.rules) {
                Quick::Nothing => {
                    tracing::debug!(
                        table = dialect.table(),
                        migrations = states.len(),
                        "nothing to do: every migration is applied"
                    );
                    return Ok(Report::default());
                }
                // Deferring takes no lock: what is left to do is `run_background`'s.
                Quick::Defer { from } => {
                    let deferred: Vec<&Migration> = (self.migrations.as_slice().iter())
                        .filter(|m| m.version() >= from && self.rules.reaches(m.version()))
                        .collect();
                    return Ok(Report {
                        deferred: self.defer(&deferred),
                        ..Report::default()
                    });
                }
                Quick::Lock => {}
            }
        }
        let dialect = qualify(driver, dialect)?;
        let mut guard = self.lock(driver, &dialect)?;
        let records = self.read_records(guard.driver(), &dialect, Adoption::OnFirstRun)?;
        let mut pending = self.pending(&dialect, &records)?;
        let session = Session::save(guard.driver())?;
        fault::pause(fault::Point::Locked, 0);
        let mut report = Report {
            migrations: Vec::new(),
            lock_wait: Some(guard.waited()),
            ahead: assess::ahead_of_binary(&records, self.migrations.as_slice()),
            deferred: Vec::new(),
        };
        if let Some(first) = pending.iter().position(|m| m.is_background()) {
            let deferred = pending.split_off(first);
            report.deferred = self.defer(&deferred);
        }
        if !report.ahead.is_empty() {
            let ahead: Vec<String> = report.ahead.iter().map(ToString::to_string).collect();
            tracing::warn!(
                table = dialect.table(),
                migrations = %ahead.join(", "),
                "the database is ahead of this binary: a newer binary applied migrations this \
                 one does not embed; going on, as the runner's `ahead` setting allows"
            );
        }
        let applied_by = self.who();
        let ctx = self.context(&dialect, &applied_by);
        if self.single_transaction {
            guard.renew()?;
            let with_rows: Vec<(&Migration, Option<RecordStatus>)> = pending
                .iter()
                .map(|m| (*m, row_status(&records, m.version())))
                .collect();
            let applied = apply::apply_together(guard.driver(), &ctx, &with_rows);
            let applied = self.keep_diesel_in_step(guard.driver(), &ctx, applied);
            session.restore_if_possible(guard.driver(), dialect.table());
            report.migrations = applied?;
            for ran in &report.migrations {
                if let Some(observer) = &self.observer {
                    observer(Progress::Finished {
                        ran,
                        direction: RunDirection::Up,
                    });
                }
            }
            return Ok(report);
        }
        let applied = self.apply_each(&mut guard, &ctx, &records, &pending, &session, &mut report);
        let applied = self.keep_diesel_in_step(guard.driver(), &ctx, applied);
        applied?;
        session.restore(guard.driver(), dialect.table())?;
        Ok(report)
    }

    /// Says that `deferred`, pending from a background migration on, are left to
    /// [`Runner::run_background`], and lists them for the report.
    fn defer(&self, deferred: &[&Migration]) -> Vec<MigrationRef> {
        let Some(first) = deferred.first() else {
            return Vec::new();
        };
        tracing::info!(
            version = first.version(),
            name = first.name(),
            waiting = deferred.len(),
            "a background migration is pending: it and the migrations after it are left to \
             `run_background`"
        );
        if let Some(observer) = &self.observer {
            observer(Progress::Deferred {
                migration: first,
                waiting: deferred.len(),
            });
        }
        deferred.iter().map(|m| migration_ref(m)).collect()
    }

    /// [`Runner::run_background`] on `driver`: [`run_pending_on`](Self::run_pending_on), then
    /// the first migration it deferred without the lock, until nothing is deferred.
    pub(super) fn run_background_on(&self, driver: &mut dyn Driver) -> Result<Report, Error> {
        let mut done = Report::default();
        loop {
            let report = self.run_pending_on(driver)?;
            done.lock_wait = done.lock_wait.or(report.lock_wait);
            done.ahead = report.ahead;
            done.migrations.extend(report.migrations);
            let Some(next) = report.deferred.first() else {
                return Ok(done);
            };
            let migration = self
                .migrations
                .iter()
                .find(|m| m.version() == next.version)
                .expect("a deferred migration is embedded");
            match self.apply_background(driver, migration) {
                Ok(ran) => done.migrations.push(ran),
                // Another replica runs it: look again, and take it over should it stop.
                Err(Error::HeldElsewhere { holder, lease, .. }) => {
                    tracing::info!(
                        version = migration.version(),
                        holder = holder.as_str(),
                        "a background migration is held by another run; waiting"
                    );
                    let until = std::time::Instant::now() + crate::code::poll_interval(lease);
                    while std::time::Instant::now() < until {
                        if self.stop_requested() {
                            return Err(Error::Stopped {
                                applied: done.migrations,
                                pending: report.deferred,
                            });
                        }
                        std::thread::sleep(std::time::Duration::from_millis(20));
                    }
                }
                Err(Error::Claimed { .. }) => {}
                Err(Error::Stopped { .. }) => {
                    return Err(Error::Stopped {
                        applied: done.migrations,
                        pending: report.deferred,
                    })
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Applies the background `migration` without the migration lock: its hold and its row
    /// keep it from running twice.
    fn apply_background(
        &self,
        driver: &mut dyn Driver,
        migration: &Migration,
    ) -> Result<Ran, Error> {
        let dialect = self.prepare(driver)?;
        let dialect = qualify(driver, dialect)?;
        // SQLite: without the lock, which sets it, wait for other connections' writes.
        let busy = match dialect.backend() {
            Backend::Sqlite => {
                let previous = driver.scalar(dialect.sqlite_busy_timeout()).ok().flatten();
                let wait = dialect.sqlite_set_busy_timeout(self.lock_timeout.as_millis() as i64);
                driver
                    .batch(&wait)
                    .map_err(|cause| lock::database("set the busy timeout", &dialect, cause))?;
                previous.map(|ms| dialect.sqlite_set_busy_timeout(ms))
            }
            Backend::Postgres | Backend::Mysql => None,
        };
        let ran = self.apply_background_on(driver, &dialect, migration);
        if let Some(restore) = busy {
            let _ = driver.batch(&restore);
        }
        ran
    }

    fn apply_background_on(
        &self,
        driver: &mut dyn Driver,
        dialect: &Dialect,
        migration: &Migration,
    ) -> Result<Ran, Error> {
        let dialect = dialect.clone();
        let records = tables::read(driver, &dialect)?;
        let session = Session::save(driver)?;
        let applied_by = self.who();
        let ctx = self.context(&dialect, &applied_by);
        let replacing = row_status(&records, migration.version());
        // Another replica finished it since this run looked: nothing to do here.
        if replacing == Some(RecordStatus::Applied) {
            return Err(Error::Claimed {
                migration: Box::new(migration_ref(migration)),
                table: ctx.table(),
                holder: String::new(),
                status: RecordStatus::Applied.as_str().to_owned(),
            });
        }
        let ran = self.observed(migration, RunDirection::Up, || {
            apply::apply(driver, &ctx, migration, replacing)
        });
        match &ran {
            Ok(_) => session.restore(driver, dialect.table())?,
            Err(_) => session.restore_if_possible(driver, dialect.table()),
        }
        ran
    }

    /// What every write of a run on `dialect` by `applied_by` needs: the runner's settings.
    fn context<'c>(&'c self, dialect: &'c Dialect, applied_by: &'c str) -> Context<'c> {
        Context {
            dialect,
            applied_by,
            retry: self.lock_retry,
            observer: self.observer.as_deref(),
            stop: self.stop.as_ref(),
            code: self.migrations.code(),
            heartbeat_lease: self.heartbeat_lease,
        }
    }

    /// Applies `pending` one by one, each in its own transaction where it can be.
    fn apply_each(
        &self,
        guard: &mut LockGuard<'_>,
        ctx: &Context<'_>,
        records: &[Record],
        pending: &[&Migration],
        session: &Session,
        report: &mut Report,
    ) -> Result<(), Error> {
        let dialect = ctx.dialect;
        // What a stop before `pending[index]` reports: what ran, and that one and the rest.
        let stopped = |report: &Report, index: usize| Error::Stopped {
            applied: report.migrations.clone(),
            pending: pending[index..].iter().map(|m| migration_ref(m)).collect(),
        };
        for (index, &migration) in pending.iter().enumerate() {
            if self.stop_requested() {
                return Err(stopped(report, index));
            }
            guard.renew()?;
            let replacing = row_status(records, migration.version());
            let ran = self.observed(migration, RunDirection::Up, || {
                let ran = apply::apply(guard.driver(), ctx, migration, replacing);
                let script = migration.up().for_backend(dialect.backend());
                match &ran {
                    // The migration's error is the one to report; the connection may be gone.
                    Err(_) => session.restore_if_possible(guard.driver(), dialect.table()),
                    Ok(_) if script.is_some_and(session::may_change) => {
                        session.restore(guard.driver(), dialect.table())?
                    }
                    Ok(_) => {}
                }
                ran
            });
            let ran = match ran {
                // Stopped while giving way to table locks: nothing of this migration applied.
                Err(Error::Stopped { .. }) => return Err(stopped(report, index)),
                ran => ran?,
            };
            report.migrations.push(ran);
        }
        Ok(())
    }

    /// The rows the no-op check reads, or none when they cannot be read (no table yet): the
    /// run then takes the lock and looks again. Waits for another session's lock on the table
    /// at most the lock timeout, then fails with [`Error::TableLocked`].
    fn read_states(
        &self,
        driver: &mut dyn Driver,
        dialect: &Dialect,
    ) -> Result<Option<Vec<State>>, Error> {
        let bounds = dialect.bounded_read(self.lock_timeout.as_millis());
        if let Some((before, _)) = &bounds {
            driver.batch(before).map_err(|cause| {
                lock::database("bound the wait for the tracking table", dialect, cause)
            })?;
        }
        let states = driver.load_states(&dialect.state_selection());
        if let Some((_, after)) = &bounds {
            // A failed read aborted PostgreSQL's transaction: COMMIT then ends it as a rollback.
            driver.batch(after).map_err(|cause| {
                lock::database("bound the wait for the tracking table", dialect, cause)
            })?;
        }
        match states {
            Ok(states) => Ok(Some(states)),
            Err(cause) if Transient::of(&cause) == Some(Transient::LockTimeout) => {
                let holder = dialect
                    .table_lock_holders()
                    .and_then(|sql| driver.texts(&sql).ok())
                    .and_then(|holders| holders.into_iter().flatten().next());
                Err(Error::TableLocked {
                    table: dialect.table().to_owned(),
                    timeout: self.lock_timeout,
                    holder,
                })
            }
            Err(cause) if lock::is_permission_denied(&cause) => {
                Err(lock::database("read the tracking table", dialect, cause))
            }
            Err(_) => Ok(None),
        }
    }

    /// [`Runner::status`] on `driver`.
    pub(super) fn status_on(&self, driver: &mut dyn Driver) -> Result<Status, Error> {
        let dialect = self.prepare(driver)?;
        let records = self.records_or_diesels(driver, &dialect)?;
        let mut status = status::build(
            self.migrations.as_slice(),
            dialect.backend(),
            &records,
            dialect.table(),
        );
        status.missing_ok =
            assess::ahead_is_tolerated(&records, self.migrations.as_slice(), self.rules);
        for line in &mut status.migrations {
            let resumable = self
                .migrations
                .iter()
                .any(|m| m.version() == line.version && m.is_resumable());
            if resumable {
                line.backfill = super::resume::backfill_status(driver, &dialect, line.version);
            }
        }
        Ok(status)
    }

    /// The tracking table's rows; when it has none, the rows the next run will write on
    /// adopting `__diesel_schema_migrations`, so that `status` and `plan` tell what `up`
    /// will do. Changes nothing.
    fn records_or_diesels(
        &self,
        driver: &mut dyn Driver,
        dialect: &Dialect,
    ) -> Result<Vec<Record>, Error> {
        let records = tables::read_if_exists(driver, dialect)?;
        if !records.is_empty() {
            return Ok(records);
        }
        let ctx = Context {
            dialect,
            applied_by: "",
            retry: LockRetry::OFF,
            observer: None,
            stop: None,
            code: &[],
            heartbeat_lease: self.heartbeat_lease,
        };
        let Some(versions) = adopt::recorded(driver, &ctx)? else {
            return Ok(records);
        };
        let backend = dialect.backend();
        Ok(self
            .migrations
            .iter()
            .filter(|m| versions.contains(&adopt::diesel_version(m)))
            .map(|m| Record {
                version: m.version() as i64,
                name: m.name().to_owned(),
                checksum: assess::embedded_checksum(m, backend),
                checksum_algorithm: waterline_core::ALGORITHM.to_owned(),
                status: RecordStatus::Applied.as_str().to_owned(),
                started_at: String::new(),
                finished_at: None,
                execution_ms: None,
                error: None,
                applied_by: "diesel_migrations".to_owned(),
                transactional: 1,
                class: Some(m.class().as_str().to_owned()),
            })
            .collect())
    }

    /// [`Runner::plan`] on `driver`.
    pub(super) fn plan_on(&self, driver: &mut dyn Driver) -> Result<Plan, Error> {
        let dialect = self.prepare(driver)?;
        let records = self.records_or_diesels(driver, &dialect)?;
        let backend = dialect.backend();
        let pending = self.pending(&dialect, &records)?;
        let migrations = pending
            .into_iter()
            .map(|migration| {
                let script = migration
                    .up()
                    .for_backend(backend)
                    .expect("every migration has an up script");
                PlannedMigration {
                    version: migration.version(),
                    version_text: migration.version_text().to_owned(),
                    name: migration.name().to_owned(),
                    file: script.path().to_owned(),
                    transactional: apply::is_transactional(script, backend),
                    statements: match script.is_rust() {
                        true => Vec::new(),
                        false => apply::batches(script, backend)
                            .into_iter()
                            .map(str::to_owned)
                            .collect(),
                    },
                    rust: script.is_rust(),
                    background: migration.is_background(),
                }
            })
            .collect();
        Ok(Plan { migrations })
    }

    /// [`Runner::apply_version`] on `driver`.
    pub(super) fn apply_version_on(
        &self,
        driver: &mut dyn Driver,
        version: u64,
        force: bool,
    ) -> Result<Ran, Error> {
        let migration = self.embedded(version)?;
        self.locked(driver, |driver, ctx, records| {
            let record = records.iter().find(|r| r.version() == version);
            assess::refuse_unfinished(
                record.map(std::slice::from_ref).unwrap_or_default(),
                self.migrations.as_slice(),
                ctx.dialect.table(),
            )?;
            let applied = record.is_some_and(|r| r.status() == RecordStatus::Applied);
            if applied && !force {
                return Err(Error::AlreadyApplied {
                    migration: Box::new(migration_ref(migration)),
                    table: ctx.dialect.table().to_owned(),
                });
            }
            self.observed(migration, RunDirection::Up, || {
                apply::apply(driver, ctx, migration, record.map(Record::status))
            })
        })
    }

    /// [`Runner::revert_steps`] on `driver`.
    pub(super) fn revert_steps_on(
        &self,
        driver: &mut dyn Driver,
        steps: usize,
    ) -> Result<Report, Error> {
        self.revert_on(driver, RevertUntil::Count(steps))
    }

    /// [`Runner::revert_last`] on `driver`.
    pub(super) fn revert_last_on(&self, driver: &mut dyn Driver) -> Result<Report, Error> {
        self.revert_on(driver, RevertUntil::Count(1))
    }

    /// [`Runner::revert_all`] on `driver`.
    pub(super) fn revert_all_on(&self, driver: &mut dyn Driver) -> Result<Report, Error> {
        self.revert_on(driver, RevertUntil::All)
    }

    /// [`Runner::revert_to`] on `driver`.
    pub(super) fn revert_to_on(
        &self,
        driver: &mut dyn Driver,
        version: u64,
    ) -> Result<Report, Error> {
        if version != 0 {
            self.embedded(version)?;
        }
        self.revert_on(driver, RevertUntil::Version(version))
    }

    /// [`Runner::mark_applied`] on `driver`.
    pub(super) fn mark_applied_on(
        &self,
        driver: &mut dyn Driver,
        version: u64,
    ) -> Result<(), Error> {
        let migration = self.embedded(version)?;
        self.locked(driver, |driver, ctx, records| {
            let record = manual_record(ctx, migration);
            let existing = records.iter().any(|r| r.version() == version);
            apply::write_record(driver, ctx, &record, existing).map_err(|cause| {
                lock::database("record a migration as applied", ctx.dialect, cause)
            })
        })
    }

    /// [`Runner::mark_unapplied`] on `driver`.
    pub(super) fn mark_unapplied_on(
        &self,
        driver: &mut dyn Driver,
        version: u64,
    ) -> Result<(), Error> {
        let embedded = self.migrations.get(version);
        self.locked(driver, |driver, ctx, records| {
            let Some(record) = records.iter().find(|r| r.version() == version) else {
                return Err(match embedded {
                    Some(migration) => Error::NotRecorded {
                        migration: Box::new(migration_ref(migration)),
                        table: ctx.dialect.table().to_owned(),
                    },
                    None => self.unknown(version),
                });
            };
            driver
                .batch(&ctx.dialect.delete_record(record.version))
                .map_err(|cause| lock::database("delete a migration's row", ctx.dialect, cause))
        })
    }

    /// [`Runner::repair`] on `driver`.
    pub(super) fn repair_on(
        &self,
        driver: &mut dyn Driver,
        only: Option<u64>,
        dry_run: bool,
    ) -> Result<Repair, Error> {
        if let Some(version) = only {
            self.embedded(version)?;
        }
        let backend_checksum = |migration: &Migration, ctx: &Context<'_>| {
            assess::embedded_checksum(migration, ctx.dialect.backend())
        };
        self.locked(driver, |driver, ctx, records| {
            let mut repair = Repair::default();
            let chosen = records
                .iter()
                .filter(|r| only.is_none_or(|version| r.version() == version));
            for record in chosen {
                let migration = self.migrations.get(record.version());
                let failed =
                    |cause| lock::database("repair the tracking table", ctx.dialect, cause);
                match (record.status(), migration) {
                    // Rolled back: nothing of it is in the database, so clearing it is safe.
                    (RecordStatus::Failed, _) if record.transactional != 0 => {
                        if !dry_run {
                            driver
                                .batch(&ctx.dialect.delete_record(record.version))
                                .map_err(failed)?;
                        }
                        repair.cleared.push(record_ref(record, migration));
                    }
                    // It may be partly applied: only an operator who checked can say which.
                    (RecordStatus::Failed | RecordStatus::Running, _) => {
                        repair.partly_applied.push(record_ref(record, migration));
                    }
                    (RecordStatus::Applied, Some(migration)) => {
                        let embedded = backend_checksum(migration, ctx);
                        if record.checksum != embedded
                            || record.checksum_algorithm != waterline_core::ALGORITHM
                        {
                            let mut updated = kept_record(ctx, record, migration);
                            updated.checksum = embedded.clone();
                            if !dry_run {
                                apply::write_record(driver, ctx, &updated, true).map_err(failed)?;
                            }
                            repair.accepted.push(Drift {
                                migration: migration_ref(migration),
                                stored: record.checksum.clone(),
                                embedded,
                            });
                        }
                    }
                    _ => {}
                }
            }
            Ok(repair)
        })
    }

    /// [`Runner::baseline`] on `driver`.
    pub(super) fn baseline_on(
        &self,
        driver: &mut dyn Driver,
        version: u64,
    ) -> Result<Baseline, Error> {
        self.embedded(version)?;
        self.locked(driver, |driver, ctx, records| {
            let adopt = |m: &Migration| m.version() <= version;
            record_baseline(driver, ctx, self.migrations.as_slice(), records, adopt)
        })
    }

    /// [`Runner::baseline_from_diesel`] on `driver`.
    pub(super) fn baseline_from_diesel_on(
        &self,
        driver: &mut dyn Driver,
    ) -> Result<Baseline, Error> {
        self.locked_with(Adoption::Never, driver, |driver, ctx, records| {
            adopt::adopt(driver, ctx, self.migrations.as_slice(), records)
        })
    }

    /// Reverts applied migrations, newest first, `until` the count or version.
    pub(super) fn revert_on(
        &self,
        driver: &mut dyn Driver,
        until: RevertUntil,
    ) -> Result<Report, Error> {
        self.locked(driver, |driver, ctx, records| {
            assess::refuse_unfinished(records, self.migrations.as_slice(), ctx.dialect.table())?;
            let mut applied: Vec<&Record> = records
                .iter()
                .filter(|r| r.status() == RecordStatus::Applied)
                .collect();
            applied.sort_by_key(|r| std::cmp::Reverse(r.version));
            let chosen: Vec<&Record> = match until {
                RevertUntil::Count(count) => applied.into_iter().take(count).collect(),
                RevertUntil::Version(version) => applied
                    .into_iter()
                    .filter(|r| r.version() > version)
                    .collect(),
                RevertUntil::All => applied,
            };
            let mut report = Report::default();
            for record in chosen {
                let Some(migration) = self.migrations.get(record.version()) else {
                    let missing = vec![record_ref(record, None)];
                    return Err(Error::MissingFromBinary {
                        missing,
                        contract: Vec::new(),
                        table: ctx.dialect.table().to_owned(),
                    });
                };
                assess::refuse_drift(
                    std::slice::from_ref(record),
                    self.migrations.as_slice(),
                    ctx.dialect.backend(),
                    ctx.dialect.table(),
                )?;
                if self.stop_requested() {
                    return Err(Error::Stopped {
                        applied: report.migrations,
                        pending: Vec::new(),
                    });
                }
                let ran = self.observed(migration, RunDirection::Down, || {
                    apply::revert(driver, ctx, migration, record)
                })?;
                report.migrations.push(ran);
            }
            Ok(report)
        })
    }

    /// Checks the settings and the connection; returns the SQL dialect to use.
    fn prepare(&self, driver: &mut dyn Driver) -> Result<Dialect, Error> {
        let table = TableName::parse(&self.table)?;
        if let Some(target) = self.rules.target {
            self.embedded(target)?;
        }
        self.migrations.check_embed_is_current()?;
        if driver.in_transaction() {
            return Err(Error::InTransaction);
        }
        Ok(Dialect::new(driver.backend(), &table))
    }

    /// Takes the lock and makes sure the tracking table exists.
    fn lock<'d>(
        &self,
        driver: &'d mut dyn Driver,
        dialect: &Dialect,
    ) -> Result<LockGuard<'d>, Error> {
        let holder = self.who();
        let table = dialect.table();
        let notify = |waited, by: Option<&str>| self.waiting_for_lock(table, waited, by);
        let stopped = || self.stop_requested();
        let waiting = Waiting {
            timeout: self.lock_timeout,
            every: self.progress_every,
            notify: &notify,
            stopped: &stopped,
        };
        let mut guard = LockGuard::acquire(driver, dialect, &waiting, self.locking, &holder)?;
        tables::ensure(guard.driver(), dialect)?;
        Ok(guard)
    }

    /// The tracking rows, read under the lock. With `adopt`, an empty table beside
    /// `__diesel_schema_migrations` first adopts what diesel_migrations recorded, and is read
    /// again: the one case that costs a second read.
    fn read_records(
        &self,
        driver: &mut dyn Driver,
        dialect: &Dialect,
        adopt: Adoption,
    ) -> Result<Vec<Record>, Error> {
        let records = tables::read(driver, dialect)?;
        if adopt == Adoption::Never || !records.is_empty() {
            return Ok(records);
        }
        match self.adopt_on_first_run(driver, dialect)? {
            true => tables::read(driver, dialect),
            false => Ok(records),
        }
    }

    /// On a tracking table with no rows beside an existing `__diesel_schema_migrations`,
    /// records as applied what diesel_migrations applied, so that the first run of a database
    /// diesel migrated runs only what is new to it.
    /// Whether it adopted anything; called on an empty tracking table.
    fn adopt_on_first_run(
        &self,
        driver: &mut dyn Driver,
        dialect: &Dialect,
    ) -> Result<bool, Error> {
        let applied_by = self.who();
        let ctx = self.context(dialect, &applied_by);
        if adopt::recorded(driver, &ctx)?.is_none() {
            return Ok(false);
        }
        let adopted = adopt::adopt(driver, &ctx, self.migrations.as_slice(), &[])?;
        tracing::info!(
            table = dialect.table(),
            migrations = adopted.recorded.len(),
            "adopted the migrations `__diesel_schema_migrations` records as applied"
        );
        Ok(!adopted.recorded.is_empty())
    }

    /// With [`Runner::keep_diesel_table`], makes `__diesel_schema_migrations` agree with the
    /// tracking table after `done`; the error of `done`, if any, is the one returned.
    fn keep_diesel_in_step<T>(
        &self,
        driver: &mut dyn Driver,
        ctx: &Context<'_>,
        done: Result<T, Error>,
    ) -> Result<T, Error> {
        if !self.keep_diesel_table {
            return done;
        }
        let synced = tables::read(driver, ctx.dialect).and_then(|records| {
            adopt::keep_in_step(driver, ctx, self.migrations.as_slice(), &records)
        });
        match (done, synced) {
            (Ok(value), Ok(())) => Ok(value),
            (Ok(_), Err(error)) | (Err(error), _) => Err(error),
        }
    }

    /// Runs `work` under the lock with the tracking rows read under it.
    fn locked<T>(
        &self,
        driver: &mut dyn Driver,
        work: impl FnOnce(&mut dyn Driver, &Context<'_>, &[Record]) -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.locked_with(Adoption::OnFirstRun, driver, work)
    }

    /// [`locked`](Self::locked), adopting diesel's records first or not.
    fn locked_with<T>(
        &self,
        adopt: Adoption,
        driver: &mut dyn Driver,
        work: impl FnOnce(&mut dyn Driver, &Context<'_>, &[Record]) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let dialect = self.prepare(driver)?;
        let dialect = qualify(driver, dialect)?;
        let mut guard = self.lock(driver, &dialect)?;
        let records = self.read_records(guard.driver(), &dialect, adopt)?;
        let session = Session::save(guard.driver())?;
        let applied_by = self.who();
        let ctx = self.context(&dialect, &applied_by);
        let done = work(guard.driver(), &ctx, &records);
        let done = self.keep_diesel_in_step(guard.driver(), &ctx, done);
        match done {
            Ok(_) => session.restore(guard.driver(), dialect.table())?,
            Err(_) => session.restore_if_possible(guard.driver(), dialect.table()),
        }
        done
    }
}

/// Whether taking the lock adopts what diesel_migrations recorded.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Adoption {
    /// When the tracking table has no rows and `__diesel_schema_migrations` exists.
    OnFirstRun,
    /// Never: the caller adopts, and reports what it recorded.
    Never,
}

/// The status of the row of `version`, if it has one.
fn row_status(records: &[Record], version: u64) -> Option<RecordStatus> {
    records
        .iter()
        .find(|r| r.version() == version)
        .map(Record::status)
}

/// `dialect` with the tracking table named in the schema (MySQL: database) the server
/// resolves it in now, before any migration runs: a `search_path` or `USE` a migration sets
/// cannot point the runner at another table.
fn qualify(driver: &mut dyn Driver, dialect: Dialect) -> Result<Dialect, Error> {
    let Some(sql) = dialect.resolve_schema().filter(|_| !dialect.is_qualified()) else {
        return Ok(dialect);
    };
    let resolved = driver.texts(&sql).map_err(|cause| {
        lock::database("find the schema of the tracking table", &dialect, cause)
    })?;
    match resolved.into_iter().flatten().next() {
        Some(schema) => Ok(dialect.qualified(&schema)),
        // No schema to create it in (an empty search_path, no database selected): the error
        // comes from creating it, as it would have.
        None => Ok(dialect),
    }
}
