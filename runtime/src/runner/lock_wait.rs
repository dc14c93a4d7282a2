//! Lock-safe DDL: a migration waits for a table lock at most a short `lock_timeout`, then
//! gives way and tries again later, so that the queries queued behind its lock request are
//! never stalled for longer than that. On PostgreSQL an `ALTER TABLE` waiting for its
//! `ACCESS EXCLUSIVE` lock behind one long transaction makes every later query of the table
//! wait behind it too; with a timeout, they wait at most the timeout.
//!
//! A try that times out is rolled back (a transactional migration), or is the one statement
//! that did not run (statement by statement, outside a transaction): trying it again is safe.
//! The pauses between tries grow, with jitter so that replicas do not retry in step, up to a
//! total budget; each names the sessions that hold the locks.

use std::time::{Duration, Instant};

use waterline_core::Backend;

use super::cause::Transient;
use super::driver::Driver;

/// The first pause after a try that timed out.
const FIRST_PAUSE: Duration = Duration::from_millis(100);

/// The longest pause: once the blocker ends, the migration goes through within about this.
const LONGEST_PAUSE: Duration = Duration::from_secs(2);

/// How long a migration waits for its table locks, and for how long in all it tries again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockRetry {
    /// The `lock_timeout` of each try; zero turns lock-safe DDL off.
    pub timeout: Duration,
    /// How long, in all, a migration keeps trying before it gives up.
    pub budget: Duration,
}

impl LockRetry {
    /// Off: statements wait for their locks as long as the server lets them.
    pub const OFF: LockRetry = LockRetry {
        timeout: Duration::ZERO,
        budget: Duration::ZERO,
    };

    /// Whether lock-safe DDL is on for `backend` (PostgreSQL and MySQL/MariaDB; SQLite has
    /// one writer and its busy timeout).
    pub(crate) fn is_on(&self, backend: Backend) -> bool {
        !self.timeout.is_zero() && backend != Backend::Sqlite
    }

    /// The statement that sets the session's lock timeout to this one.
    pub(crate) fn set_timeout(&self, backend: Backend) -> Option<String> {
        match backend {
            _ if !self.is_on(backend) => None,
            Backend::Postgres => Some(format!(
                "SET lock_timeout = '{}ms'",
                self.timeout.as_millis()
            )),
            // Whole seconds only: at least one.
            Backend::Mysql => {
                let seconds = self.timeout.as_secs_f64().ceil().max(1.0) as u64;
                Some(format!(
                    "SET SESSION lock_wait_timeout = {seconds}, innodb_lock_wait_timeout = {seconds}"
                ))
            }
            Backend::Sqlite => None,
        }
    }

    /// The statement that lifts the timeout for one statement that must not be tried again:
    /// PostgreSQL's `CREATE INDEX CONCURRENTLY`, which leaves an invalid index behind when
    /// it times out.
    pub(crate) fn lift_timeout(&self, backend: Backend) -> Option<&'static str> {
        match backend {
            Backend::Postgres if self.is_on(backend) => Some("SET lock_timeout = 0"),
            _ => None,
        }
    }
}

/// Whether a statement must not be tried again after a lock timeout.
pub fn must_not_retry(sql: &str) -> bool {
    waterline_core::sql_text::words(sql).any(|word| word == "CONCURRENTLY")
}

/// Whether `cause` is a lock timeout: the try waited for a lock and gave way.
pub fn timed_out(cause: &diesel::result::Error) -> bool {
    Transient::of(cause) == Some(Transient::LockTimeout)
}

/// The tries of one migration: how many, since when, and the pause before the next.
pub struct Tries {
    policy: LockRetry,
    started: Instant,
    count: u32,
}

impl Tries {
    /// The first try, starting now.
    pub fn new(policy: LockRetry) -> Tries {
        Tries {
            policy,
            started: Instant::now(),
            count: 1,
        }
    }

    /// How many tries so far.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// How long since the first try started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// After a try timed out: the pause before the next one, or `None` when the next would
    /// end past the budget.
    pub fn next_pause(&mut self) -> Option<Duration> {
        let exponent = self.count.saturating_sub(1).min(16);
        let grown = FIRST_PAUSE.saturating_mul(1 << exponent).min(LONGEST_PAUSE);
        // Between half and all of it, so that replicas retrying together spread out.
        let pause = grown.mul_f64(0.5 + fastrand::f64() * 0.5);
        if self.elapsed() + pause + self.policy.timeout > self.policy.budget {
            return None;
        }
        self.count += 1;
        Some(pause)
    }
}

/// The sessions that hold table locks in an open transaction older than `timeout`, as one
/// line each (at most five): who keeps the migration waiting. Empty where the server cannot
/// tell, or the query fails.
pub fn blockers(driver: &mut dyn Driver, backend: Backend, timeout: Duration) -> Vec<String> {
    let sql = match backend {
        Backend::Postgres => format!(
            "SELECT format('pid %s (%s, in a transaction for %s): %s', a.pid, \
             coalesce(nullif(a.application_name, ''), a.usename), \
             date_trunc('second', now() - a.xact_start), \
             left(regexp_replace(a.query, '\\s+', ' ', 'g'), 80)) AS value \
             FROM pg_stat_activity a \
             WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() \
             AND a.xact_start < now() - interval '{} milliseconds' \
             AND EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.granted \
             AND l.relation IS NOT NULL) \
             ORDER BY a.xact_start LIMIT 5",
            timeout.as_millis()
        ),
        Backend::Mysql => "SELECT CONCAT('thread ', t.trx_mysql_thread_id, ' (', p.USER, \
             ', in a transaction for ', TIMESTAMPDIFF(SECOND, t.trx_started, NOW()), 's): ', \
             LEFT(COALESCE(p.INFO, ''), 80)) AS value \
             FROM information_schema.INNODB_TRX t \
             JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id \
             WHERE t.trx_mysql_thread_id <> CONNECTION_ID() ORDER BY t.trx_started LIMIT 5"
            .to_owned(),
        Backend::Sqlite => return Vec::new(),
    };
    driver
        .texts(&sql)
        .map(|rows| rows.into_iter().flatten().collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_grow_to_the_longest_and_stop_at_the_budget() {
        let policy = LockRetry {
            timeout: Duration::from_millis(100),
            budget: Duration::from_secs(60),
        };
        let mut tries = Tries::new(policy);
        let pauses: Vec<Duration> = (0..8).map(|_| tries.next_pause().unwrap()).collect();
        assert!(pauses[0] >= FIRST_PAUSE / 2 && pauses[0] <= FIRST_PAUSE);
        assert!(pauses.iter().all(|p| *p <= LONGEST_PAUSE));
        assert!(pauses[7] >= LONGEST_PAUSE / 2, "{pauses:?}");
        assert_eq!(tries.count(), 9);
        let spent = LockRetry {
            timeout: Duration::from_millis(100),
            budget: Duration::from_millis(100),
        };
        assert_eq!(Tries::new(spent).next_pause(), None);
    }

    #[test]
    fn the_timeout_statement_of_each_backend() {
        let policy = LockRetry {
            timeout: Duration::from_millis(500),
            budget: Duration::from_secs(60),
        };
        assert_eq!(
            policy.set_timeout(Backend::Postgres).as_deref(),
            Some("SET lock_timeout = '500ms'")
        );
        assert_eq!(
            policy.set_timeout(Backend::Mysql).as_deref(),
            Some("SET SESSION lock_wait_timeout = 1, innodb_lock_wait_timeout = 1")
        );
        assert_eq!(policy.set_timeout(Backend::Sqlite), None);
        assert_eq!(LockRetry::OFF.set_timeout(Backend::Postgres), None);
        assert!(must_not_retry("CREATE INDEX CONCURRENTLY i ON t (c)"));
        assert!(!must_not_retry("ALTER TABLE t ADD COLUMN c TEXT"));
    }
}
