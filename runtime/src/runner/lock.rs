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
    /// SQLite: a lock on a file beside the database, freed by the system when the process
    /// ends; the SQL puts the connection's busy timeout back.
    File {
        _file: std::fs::File,
        release: String,
    },
    /// A lease: its token, its length, and the SQL that renews, checks and ends it.
    Lease {
        lease: Duration,
        renew: String,
        check: String,
        release: String,
    },
}

impl<'a> LockGuard<'a> {
    /// Takes the lock as `locking` says, waiting as `waiting` says; `holder` names this
    /// process in a lease.
    pub fn acquire(
        driver: &'a mut dyn Driver,
        dialect: &Dialect,
        waiting: &Waiting<'_>,
        locking: Locking,
        holder: &str,
    ) -> Result<LockGuard<'a>, Error> {
        let start = Instant::now();
        let held = match (locking, dialect.backend()) {
            (Locking::Off, _) => None,
            (Locking::Lease(lease), _) => {
                Some(take_lease(driver, dialect, waiting, lease, holder)?)
            }
            (Locking::Session, Backend::Sqlite) => Some(lock_sqlite(driver, dialect, waiting)?),
            (Locking::Session, Backend::Postgres | Backend::Mysql) => Some(Held::Session {
                release: poll(driver, dialect, waiting)?,
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
            Some(Held::File { _file, release }) => {
                if let Err(error) = self.driver.batch(&release) {
                    tracing::warn!(%error, "could not put the connection's busy timeout back");
                }
                // Dropping the file releases its lock.
                drop(_file);
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

fn poll(
    driver: &mut dyn Driver,
    dialect: &Dialect,
    waiting: &Waiting<'_>,
) -> Result<String, Error> {
    let try_lock = dialect.try_lock().expect("server backends lock by polling");
    let holder = dialect.lock_holder();
    wait(driver, dialect, waiting, holder, |driver| {
        match driver.scalar(&try_lock) {
            Ok(Some(1)) => Ok(true),
            Ok(_) => Ok(false),
            Err(cause) => Err(database("take the migration lock", dialect, cause)),
        }
    })?;
    Ok(dialect.unlock())
}

/// How long to wait for the lock, and whom to tell while waiting.
pub struct Waiting<'a> {
    /// The longest wait.
    pub timeout: Duration,
    /// How often to say the run still waits.
    pub every: Duration,
    /// Told, when the run starts waiting and then every `every`, how long it has waited and
    /// who holds the lock where the database can tell.
    pub notify: &'a dyn Fn(Duration, Option<&str>),
    /// Asked, between tries, whether to stop waiting ([`Runner::stop_on`](crate::Runner::stop_on)).
    pub stopped: &'a dyn Fn() -> bool,
}

/// Tries `take` until it answers true, pausing longer each time, for up to the timeout;
/// says so when it starts waiting and every so often, naming the holder (`holder_sql`).
fn wait(
    driver: &mut dyn Driver,
    dialect: &Dialect,
    waiting: &Waiting<'_>,
    holder_sql: Option<String>,
    mut take: impl FnMut(&mut dyn Driver) -> Result<bool, Error>,
) -> Result<(), Error> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(5);
    let mut next_notice = Duration::ZERO;
    let holder = |driver: &mut dyn Driver| {
        holder_sql
            .as_ref()
            .and_then(|sql| driver.texts(sql).ok())
            .and_then(|holders| holders.into_iter().flatten().next())
    };
    loop {
        if take(driver)? {
            return Ok(());
        }
        if (waiting.stopped)() {
            return Err(Error::Stopped {
                applied: Vec::new(),
                pending: Vec::new(),
            });
        }
        let waited = start.elapsed();
        if waited >= waiting.timeout {
            return Err(Error::LockTimeout {
                table: dialect.table().to_owned(),
                timeout: waiting.timeout,
                holder: holder(driver),
            });
        }
        if waited >= next_notice {
            let holder = holder(driver);
            tracing::info!(
                table = dialect.table(),
                waited_ms = waited.as_millis() as u64,
                holder = holder.as_deref().unwrap_or("unknown"),
                "waiting for the migration lock"
            );
            (waiting.notify)(waited, holder.as_deref());
            next_notice = waited + waiting.every;
        }
        std::thread::sleep(pause.min(waiting.timeout - waited));
        pause = (pause * 2).min(MAX_PAUSE);
    }
}

/// Takes the lease: creates its table when missing, then tries until no other process holds
/// an unexpired lease.
fn take_lease(
    driver: &mut dyn Driver,
    dialect: &Dialect,
    waiting: &Waiting<'_>,
    lease: Duration,
    holder: &str,
) -> Result<Held, Error> {
    let create = dialect.create_lease_table();
    // Once the winner of a race has committed, `IF NOT EXISTS` succeeds: no probe is needed.
    super::tables::create_racing(driver, &mut |driver| driver.batch(&create), &mut |_| false)
        .map_err(|cause| database("create the lease table", dialect, cause))?;
    let token = token();
    let lease_ms = lease.as_millis().max(1);
    let take = dialect.take_lease(holder, &token, lease_ms);
    let holder = Some(dialect.lease_holder());
    wait(driver, dialect, waiting, holder, |driver| {
        match driver.batch(&take) {
            Ok(()) => Ok(true),
            Err(cause) if is_duplicate(&cause) => Ok(false),
            Err(cause) => Err(database("take the migration lease", dialect, cause)),
        }
    })?;
    Ok(Held::Lease {
        lease,
        renew: dialect.renew_lease(&token, lease_ms),
        check: dialect.holds_lease(&token),
        release: dialect.release_lease(&token),
    })
}

/// Whether `cause` is a unique key violation, on any backend's wording.
pub fn is_duplicate(cause: &DieselError) -> bool {
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
pub fn token() -> String {
    use std::hash::BuildHasher;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let seed = (nanos, std::process::id());
    let first = std::collections::hash_map::RandomState::new().hash_one(seed);
    let second = std::collections::hash_map::RandomState::new().hash_one((seed, first));
    format!("{first:016x}{second:016x}")
}

/// SQLite: locks `<database file>.waterline-lock`, a file beside the database, waiting up
/// to `timeout`, and sets the connection's busy timeout to `timeout` while it is held, so the
/// run's statements wait for other connections' reads and writes instead of failing. The
/// system frees the lock when the process ends, however it ends, and it works whatever the
/// journal mode (WAL included). A database with no file (in memory) is this connection's
/// alone: it needs no lock. Where the file cannot be created (a read-only folder), the
/// database file's own exclusive lock is used, as in rollback-journal mode.
fn lock_sqlite(
    driver: &mut dyn Driver,
    dialect: &Dialect,
    waiting: &Waiting<'_>,
) -> Result<Held, Error> {
    let timeout = waiting.timeout;
    let previous = driver
        .scalar(dialect.sqlite_busy_timeout())
        .ok()
        .flatten()
        .unwrap_or(0);
    let restore = dialect.sqlite_set_busy_timeout(previous);
    // Every statement from here waits for other connections, up to the lock timeout.
    driver
        .batch(&dialect.sqlite_set_busy_timeout(timeout.as_millis() as i64))
        .map_err(|cause| database("set the busy timeout", dialect, cause))?;
    let path = driver
        .texts("SELECT file AS value FROM pragma_database_list WHERE name = 'main'")
        .map_err(|cause| database("find the database file", dialect, cause))?
        .into_iter()
        .flatten()
        .next()
        .unwrap_or_default();
    let file = match path.is_empty() {
        true => None,
        false => {
            let lock_path = format!("{path}.waterline-lock");
            std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&lock_path)
                .inspect_err(|error| {
                    tracing::warn!(%error, path = lock_path.as_str(), "could not open the lock file; locking the database file instead")
                })
                .ok()
        }
    };
    let Some(file) = file else {
        let release = lock_database_file(driver, dialect, timeout, &restore)?;
        return Ok(Held::Session {
            release,
            checked: false,
        });
    };
    wait(driver, dialect, waiting, None, |_| match file.try_lock() {
        Ok(()) => Ok(true),
        Err(std::fs::TryLockError::WouldBlock) => Ok(false),
        Err(std::fs::TryLockError::Error(error)) => Err(Error::Database {
            operation: "lock the database's lock file",
            table: dialect.table().to_owned(),
            message: error.to_string(),
            cause: Box::new(diesel::result::Error::NotFound),
        }),
    })
    .inspect_err(|_| {
        let _ = driver.batch(&restore);
    })?;
    Ok(Held::File {
        _file: file,
        release: restore,
    })
}

/// SQLite without a lock file: an exclusive lock on the database file that outlasts the
/// per-migration transactions. Returns the SQL that releases it and restores the busy timeout.
fn lock_database_file(
    driver: &mut dyn Driver,
    dialect: &Dialect,
    timeout: Duration,
    restore: &str,
) -> Result<String, Error> {
    let release = format!("{} {restore}", dialect.unlock());
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

/// A database error while doing `operation`; a refusal for lack of a privilege names the
/// privilege the operation needs.
pub fn database(operation: &'static str, dialect: &Dialect, cause: diesel::result::Error) -> Error {
    let table = dialect.table().to_owned();
    if is_permission_denied(&cause) {
        return Error::PermissionDenied {
            operation,
            privilege: privilege_for(operation, &table),
            table,
            message: cause.to_string(),
            cause: Box::new(cause),
        };
    }
    Error::Database {
        operation,
        table,
        message: cause.to_string(),
        cause: Box::new(cause),
    }
}

/// Whether the database refused for lack of a privilege (PostgreSQL, MySQL and MariaDB, and
/// SQLite's read-only files).
pub fn is_permission_denied(cause: &diesel::result::Error) -> bool {
    let text = cause.to_string().to_lowercase();
    [
        "permission denied",
        "command denied",
        "access denied",
        "readonly database",
    ]
    .iter()
    .any(|words| text.contains(words))
}

/// The privilege `operation` needs on the tracking table `table`.
fn privilege_for(operation: &str, table: &str) -> String {
    let writes = format!("INSERT, UPDATE and DELETE on `{table}` (and SELECT)");
    match operation {
        "read the tracking table" | "read the tracking table's layout" => {
            format!("SELECT on `{table}` and on `{table}_layout`")
        }
        "create the tracking table" => format!(
            "CREATE on its schema, or `{table}` and `{table}_layout` created beforehand by a \
             role that has it"
        ),
        "create the lease table" => format!(
            "CREATE on the schema, or `{table}_lock` created beforehand by a role that has it"
        ),
        "take the migration lease" | "renew the migration lease" => {
            format!("INSERT, UPDATE, DELETE and SELECT on `{table}_lock`")
        }
        "find the schema of the tracking table" | "find the database file" => {
            "USAGE on the schema".to_owned()
        }
        _ => writes,
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
