//! Batched backfills: a table walked by its key (keyset, never `OFFSET`, which skips rows as
//! they change), each batch committed with its checkpoint in one transaction.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use waterline_core::{Backend, Migration};

use super::{observe, Interrupted, Result};
use crate::runner::{lock_wait, Checkpoint, Driver, Resume, Tries};

/// The default number of keys a batch covers.
pub const DEFAULT_BATCH_SIZE: u64 = 1_000;

/// A batched backfill: which table, walked by which integer key, in batches of how many
/// keys, how gently. Run by [`Step::backfill`](super::Step::backfill).
///
/// ```
/// use std::time::Duration;
/// use waterline::code::Backfill;
///
/// let gentle = Backfill::new("streamers", "id")
///     .only("profile_image IS NULL")
///     .batch_size(1_000)
///     .target_batch_time(Duration::from_millis(50))
///     .pause(Duration::from_millis(10));
/// # let _ = gentle;
/// ```
#[derive(Clone, Debug)]
pub struct Backfill {
    name: Option<String>,
    table: String,
    key: String,
    only: Option<String>,
    batch_size: u64,
    pause: Duration,
    target: Option<Duration>,
}

impl Backfill {
    /// A backfill of `table` (`name` or `schema.name`) walked by `key`, an integer column
    /// whose values are unique, such as the primary key.
    pub fn new(table: &str, key: &str) -> Backfill {
        Backfill {
            name: None,
            table: table.to_owned(),
            key: key.to_owned(),
            only: None,
            batch_size: DEFAULT_BATCH_SIZE,
            pause: Duration::ZERO,
            target: None,
        }
    }

    /// The name its checkpoint is recorded under, unique within the migration; the table's
    /// name by default. Needed only for two backfills of one table in one migration.
    pub fn named(mut self, name: &str) -> Backfill {
        self.name = Some(name.to_owned());
        self
    }

    /// Only the rows matching `condition` (SQL) are counted into batches, so a batch of 1,000
    /// keys holds 1,000 rows still to change when most are done already.
    pub fn only(mut self, condition: &str) -> Backfill {
        self.only = Some(condition.to_owned());
        self
    }

    /// How many keys a batch covers (default [`DEFAULT_BATCH_SIZE`]); with
    /// [`target_batch_time`](Self::target_batch_time), where the size starts.
    pub fn batch_size(mut self, keys: u64) -> Backfill {
        self.batch_size = keys.max(1);
        self
    }

    /// A pause after each batch, to leave a busy table room.
    pub fn pause(mut self, pause: Duration) -> Backfill {
        self.pause = pause;
        self
    }

    /// Adjusts the batch size after each batch (halving or doubling it at most) so that a
    /// batch takes about `target`.
    pub fn target_batch_time(mut self, target: Duration) -> Backfill {
        self.target = Some(target);
        self
    }

    fn name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.table)
    }

    /// The highest key of the next batch: the `size`th key after `after`.
    fn boundary_sql(&self, backend: Backend, after: Option<i64>, size: u64) -> String {
        let key = quote(backend, &self.key);
        format!(
            "SELECT CAST(MAX(waterline_key) AS {}) AS value FROM (SELECT {key} AS waterline_key \
             FROM {} WHERE {} ORDER BY {key} LIMIT {size}) waterline_batch",
            bigint(backend),
            quote(backend, &self.table),
            self.after_condition(backend, after),
        )
    }

    /// How many rows remain after `after`.
    fn remaining_sql(&self, backend: Backend, after: Option<i64>) -> String {
        format!(
            "SELECT CAST(COUNT(*) AS {}) AS value FROM {} WHERE {}",
            bigint(backend),
            quote(backend, &self.table),
            self.after_condition(backend, after),
        )
    }

    fn after_condition(&self, backend: Backend, after: Option<i64>) -> String {
        let key = quote(backend, &self.key);
        let after = match after {
            Some(after) => format!("{key} > {after}"),
            None => format!("{key} IS NOT NULL"),
        };
        match &self.only {
            Some(only) => format!("{after} AND ({only})"),
            None => after,
        }
    }

    /// The next batch size, after one of `size` keys that took `took`.
    fn next_size(&self, size: u64, took: Duration) -> u64 {
        let Some(target) = self.target else {
            return size;
        };
        let ratio = target.as_secs_f64() / took.as_secs_f64().max(1e-6);
        let next = (size as f64 * ratio.clamp(0.5, 2.0)).round() as u64;
        next.clamp(1, self.batch_size.saturating_mul(100))
    }
}

/// One batch of a backfill: the keys in `(after, last]`, inside the transaction that records
/// its checkpoint.
pub struct Batch<'a> {
    driver: &'a mut dyn Driver,
    key: Cow<'a, str>,
    after: Option<i64>,
    last: i64,
    number: u64,
}

impl std::fmt::Debug for Batch<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("after", &self.after)
            .field("last", &self.last)
            .field("number", &self.number)
            .finish()
    }
}

impl Batch<'_> {
    /// The last key of the batch before, or `None` for the first batch.
    pub fn after(&self) -> Option<i64> {
        self.after
    }

    /// The last key of this batch.
    pub fn last(&self) -> i64 {
        self.last
    }

    /// Which batch this is, from 1, counting the batches of earlier runs.
    pub fn number(&self) -> u64 {
        self.number
    }

    /// The batch's keys as a SQL condition, e.g. `"id" > 1000 AND "id" <= 2000`.
    pub fn range(&self) -> String {
        match self.after {
            Some(after) => format!("{0} > {after} AND {0} <= {1}", self.key, self.last),
            None => format!("{} <= {}", self.key, self.last),
        }
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.driver.backend()
    }

    /// Runs one SQL statement in the batch's transaction; returns how many rows it changed.
    pub fn execute(&mut self, sql: &str) -> diesel::QueryResult<usize> {
        self.driver.execute(sql)
    }

    /// The diesel connection, in the batch's transaction; see [`Step::db`](super::Step::db).
    pub fn db(&mut self) -> Option<super::Db<'_>> {
        self.driver.db()
    }
}

/// A backfill's progress after a batch, as the runner's progress events, `tracing` and
/// `status` report it.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct BatchProgress<'a> {
    /// The migration.
    pub migration: &'a Migration,
    /// The backfill's name (its table, unless [named](Backfill::named)).
    pub backfill: &'a str,
    /// Batches done, by every run.
    pub batches: u64,
    /// Rows changed, by every run.
    pub rows_done: u64,
    /// About how many rows there are to do in all, as counted when this run started.
    pub rows_total: u64,
    /// Rows changed by this batch.
    pub batch_rows: u64,
    /// How long this batch took, its commit included.
    pub batch_time: Duration,
    /// The keys the next batch covers.
    pub batch_size: u64,
    /// Rows a second, in this run.
    pub rate: f64,
    /// About how long until done, at this rate.
    pub eta: Option<Duration>,
}

/// What a backfill did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Filled {
    /// Rows changed, by every run.
    pub rows: u64,
    /// Batches, by every run.
    pub batches: u64,
    /// Batches this run did; the rest were done by runs before it.
    pub batches_here: u64,
}

pub(super) fn run(
    driver: &mut dyn Driver,
    migration: &Migration,
    resume: &Resume<'_>,
    backfill: &Backfill,
    each: &mut dyn FnMut(&mut Batch<'_>) -> Result<usize>,
) -> Result<Filled> {
    let backend = driver.backend();
    let name = backfill.name();
    let checkpoint = Checkpoint::new(resume, migration.version(), name);
    let mut state = checkpoint.start(driver)?;
    if state.finished {
        return Ok(Filled {
            rows: state.rows_done,
            batches: state.batches,
            batches_here: 0,
        });
    }
    let remaining = driver
        .scalar(&backfill.remaining_sql(backend, state.last_key))?
        .unwrap_or(0);
    let rows_total = state.rows_done + remaining.max(0) as u64;
    driver.execute(&checkpoint.set_total(rows_total))?;
    if state.batches > 0 {
        tracing::info!(
            version = migration.version(),
            backfill = name,
            after = state.last_key,
            rows_done = state.rows_done,
            "resuming a backfill after its last committed batch"
        );
    }
    let key = quote(backend, &backfill.key);
    resume.bound_lock_waits(driver)?;
    let mut tries = Tries::new(resume.retry);
    let clock = Instant::now();
    let (mut rows_here, mut batches_here) = (0u64, 0u64);
    let mut size = backfill.batch_size;
    loop {
        if resume.stop_requested() {
            return Err(Box::new(Interrupted::Stopped));
        }
        let started = Instant::now();
        let mut done: Option<(i64, u64)> = None;
        let mut failure: Option<Box<dyn std::error::Error + Send + Sync>> = None;
        let rate_so_far = rate(rows_here, clock.elapsed());
        let committed = driver.transaction(&mut |tx| {
            // The heartbeat first: a write, so that on SQLite the transaction takes the write
            // lock at once (waiting its busy timeout) rather than upgrade a read lock, which
            // fails at once when another connection writes.
            if !resume.renew_in(tx, migration.version())? {
                failure = Some(Box::new(Interrupted::TakenOver { holder: None }));
                return Err(diesel::result::Error::RollbackTransaction);
            }
            let boundary = backfill.boundary_sql(backend, state.last_key, size);
            let Some(last) = tx.scalar(&boundary)? else {
                return Ok(());
            };
            let mut batch = Batch {
                driver: tx,
                key: Cow::Borrowed(&key),
                after: state.last_key,
                last,
                number: state.batches + 1,
            };
            let rows = match each(&mut batch) {
                Ok(rows) => rows as u64,
                Err(error) => {
                    failure = Some(error);
                    return Err(diesel::result::Error::RollbackTransaction);
                }
            };
            let advanced = tx.execute(&checkpoint.advance(&state, last, rows, rate_so_far))? == 1;
            if !advanced {
                failure = Some(Box::new(Interrupted::TakenOver { holder: None }));
                return Err(diesel::result::Error::RollbackTransaction);
            }
            crate::runner::fault_pause_batch(migration.version(), false);
            done = Some((last, rows));
            Ok(())
        });
        // Waited too long for rows an application holds: rolled back; give way, try again.
        let timed_out = match (&failure, &committed) {
            (Some(failure), _) => failure
                .downcast_ref::<diesel::result::Error>()
                .is_some_and(lock_wait::timed_out),
            (None, Err(cause)) => lock_wait::timed_out(cause),
            (None, Ok(())) => false,
        };
        if timed_out && resume.retry.is_on(backend) {
            if let Some(pause) = resume.give_way(&mut tries) {
                tracing::info!(
                    version = migration.version(),
                    backfill = name,
                    tries = tries.count(),
                    "a backfill batch gave way to row locks held by others; trying it again"
                );
                resume.pause(pause);
                continue;
            }
        }
        if let Some(failure) = failure {
            return Err(match failure.downcast::<Interrupted>() {
                Ok(interrupted) => match *interrupted {
                    Interrupted::TakenOver { .. } => taken_over(driver, resume, migration),
                    other => Box::new(other),
                },
                Err(other) => other,
            });
        }
        committed?;
        tries = Tries::new(resume.retry);
        let Some((last, rows)) = done else {
            break;
        };
        let took = started.elapsed();
        crate::runner::fault_pause_batch(migration.version(), true);
        state.last_key = Some(last);
        state.batches += 1;
        state.rows_done += rows;
        rows_here += rows;
        batches_here += 1;
        size = backfill.next_size(size, took);
        let rate = rate(rows_here, clock.elapsed());
        let left = rows_total.saturating_sub(state.rows_done);
        let progress = BatchProgress {
            migration,
            backfill: name,
            batches: state.batches,
            rows_done: state.rows_done,
            rows_total: rows_total.max(state.rows_done),
            batch_rows: rows,
            batch_time: took,
            batch_size: size,
            rate,
            eta: (rate > 0.0).then(|| Duration::from_secs_f64(left as f64 / rate)),
        };
        tracing::info!(
            version = migration.version(),
            backfill = name,
            batch = state.batches,
            rows = rows,
            rows_done = state.rows_done,
            rows_total = progress.rows_total,
            rate = rate.round(),
            batch_ms = took.as_millis() as u64,
            "backfill batch committed"
        );
        observe(resume, &progress);
        resume.pause(backfill.pause);
    }
    if driver.execute(&checkpoint.finish(&state))? != 1 {
        return Err(taken_over(driver, resume, migration));
    }
    tracing::info!(
        version = migration.version(),
        backfill = name,
        rows = state.rows_done,
        batches = state.batches,
        "backfill done"
    );
    Ok(Filled {
        rows: state.rows_done,
        batches: state.batches,
        batches_here,
    })
}

/// [`Interrupted::TakenOver`], naming the run that holds `migration` now.
fn taken_over(
    driver: &mut dyn Driver,
    resume: &Resume<'_>,
    migration: &Migration,
) -> Box<dyn std::error::Error + Send + Sync> {
    Box::new(Interrupted::TakenOver {
        holder: resume.holder_of(driver, migration.version()),
    })
}

fn rate(rows: u64, elapsed: Duration) -> f64 {
    match elapsed.as_secs_f64() {
        secs if secs > 0.0 => rows as f64 / secs,
        _ => 0.0,
    }
}

fn bigint(backend: Backend) -> &'static str {
    match backend {
        Backend::Mysql => "SIGNED",
        Backend::Postgres | Backend::Sqlite => "BIGINT",
    }
}

/// `name` (`table` or `schema.table`) quoted for `backend`.
fn quote(backend: Backend, name: &str) -> String {
    let (open, close) = match backend {
        Backend::Mysql => ('`', '`'),
        Backend::Postgres | Backend::Sqlite => ('"', '"'),
    };
    name.split('.')
        .map(|part| {
            let escaped = part.replace(close, &format!("{close}{close}"));
            format!("{open}{escaped}{close}")
        })
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_found_by_key_never_by_offset() {
        let backfill = Backfill::new("app.streamers", "id").only("image IS NULL");
        assert_eq!(
            backfill.boundary_sql(Backend::Postgres, Some(1000), 500),
            "SELECT CAST(MAX(waterline_key) AS BIGINT) AS value FROM (SELECT \"id\" AS \
             waterline_key FROM \"app\".\"streamers\" WHERE \"id\" > 1000 AND (image IS NULL) \
             ORDER BY \"id\" LIMIT 500) waterline_batch"
        );
        assert_eq!(
            backfill.remaining_sql(Backend::Mysql, None),
            "SELECT CAST(COUNT(*) AS SIGNED) AS value FROM `app`.`streamers` WHERE `id` IS NOT \
             NULL AND (image IS NULL)"
        );
    }

    #[test]
    fn a_target_time_halves_or_doubles_the_batch_at_most() {
        let backfill = Backfill::new("t", "id").target_batch_time(Duration::from_millis(100));
        assert_eq!(backfill.next_size(1000, Duration::from_millis(50)), 2000);
        assert_eq!(backfill.next_size(1000, Duration::from_millis(10)), 2000);
        assert_eq!(backfill.next_size(1000, Duration::from_millis(400)), 500);
        assert_eq!(backfill.next_size(1000, Duration::from_millis(125)), 800);
        let fixed = Backfill::new("t", "id");
        assert_eq!(fixed.next_size(1000, Duration::from_secs(9)), 1000);
    }
}
