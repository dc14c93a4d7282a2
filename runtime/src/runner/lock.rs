//! The migration lock: one process migrates at a time.
//!
//! - **Session** (the default). PostgreSQL: a session advisory lock taken by polling
//!   `pg_try_advisory_lock`, never a blocking call, so a waiting replica cannot hold up a
//!   `CREATE INDEX CONCURRENTLY`. MySQL/MariaDB: `GET_LOCK`, polled the same way. SQLite: an
//!   exclusive lock on the database file that outlasts transactions (`locking_mode =
//!   EXCLUSIVE`), waited for with the busy timeout. Released when the guard drops; a release
//!   that finds the lock not held (a proxy moved the session, a script released it) is
//!   reported, not ignored.
//! - **Lease**: a row in `<table>_lock` naming the holder, with a secret token and an end
//!   time by the server's clock, taken and renewed by single statements, so it holds through
//!   PgBouncer's transaction pooling where session locks and session state do not. Renewed
//!   before each migration; a holder that dies leaves it to end by itself.
//! - **Off**: no lock. Exactly once still holds, as each migration's row is its claim (see
//!   [`apply`](super::apply)): a process that meets another's claim stops.

use std::time::{Duration, Instant};

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use waterline_core::Backend;

use super::dialect::Dialect;
use super::driver::Driver;
use super::Locking;
use crate::error::Error;

/// The longest pause between two tries of a held lock.
const MAX_PAUSE: Duration = Duration::from_millis(250);

/// Holds the migration lock (or stands in for it with locking off) until dropped.
pub struct LockGuard<'a> {
    driver: &'a mut dyn Driver,
    held: Option<Held>,
    table: String,
    waited: Duration,
}

/// What this process holds, and how to let it go.
enum Held {
    /// A session lock; the SQL releases it, and on a server says whether it was held.
    Session { release: String, checked: bool },
    /// A lease: its token, its length, and the SQL that renews, checks and ends it.
    Lease {
        lease: Duration,
        renew: String,
        check: String,
        release: String,
    },
}

impl<'a> LockGuard<'a> {
    /// Takes the lock as `locking` says, waiting up to `timeout`; `holder` names this process
    /// in a lease.
    pub fn acquire(
        driver: &'a mut dyn Driver,
        dialect: &Dialect,
        timeout: Duration,
        locking: Locking,
        holder: &str,
    ) -> Result<LockGuard<'a>, Error> {
        let start = Instant::now();
        let held = match (locking, dialect.backend()) {
            (Locking::Off, _) => None,
            (Locking::Lease(lease), _) => {
                Some(take_lease(driver, dialect, timeout, lease, holder)?)
            }
            (Locking::Session, Backend::Sqlite) => Some(Held::Session {
                release: lock_sqlite(driver, dialect, timeout)?,
                checked: false,
            }),
            (Locking::Session, Backend::Postgres | Backend::Mysql) => Some(Held::Session {
                release: poll(driver, dialect, timeout)?,
                checked: true,
            }),
        };
        let waited = start.elapsed();
        if held.is_some() {
            tracing::debug!(
                table = dialect.table(),
                waited_ms = waited.as_millis() as u64,
                "took the migration lock"
            );
        }
        Ok(LockGuard {
            driver,
            held,
            table: dialect.table().to_owned(),
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

    /// Before a migration: extends a lease, or stops the run if it ended and another process
    /// may hold it now. Session locks need nothing.
    pub fn renew(&mut self) -> Result<(), Error> {
        let Some(Held::Lease {
            lease,
            renew,
            check,
            ..
        }) = &self.held
        else {
            return Ok(());
        };
        let renewed = self.driver.batch(renew);
        let holds = renewed.and_then(|()| self.driver.scalar(check));
        match holds {
            Ok(Some(1)) => Ok(()),
            Ok(_) => Err(Error::LockLost {
                table: self.table.clone(),
                lease: *lease,
            }),
            Err(cause) => Err(Error::Database {
                operation: "renew the migration lease",
                table: self.table.clone(),
                message: cause.to_string(),
                cause: Box::new(cause),
            }),
        }
    }
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        let table = &self.table;
        match self.held.take() {
            None => {}
            Some(Held::Session { release, checked }) => {
                let released = match checked {
                    true => self.driver.scalar(&release).map(|held| held == Some(1)),
                    false => self.driver.batch(&release).map(|()| true),
                };
                match released {
                    Ok(true) => {}
                    Ok(false) => tracing::error!(
                        table = table.as_str(),
                        "the migration lock was not held when this run released it: a migration \
                         released it, or the connection goes through a proxy that pools \
                         transactions (PgBouncer's transaction mode), where session locks do not \
                         work; use the lease lock there"
                    ),
                    // The server frees a session's locks when its connection closes.
                    Err(error) => tracing::warn!(
                        %error,
                        "could not release the migration lock; it is freed when the connection closes"
                    ),
                }
            }
            Some(Held::Lease { release, .. }) => {
                if let Err(error) = self.driver.batch(&release) {
                    tracing::warn!(
                        table = table.as_str(),
                        %error,
                        "could not end the migration lease; it ends by itself when it runs out"
                    );
                }
            }
        }
    }
}

fn poll(driver: &mut dyn Driver, dialect: &Dialect, timeout: Duration) -> Result<String, Error> {
    let try_lock = dialect.try_lock().expect("server backends lock by polling");
    wait(timeout, dialect, || match driver.scalar(&try_lock) {
        Ok(Some(1)) => Ok(true),
        Ok(_) => Ok(false),
        Err(cause) => Err(database("take the migration lock", dialect, cause)),
    })
    .map_err(|error| with_holder(error, driver, dialect.lock_holder()))?;
    Ok(dialect.unlock())
}

/// Tries `take` until it answers true, pausing longer each time, for up to `timeout`.
fn wait(
    timeout: Duration,
    dialect: &Dialect,
    mut take: impl FnMut() -> Result<bool, Error>,
) -> Result<(), Error> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(5);
    loop {
        if take()? {
            return Ok(());
        }
        let waited = start.elapsed();
        if waited >= timeout {
            return Err(Error::LockTimeout {
                table: dialect.table().to_owned(),
                timeout,
                holder: None,
            });
        }
        std::thread::sleep(pause.min(timeout - waited));
        pause = (pause * 2).min(MAX_PAUSE);
    }
}

/// A lock timeout, told who holds the lock where the database can say.
fn with_holder(error: Error, driver: &mut dyn Driver, holder_sql: Option<String>) -> Error {
    match error {
        Error::LockTimeout {
            table,
            timeout,
            holder: None,
        } => Error::LockTimeout {
            table,
            timeout,
            holder: holder_sql
                .and_then(|sql| driver.texts(&sql).ok())
                .and_then(|holders| holders.into_iter().flatten().next()),
        },
        other => other,
    }
}

/// Takes the lease: creates its table when missing, then tries until no other process holds
/// an unexpired lease.
fn take_lease(
    driver: &mut dyn Driver,
    dialect: &Dialect,
    timeout: Duration,
    lease: Duration,
    holder: &str,
) -> Result<Held, Error> {
    let create = dialect.create_lease_table();
    let mut created = driver.batch(&create);
    for _ in 0..4 {
        match &created {
            Err(cause) if super::tables::lost_a_creation_race(cause) => {
                created = driver.batch(&create)
            }
            _ => break,
        }
    }
    created.map_err(|cause| database("create the lease table", dialect, cause))?;
    let token = token();
    let lease_ms = lease.as_millis().max(1);
    let take = dialect.take_lease(holder, &token, lease_ms);
    wait(timeout, dialect, || match driver.batch(&take) {
        Ok(()) => Ok(true),
        Err(cause) if is_duplicate(&cause) => Ok(false),
        Err(cause) => Err(database("take the migration lease", dialect, cause)),
    })
    .map_err(|error| with_holder(error, driver, Some(dialect.lease_holder())))?;
    Ok(Held::Lease {
        lease,
        renew: dialect.renew_lease(&token, lease_ms),
        check: dialect.holds_lease(&token),
        release: dialect.release_lease(&token),
    })
}

/// Whether `cause` is a unique key violation, on any backend's wording.
fn is_duplicate(cause: &DieselError) -> bool {
    let text = cause.to_string();
    matches!(
        cause,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
    ) || text.contains("Duplicate entry")
        || text.contains("duplicate key")
        || text.contains("UNIQUE constraint failed")
}

/// A token no other process will have: 128 bits from two randomly seeded hashers, over the
/// time and the process id.
fn token() -> String {
    use std::hash::BuildHasher;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let seed = (nanos, std::process::id());
    let first = std::collections::hash_map::RandomState::new().hash_one(seed);
    let second = std::collections::hash_map::RandomState::new().hash_one((seed, first));
    format!("{first:016x}{second:016x}")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_differ_and_need_no_quoting() {
        let (a, b) = (token(), token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert_eq!(super::super::dialect::lease_text(&a), a);
    }
}
