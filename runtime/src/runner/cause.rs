//! Why a migration failed, when it is not the file's fault: a timeout, a lost connection, a
//! server going away, a deadlock. The database's own message is kept as it is; this names the
//! cause in words an operator acts on, so a failure of the database is not blamed on the file.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// A failure caused by the database or the network rather than by the script.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transient {
    /// A lock was not granted within `lock_timeout` (PostgreSQL) or
    /// `innodb_lock_wait_timeout` (MySQL).
    LockTimeout,
    /// The statement ran longer than `statement_timeout` or `max_statement_time`.
    StatementTimeout,
    /// Another session cancelled the statement.
    Cancelled,
    /// The server chose this transaction as a deadlock victim.
    Deadlock,
    /// A serializable transaction could not be serialized.
    Serialization,
    /// The server ran out of shared memory or locks.
    OutOfSharedMemory,
    /// The connection ended: the server restarted, crashed or was asked to end it.
    ConnectionLost,
    /// SQLite: another connection was writing, and the busy timeout ran out.
    Busy,
}

impl Transient {
    /// The cause of `error`, when it is one of the database's rather than the script's.
    pub fn of(error: &DieselError) -> Option<Transient> {
        if let DieselError::DatabaseError(kind, _) = error {
            match kind {
                DatabaseErrorKind::ClosedConnection => return Some(Transient::ConnectionLost),
                DatabaseErrorKind::SerializationFailure => return Some(Transient::Serialization),
                _ => {}
            }
        }
        Transient::of_message(&error.to_string())
    }

    /// The cause a database message names (PostgreSQL, MySQL and MariaDB wordings).
    fn of_message(message: &str) -> Option<Transient> {
        const CAUSES: [(&str, Transient); 20] = [
            ("due to lock timeout", Transient::LockTimeout),
            ("lock wait timeout exceeded", Transient::LockTimeout),
            ("due to statement timeout", Transient::StatementTimeout),
            ("max_statement_time exceeded", Transient::StatementTimeout),
            (
                "maximum statement execution time exceeded",
                Transient::StatementTimeout,
            ),
            ("due to user request", Transient::Cancelled),
            ("query execution was interrupted", Transient::Cancelled),
            ("deadlock", Transient::Deadlock),
            ("could not serialize access", Transient::Serialization),
            ("out of shared memory", Transient::OutOfSharedMemory),
            ("terminating connection", Transient::ConnectionLost),
            ("server closed the connection", Transient::ConnectionLost),
            ("no connection to the server", Transient::ConnectionLost),
            ("connection to server", Transient::ConnectionLost),
            ("lost connection to", Transient::ConnectionLost),
            ("server has gone away", Transient::ConnectionLost),
            ("connection was killed", Transient::ConnectionLost),
            (
                "the database system is shutting down",
                Transient::ConnectionLost,
            ),
            (
                "could not receive data from server",
                Transient::ConnectionLost,
            ),
            ("database is locked", Transient::Busy),
        ];
        let message = message.to_lowercase();
        CAUSES
            .iter()
            .find(|(words, _)| message.contains(words))
            .map(|(_, cause)| *cause)
    }

    /// The cause in a few words, e.g. "a lock timeout".
    pub fn describe(self) -> &'static str {
        match self {
            Transient::LockTimeout => "a lock timeout",
            Transient::StatementTimeout => "a statement timeout",
            Transient::Cancelled => "a cancel request from another session",
            Transient::Deadlock => "a deadlock with another session",
            Transient::Serialization => "a serialization failure",
            Transient::OutOfSharedMemory => "the server running out of shared memory",
            Transient::ConnectionLost => "the connection to the database ending",
            Transient::Busy => "another connection writing to the database file",
        }
    }

    /// Whether the connection is gone, so nothing more can be written on it.
    pub fn lost_the_connection(self) -> bool {
        self == Transient::ConnectionLost
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_databases_causes() {
        let cases = [
            (
                "canceling statement due to lock timeout",
                Some(Transient::LockTimeout),
            ),
            (
                "Lock wait timeout exceeded; try restarting transaction",
                Some(Transient::LockTimeout),
            ),
            (
                "canceling statement due to statement timeout",
                Some(Transient::StatementTimeout),
            ),
            ("deadlock detected", Some(Transient::Deadlock)),
            (
                "Deadlock found when trying to get lock; try restarting transaction",
                Some(Transient::Deadlock),
            ),
            (
                "out of shared memory\nHINT: You might need to increase max_locks_per_transaction.",
                Some(Transient::OutOfSharedMemory),
            ),
            (
                "terminating connection due to administrator command",
                Some(Transient::ConnectionLost),
            ),
            (
                "server closed the connection unexpectedly",
                Some(Transient::ConnectionLost),
            ),
            (
                "MySQL server has gone away",
                Some(Transient::ConnectionLost),
            ),
            ("relation \"nowhere\" does not exist", None),
            ("duplicate key value violates unique constraint", None),
            ("syntax error at or near \"CRATE\"", None),
        ];
        for (message, cause) in cases {
            assert_eq!(Transient::of_message(message), cause, "{message}");
        }
    }
}
