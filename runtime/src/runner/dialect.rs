//! The SQL waterline sends, per backend. Only validated identifiers and numbers are put into
//! the text; every other value is a bind parameter.

use waterline_core::Backend;

use super::table::TableName;
use super::write::{Column, RowSql};

/// The layout of the tracking table this release writes. A later release that changes the
/// table upgrades it in place, from the number stored in `<table>_layout`.
pub const LAYOUT: i64 = 1;

/// The SQL for one backend and one tracking table.
#[derive(Clone, Debug)]
pub struct Dialect {
    backend: Backend,
    quoted: String,
    layout_table: String,
    display: String,
    insert: RowSql,
    update: RowSql,
}

impl Dialect {
    /// The SQL for `table` on `backend`.
    pub fn new(backend: Backend, table: &TableName) -> Dialect {
        let quoted = table.quoted(backend);
        let cast = (backend == Backend::Postgres).then_some("TIMESTAMPTZ");
        Dialect {
            backend,
            insert: RowSql::insert(&quoted, cast),
            update: RowSql::update(&quoted, cast),
            quoted,
            layout_table: table.quoted_with_suffix(backend, "_layout"),
            display: table.display(),
        }
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The table's name, quoted for this backend.
    pub fn quoted(&self) -> &str {
        &self.quoted
    }

    /// The table's name as the user gave it.
    pub fn table(&self) -> &str {
        &self.display
    }

    /// Creates the tracking table and its layout table when missing, and records this
    /// release's layout in a new layout table, in one round trip.
    pub fn create_tables(&self) -> String {
        let (timestamp, text) = match self.backend {
            Backend::Postgres => ("TIMESTAMPTZ", "TEXT"),
            Backend::Mysql => ("DATETIME(6)", "TEXT"),
            Backend::Sqlite => ("TEXT", "TEXT"),
        };
        let no_table = match self.backend {
            Backend::Mysql => " FROM DUAL",
            Backend::Postgres | Backend::Sqlite => "",
        };
        format!(
            "CREATE TABLE IF NOT EXISTS {table} (\n\
             \x20   version BIGINT NOT NULL PRIMARY KEY,\n\
             \x20   name VARCHAR(255) NOT NULL,\n\
             \x20   checksum VARCHAR(64) NOT NULL,\n\
             \x20   checksum_algorithm VARCHAR(32) NOT NULL,\n\
             \x20   status VARCHAR(16) NOT NULL,\n\
             \x20   started_at {timestamp} NOT NULL,\n\
             \x20   finished_at {timestamp} NULL,\n\
             \x20   execution_ms BIGINT NULL,\n\
             \x20   error {text} NULL,\n\
             \x20   applied_by VARCHAR(255) NOT NULL,\n\
             \x20   transactional SMALLINT NOT NULL\n\
             );\n\
             CREATE TABLE IF NOT EXISTS {layout} (layout BIGINT NOT NULL);\n\
             INSERT INTO {layout} (layout) SELECT {LAYOUT}{no_table} \
             WHERE NOT EXISTS (SELECT 1 FROM {layout});",
            table = self.quoted,
            layout = self.layout_table,
        )
    }

    /// The layout number, as `value`.
    pub fn select_layout(&self) -> String {
        format!("SELECT MAX(layout) AS value FROM {}", self.layout_table)
    }

    /// Every row, oldest version first, timestamps as RFC 3339 UTC text.
    pub fn select_records(&self) -> String {
        let columns: Vec<String> = Column::ALL
            .iter()
            .map(|column| match column.name() {
                name if column.is_timestamp() => {
                    format!("{} AS {name}", self.timestamp_text(name))
                }
                name => name.to_owned(),
            })
            .collect();
        format!(
            "SELECT {} FROM {} ORDER BY version",
            columns.join(", "),
            self.quoted
        )
    }

    /// What the no-op check reads, after `SELECT`: plain columns in the order of
    /// [`State`](super::record::State)'s fields, nothing for the server to evaluate or sort (a
    /// sort costs a cold PostgreSQL backend more than sorting 1,000 numbers here).
    pub fn state_selection(&self) -> String {
        format!(
            "version, checksum, checksum_algorithm, status FROM {}",
            self.quoted
        )
    }

    fn timestamp_text(&self, column: &str) -> String {
        match self.backend {
            Backend::Postgres => {
                format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
            }
            Backend::Mysql => format!("DATE_FORMAT({column}, '%Y-%m-%dT%H:%i:%s.%fZ')"),
            Backend::Sqlite => column.to_owned(),
        }
    }

    /// Inserts a row.
    pub fn insert_record(&self) -> &RowSql {
        &self.insert
    }

    /// Sets every column of an existing row.
    pub fn update_record(&self) -> &RowSql {
        &self.update
    }

    /// An RFC 3339 UTC timestamp as this backend's column takes it.
    pub fn timestamp_value(&self, rfc3339: &str) -> String {
        match self.backend {
            Backend::Mysql => rfc3339.trim_end_matches('Z').replacen('T', " ", 1),
            Backend::Postgres | Backend::Sqlite => rfc3339.to_owned(),
        }
    }

    /// Deletes the row of `version`.
    pub fn delete_record(&self, version: i64) -> String {
        format!("DELETE FROM {} WHERE version = {version}", self.quoted)
    }

    /// Whether the tracking table exists, as `value` 0 or 1.
    pub fn table_exists(&self) -> String {
        let condition = match self.backend {
            Backend::Postgres => format!("to_regclass('{}') IS NOT NULL", self.quoted),
            Backend::Mysql => {
                let (schema, table) = self.schema_and_table();
                let schema = schema.map_or("DATABASE()".to_owned(), |s| format!("'{s}'"));
                format!(
                    "EXISTS (SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = {schema} \
                     AND TABLE_NAME = '{table}')"
                )
            }
            Backend::Sqlite => {
                let (schema, table) = self.schema_and_table();
                let master = schema.map_or("sqlite_master".to_owned(), |s| {
                    format!("\"{s}\".sqlite_master")
                });
                format!("EXISTS (SELECT 1 FROM {master} WHERE type = 'table' AND name = '{table}')")
            }
        };
        format!(
            "SELECT CAST(CASE WHEN {condition} THEN 1 ELSE 0 END AS {}) AS value",
            self.bigint()
        )
    }

    fn schema_and_table(&self) -> (Option<&str>, &str) {
        match self.display.split_once('.') {
            Some((schema, table)) => (Some(schema), table),
            None => (None, &self.display),
        }
    }

    /// Whether `__diesel_schema_migrations` exists, as `value` 0 or 1.
    pub fn diesel_table_exists(&self) -> String {
        let condition = match self.backend {
            Backend::Postgres => "to_regclass('__diesel_schema_migrations') IS NOT NULL",
            Backend::Mysql => {
                "EXISTS (SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() \
                 AND TABLE_NAME = '__diesel_schema_migrations')"
            }
            Backend::Sqlite => {
                "EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = \
                 '__diesel_schema_migrations')"
            }
        };
        format!(
            "SELECT CAST(CASE WHEN {condition} THEN 1 ELSE 0 END AS {}) AS value",
            self.bigint()
        )
    }

    /// The versions diesel_migrations recorded, as `value` text.
    pub fn select_diesel_versions(&self) -> &'static str {
        "SELECT version AS value FROM __diesel_schema_migrations"
    }

    fn bigint(&self) -> &'static str {
        match self.backend {
            Backend::Mysql => "SIGNED",
            Backend::Postgres | Backend::Sqlite => "BIGINT",
        }
    }

    /// PostgreSQL: the number naming this table's lock, the same in every process: the first
    /// eight bytes of the SHA-256 of `waterline lock <table>`, as a signed big-endian integer.
    /// The server hashes it (`sha256`, PostgreSQL 11 and later), so the runner carries no
    /// hash code of its own.
    fn lock_key(&self) -> String {
        format!(
            "('x' || left(encode(sha256(convert_to('waterline lock {}', 'UTF8')), 'hex'), 16))::bit(64)::bigint",
            self.display
        )
    }

    /// MySQL lock names are server-wide, so the database's name is part of it.
    fn mysql_lock_name(&self) -> String {
        format!(
            "CONCAT('waterline:', LEFT(SHA2(CONCAT(COALESCE(DATABASE(), ''), '.', '{}'), 256), 40))",
            self.display
        )
    }

    /// Tries the lock once without waiting; `value` is 1 when taken.
    pub fn try_lock(&self) -> Option<String> {
        match self.backend {
            Backend::Postgres => Some(format!(
                "SELECT CAST(CASE WHEN pg_try_advisory_lock({}) THEN 1 ELSE 0 END AS BIGINT) AS value",
                self.lock_key()
            )),
            Backend::Mysql => Some(format!("SELECT CAST(GET_LOCK({}, 0) AS SIGNED) AS value", self.mysql_lock_name())),
            Backend::Sqlite => None,
        }
    }

    /// Releases the lock.
    pub fn unlock(&self) -> String {
        match self.backend {
            Backend::Postgres => format!("SELECT pg_advisory_unlock({})", self.lock_key()),
            Backend::Mysql => format!("DO RELEASE_LOCK({})", self.mysql_lock_name()),
            Backend::Sqlite => {
                "PRAGMA locking_mode = NORMAL; SELECT count(*) FROM sqlite_master;".to_owned()
            }
        }
    }

    /// Who holds the lock, as `value` text, where the database can tell.
    pub fn lock_holder(&self) -> Option<String> {
        match self.backend {
            Backend::Postgres => {
                let key = self.lock_key();
                Some(format!(
                    "SELECT CAST(string_agg('process ' || a.pid || ' (' || \
                     coalesce(nullif(a.application_name, ''), 'no application name') || ' from ' || \
                     coalesce(host(a.client_addr), 'a local socket') || ')', ', ') AS TEXT) AS value \
                     FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
                     WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
                     AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
                     AND l.classid::bigint = ({key} >> 32) & 4294967295 AND l.objid::bigint = {key} & 4294967295"
                ))
            }
            Backend::Mysql => Some(format!(
                "SELECT CAST(CONCAT('connection ', p.ID, ' (', p.USER, '@', p.HOST, ')') AS CHAR) AS value \
                 FROM information_schema.PROCESSLIST p WHERE p.ID = IS_USED_LOCK({})",
                self.mysql_lock_name()
            )),
            Backend::Sqlite => None,
        }
    }

    /// SQLite: takes an exclusive lock on the whole database that outlasts transactions. It
    /// waits in the normal locking mode, where a waiter holds no lock between tries, and
    /// switches to the exclusive mode only once it holds the lock: a waiter already in the
    /// exclusive mode would keep a shared lock that stops the holder from committing.
    pub fn sqlite_lock(&self, timeout_ms: u128) -> String {
        format!("PRAGMA busy_timeout = {timeout_ms}; BEGIN EXCLUSIVE; PRAGMA locking_mode = EXCLUSIVE; COMMIT;")
    }

    /// SQLite: the busy timeout in force, as `value`, to restore after the run.
    pub fn sqlite_busy_timeout(&self) -> &'static str {
        "SELECT timeout AS value FROM pragma_busy_timeout()"
    }

    /// SQLite: restores a busy timeout.
    pub fn sqlite_set_busy_timeout(&self, timeout_ms: i64) -> String {
        format!("PRAGMA busy_timeout = {timeout_ms};")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dialect(backend: Backend) -> Dialect {
        Dialect::new(backend, &TableName::parse("waterline_migrations").unwrap())
    }

    #[test]
    fn reads_timestamps_as_rfc3339_text() {
        assert!(dialect(Backend::Mysql)
            .select_records()
            .contains("DATE_FORMAT(started_at, '%Y-%m-%dT%H:%i:%s.%fZ') AS started_at"));
        assert!(dialect(Backend::Sqlite)
            .select_records()
            .ends_with("FROM \"waterline_migrations\" ORDER BY version"));
        assert_eq!(
            dialect(Backend::Mysql).timestamp_value("2026-11-22T00:28:07.123456Z"),
            "2026-11-22 00:28:07.123456"
        );
    }

    #[test]
    fn lock_keys_name_the_table() {
        let other = Dialect::new(Backend::Postgres, &TableName::parse("app.other").unwrap());
        assert!(dialect(Backend::Postgres)
            .lock_key()
            .contains("'waterline lock waterline_migrations'"));
        assert!(other.lock_key().contains("'waterline lock app.other'"));
        assert!(dialect(Backend::Mysql)
            .try_lock()
            .unwrap()
            .contains("'.', 'waterline_migrations'"));
        assert_eq!(dialect(Backend::Sqlite).try_lock(), None);
    }
}
