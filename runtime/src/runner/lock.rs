//! The migration lock: one process migrates at a time. PostgreSQL: a session advisory lock
//! taken by polling `pg_try_advisory_lock`, never a blocking call, so a waiting replica cannot
//! hold up a `CREATE INDEX CONCURRENTLY`. MySQL/MariaDB: `GET_LOCK`, polled the same way, its
//! result checked. SQLite: an exclusive lock on the database file that outlasts transactions
//! (`locking_mode = EXCLUSIVE`), waited for with the busy timeout. The guard releases the lock
//! when dropped: on success, on error and on panic.

use std::time::{Duration, Instant};

use waterline_core::Backend;

use super::dialect::Dialect;
use super::driver::Driver;
use crate::error::Error;

/// The longest pause between two tries of a held lock.
const MAX_PAUSE: Duration = Duration::from_millis(250);

/// Holds the migration lock (or stands in for it with locking off) until dropped.
pub struct LockGuard<'a> {
    driver: &'a mut dyn Driver,
    release: Option<String>,
    waited: Duration,
}

impl<'a> LockGuard<'a> {
    /// Takes the lock, waiting up to `timeout`; with `enabled` false, takes nothing.
    pub fn acquire(
        driver: &'a mut dyn Driver,
        dialect: &Dialect,
        timeout: Duration,
        enabled: bool,
    ) -> Result<LockGuard<'a>, Error> {
        let start = Instant::now();
        let release = match (enabled, dialect.backend()) {
            (false, _) => None,
            (true, Backend::Sqlite) => Some(lock_sqlite(driver, dialect, timeout)?),
            (true, Backend::Postgres | Backend::Mysql) => Some(poll(driver, dialect, timeout)?),
        };
        let waited = start.elapsed();
        if enabled {
            tracing::debug!(
                table = dialect.table(),
                waited_ms = waited.as_millis() as u64,
                "took the migration lock"
            );
        }
        Ok(LockGuard {
            driver,
            release,
            waited,
        })
    }

    /// The connection, while the lock is held.
    pub fn driver(&mut self) -> &mut dyn Driver {
        self.driver
    }

    /// How long taking the lock took.
    pub fn waited(&self) -> Duration {
        self.waited
    }
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        if let Some(release) = self.release.take() {
            if let Err(error) = self.driver.batch(&release) {
                // The server frees a session's locks when its connection closes.
                tracing::warn!(%error, "could not release the migration lock; it is freed when the connection closes");
            }
        }
    }
}

fn poll(driver: &mut dyn Driver, dialect: &Dialect, timeout: Duration) -> Result<String, Error> {
    let try_lock = dialect.try_lock().expect("server backends lock by polling");
    let start = Instant::now();
    let mut pause = Duration::from_millis(5);
    loop {
        match driver.scalar(&try_lock) {
            Ok(Some(1)) => return Ok(dialect.unlock()),
            Ok(_) => {}
            Err(cause) => return Err(database("take the migration lock", dialect, cause)),
        }
        let waited = start.elapsed();
        if waited >= timeout {
            let holder = dialect
                .lock_holder()
                .and_then(|sql| driver.texts(&sql).ok())
                .and_then(|holders| holders.into_iter().flatten().next());
            return Err(Error::LockTimeout {
                table: dialect.table().to_owned(),
                timeout,
                holder,
            });
        }
        std::thread::sleep(pause.min(timeout - waited));
        pause = (pause * 2).min(MAX_PAUSE);
    }
}

/// Returns the SQL that releases the lock and restores the connection's busy timeout.
fn lock_sqlite(
    driver: &mut dyn Driver,
    dialect: &Dialect,
    timeout: Duration,
) -> Result<String, Error> {
    let previous = driver
        .scalar(dialect.sqlite_busy_timeout())
        .ok()
        .flatten()
        .unwrap_or(0);
    let release = format!(
        "{} {}",
        dialect.unlock(),
        dialect.sqlite_set_busy_timeout(previous)
    );
    match driver.batch(&dialect.sqlite_lock(timeout.as_millis())) {
        Ok(()) => Ok(release),
        Err(cause) => {
            let _ = driver.batch(&release);
            let busy = cause.to_string().contains("locked") || cause.to_string().contains("busy");
            match busy {
                true => {
                    let table = dialect.table().to_owned();
                    Err(Error::LockTimeout {
                        table,
                        timeout,
                        holder: None,
                    })
                }
                false => Err(database("take the migration lock", dialect, cause)),
            }
        }
    }
}

/// A database error while doing `operation`.
pub fn database(operation: &'static str, dialect: &Dialect, cause: diesel::result::Error) -> Error {
    Error::Database {
        operation,
        table: dialect.table().to_owned(),
        message: cause.to_string(),
        cause: Box::new(cause),
    }
}
