//! The SQL waterline sends, per backend. Only validated identifiers and numbers are put into
//! the text; every other value is a bind parameter.

use waterline_core::Backend;

use super::record::RecordStatus;
use super::table::TableName;
use super::write::{Column, RowSql};

/// The layout of the tracking table this release writes. A later release that changes the
/// table upgrades it in place, from the number stored in `<table>_layout`.
///
/// 1: the first. 2: adds `class` (`expand` or `contract`), so that an older binary can tell
/// whether the migrations it lacks leave it working.
pub const LAYOUT: i64 = 2;

/// The SQL for one backend and one tracking table.
#[derive(Clone, Debug)]
pub struct Dialect {
    backend: Backend,
    name: TableName,
    quoted: String,
    layout_table: String,
    lease_table: String,
    display: String,
    insert: RowSql,
    update: RowSql,
    update_running: RowSql,
    update_failed: RowSql,
}

impl Dialect {
    /// The SQL for `table` on `backend`.
    pub fn new(backend: Backend, table: &TableName) -> Dialect {
        let quoted = table.quoted(backend);
        let cast = (backend == Backend::Postgres).then_some("TIMESTAMPTZ");
        Dialect {
            backend,
            name: table.clone(),
            insert: RowSql::insert(&quoted, cast),
            update: RowSql::update(&quoted, cast),
            update_running: RowSql::update_if(&quoted, cast, RecordStatus::Running),
            update_failed: RowSql::update_if(&quoted, cast, RecordStatus::Failed),
            quoted,
            layout_table: table.quoted_with_suffix(backend, "_layout"),
            lease_table: table.quoted_with_suffix(backend, "_lock"),
            display: table.display(),
        }
    }

    /// A table of waterline's beside the tracking table, quoted: `<table><suffix>`.
    pub fn with_suffix(&self, suffix: &str) -> String {
        self.name.quoted_with_suffix(self.backend, suffix)
    }

    /// The same table named with the schema (MySQL: database) the server resolves it in,
    /// so that no `search_path` or `USE` a migration runs can point the runner at another
    /// table. Messages keep the name as given.
    pub fn qualified(&self, schema: &str) -> Dialect {
        let display = self.display.clone();
        Dialect {
            display,
            ..Dialect::new(self.backend, &self.name.in_schema(schema))
        }
    }

    /// Whether the table is named with its schema already.
    pub fn is_qualified(&self) -> bool {
        self.name.is_qualified()
    }

    /// The schema (MySQL: database) the unqualified table resolves to, as `value` text: where
    /// it is found on the `search_path`, or where `CREATE TABLE` would put it.
    pub fn resolve_schema(&self) -> Option<String> {
        let (_, table) = self.schema_and_table();
        match self.backend {
            Backend::Postgres => Some(format!(
                "SELECT CAST(coalesce((SELECT n.nspname::text FROM pg_catalog.pg_class c \
                 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.oid = to_regclass('\"{table}\"')), current_schema()::text) AS TEXT) AS value"
            )),
            Backend::Mysql => Some("SELECT CAST(DATABASE() AS CHAR) AS value".to_owned()),
            Backend::Sqlite => None,
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
             \x20   transactional SMALLINT NOT NULL,\n\
             \x20   class VARCHAR(16) NULL\n\
             );\n\
             CREATE TABLE IF NOT EXISTS {layout} (layout BIGINT NOT NULL);\n\
             INSERT INTO {layout} (layout) SELECT {LAYOUT}{no_table} \
             WHERE NOT EXISTS (SELECT 1 FROM {layout});",
            table = self.quoted,
            layout = self.layout_table,
        )
    }

    /// Upgrades a layout-1 table to layout 2: the `class` column, `NULL` in existing rows
    /// (read as a contract: what an older binary cannot vouch for).
    pub fn upgrade_to_layout_2(&self) -> String {
        format!(
            "ALTER TABLE {table} ADD COLUMN class VARCHAR(16) NULL;\n\
             UPDATE {layout} SET layout = 2 WHERE layout = 1",
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

    /// Deletes the row of `version` if its status is still `status`: the first half of
    /// claiming a migration whose row this process read (a failure to retry, an applied
    /// migration run again). Should another process have claimed it since, nothing is deleted
    /// and the claim's INSERT meets that process's row.
    pub fn delete_record_if(&self, version: i64, status: RecordStatus) -> String {
        format!(
            "DELETE FROM {} WHERE version = {version} AND status = '{}'",
            self.quoted,
            status.as_str()
        )
    }

    /// Sets every column of the row of a version, if its status is still `running`: this
    /// process's claim, and no one else's row.
    pub fn update_running_record(&self) -> &RowSql {
        &self.update_running
    }

    /// Sets every column of the row of a version, if its status is still `failed`.
    pub fn update_failed_record(&self) -> &RowSql {
        &self.update_failed
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
        self.name.parts()
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

    /// Creates `__diesel_schema_migrations` when missing, as diesel_migrations does.
    pub fn create_diesel_table(&self) -> &'static str {
        "CREATE TABLE IF NOT EXISTS __diesel_schema_migrations (\
         version VARCHAR(50) PRIMARY KEY NOT NULL, \
         run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)"
    }

    /// Records diesel's `version` (digits and dashes only) as applied, unless it is.
    pub fn insert_diesel_version(&self, version: &str) -> String {
        let no_table = match self.backend {
            Backend::Mysql => " FROM DUAL",
            Backend::Postgres | Backend::Sqlite => "",
        };
        format!(
            "INSERT INTO __diesel_schema_migrations (version) SELECT '{version}'{no_table} \
             WHERE NOT EXISTS (SELECT 1 FROM __diesel_schema_migrations WHERE version = '{version}')"
        )
    }

    /// Forgets diesel's `version` (digits and dashes only).
    pub fn delete_diesel_version(&self, version: &str) -> String {
        format!("DELETE FROM __diesel_schema_migrations WHERE version = '{version}'")
    }

    /// The integer type a `CAST` reads as `i64`.
    pub fn bigint(&self) -> &'static str {
        match self.backend {
            Backend::Mysql => "SIGNED",
            Backend::Postgres | Backend::Sqlite => "BIGINT",
        }
    }

    /// The tracking table as the server resolves it, as SQL text: `schema.table`, whatever
    /// the spelling the run was given. `waterline_migrations` and
    /// `public.waterline_migrations` are one table, so they must be one lock.
    ///
    /// PostgreSQL: identifiers are quoted, so never case-folded; an unqualified name is the
    /// schema where the table is found on the `search_path`, or where `CREATE TABLE` would put
    /// it. MySQL: the database is the current one unless named, and both parts are folded to
    /// lower case where the server compares table names without case
    /// (`lower_case_table_names` 1 or 2).
    fn resolved_table(&self) -> String {
        let (schema, table) = self.schema_and_table();
        match self.backend {
            Backend::Postgres => {
                let schema = match schema {
                    Some(schema) => format!("'{schema}'"),
                    None => format!(
                        "coalesce((SELECT n.nspname::text FROM pg_catalog.pg_class c \
                         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                         WHERE c.oid = to_regclass('\"{table}\"')), current_schema()::text, '')"
                    ),
                };
                format!("{schema} || '.{table}'")
            }
            Backend::Mysql => {
                let schema = schema.map_or("COALESCE(DATABASE(), '')".to_owned(), |s| {
                    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
                });
                let name = format!("CONCAT({schema}, '.{table}')");
                format!("IF(@@lower_case_table_names = 0, {name}, LOWER({name}))")
            }
            Backend::Sqlite => format!("'{}'", self.display),
        }
    }

    /// PostgreSQL: the number naming this table's lock, the same in every process: the first
    /// eight bytes of the SHA-256 of `waterline lock <schema>.<table>` (the table as
    /// [resolved](Self::resolved_table)), as a signed big-endian integer. The server hashes it
    /// (`sha256`, PostgreSQL 11 and later), so the runner carries no hash code of its own.
    fn lock_key(&self) -> String {
        format!(
            "('x' || left(encode(sha256(convert_to('waterline lock ' || {}, 'UTF8')), 'hex'), 16))::bit(64)::bigint",
            self.resolved_table()
        )
    }

    /// MySQL lock names are server-wide, so they name the database with the table
    /// ([resolved](Self::resolved_table)).
    fn mysql_lock_name(&self) -> String {
        format!(
            "CONCAT('waterline:', LEFT(SHA2({}, 256), 40))",
            self.resolved_table()
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

    /// Releases the lock; `value` is 1 when this session held it, as it should have.
    pub fn unlock(&self) -> String {
        match self.backend {
            Backend::Postgres => format!(
                "SELECT CAST(CASE WHEN pg_advisory_unlock({}) THEN 1 ELSE 0 END AS BIGINT) AS value",
                self.lock_key()
            ),
            Backend::Mysql => format!(
                "SELECT CAST(COALESCE(RELEASE_LOCK({}), 0) AS SIGNED) AS value",
                self.mysql_lock_name()
            ),
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

    /// The server's clock plus `ms` milliseconds, or now, as the lease table stores times.
    pub fn lease_time(&self, ms: Option<u128>) -> String {
        match (self.backend, ms) {
            (Backend::Postgres, None) => "clock_timestamp()".to_owned(),
            (Backend::Postgres, Some(ms)) => {
                format!("clock_timestamp() + interval '{ms} milliseconds'")
            }
            (Backend::Mysql, None) => "NOW(6)".to_owned(),
            (Backend::Mysql, Some(ms)) => format!("NOW(6) + INTERVAL {} MICROSECOND", ms * 1000),
            (Backend::Sqlite, None) => "strftime('%Y-%m-%d %H:%M:%f', 'now')".to_owned(),
            (Backend::Sqlite, Some(ms)) => format!(
                "strftime('%Y-%m-%d %H:%M:%f', 'now', '+{}.{:03} seconds')",
                ms / 1000,
                ms % 1000
            ),
        }
    }

    /// Creates the lease table when missing: one row at most, the lease of the process that
    /// holds the lock, with the token that proves it and when it ends by the server's clock.
    pub fn create_lease_table(&self) -> String {
        let timestamp = match self.backend {
            Backend::Postgres => "TIMESTAMPTZ",
            Backend::Mysql => "DATETIME(6)",
            Backend::Sqlite => "TEXT",
        };
        format!(
            "CREATE TABLE IF NOT EXISTS {} (id SMALLINT NOT NULL PRIMARY KEY, holder VARCHAR(255) \
             NOT NULL, token VARCHAR(64) NOT NULL, expires_at {timestamp} NOT NULL)",
            self.lease_table
        )
    }

    /// One try at the lease: deletes a lease that has ended, then inserts this process's,
    /// ending `lease_ms` from now. The INSERT fails on a lease still held. `holder` and `token`
    /// are [`lease_text`]-safe.
    pub fn take_lease(&self, holder: &str, token: &str, lease_ms: u128) -> String {
        format!(
            "DELETE FROM {table} WHERE id = 1 AND expires_at < {now}; \
             INSERT INTO {table} (id, holder, token, expires_at) VALUES (1, '{holder}', '{token}', {until})",
            table = self.lease_table,
            now = self.lease_time(None),
            holder = lease_text(holder),
            token = lease_text(token),
            until = self.lease_time(Some(lease_ms)),
        )
    }

    /// Extends the lease of `token` to `lease_ms` from now, if it is still this process's.
    pub fn renew_lease(&self, token: &str, lease_ms: u128) -> String {
        format!(
            "UPDATE {} SET expires_at = {} WHERE id = 1 AND token = '{}'",
            self.lease_table,
            self.lease_time(Some(lease_ms)),
            lease_text(token)
        )
    }

    /// Whether `token` holds a lease that has not ended, as `value` 0 or 1.
    pub fn holds_lease(&self, token: &str) -> String {
        format!(
            "SELECT CAST(COUNT(*) AS {}) AS value FROM {} WHERE id = 1 AND token = '{}' AND expires_at >= {}",
            self.bigint(),
            self.lease_table,
            lease_text(token),
            self.lease_time(None)
        )
    }

    /// Ends the lease of `token`, if it is still this process's.
    pub fn release_lease(&self, token: &str) -> String {
        format!(
            "DELETE FROM {} WHERE id = 1 AND token = '{}'",
            self.lease_table,
            lease_text(token)
        )
    }

    /// Who holds the lease, as `value` text.
    pub fn lease_holder(&self) -> String {
        format!(
            "SELECT holder AS value FROM {} WHERE id = 1",
            self.lease_table
        )
    }

    /// What to send before and after the no-op check so that it waits for a lock on the
    /// tracking table at most `timeout_ms`, leaving the session as it was: PostgreSQL, a
    /// transaction with `SET LOCAL lock_timeout`; MySQL, `lock_wait_timeout` saved in a user
    /// variable and put back. SQLite needs none: its busy timeout is 0 until the lock is taken.
    pub fn bounded_read(&self, timeout_ms: u128) -> Option<(String, &'static str)> {
        match self.backend {
            Backend::Postgres => Some((
                format!("BEGIN; SET LOCAL lock_timeout = '{}ms'", timeout_ms.max(1)),
                "COMMIT",
            )),
            Backend::Mysql => Some((
                format!(
                    "SET @waterline_lock_wait_timeout = @@session.lock_wait_timeout, \
                     SESSION lock_wait_timeout = {}",
                    timeout_ms.div_ceil(1000).max(1)
                ),
                "SET SESSION lock_wait_timeout = @waterline_lock_wait_timeout",
            )),
            Backend::Sqlite => None,
        }
    }

    /// PostgreSQL: the other sessions holding a lock on the tracking table, as `value` text.
    pub fn table_lock_holders(&self) -> Option<String> {
        let (schema, table) = self.schema_and_table();
        let name = match schema {
            Some(schema) => format!("\"{}\".\"{table}\"", schema.replace('"', "\"\"")),
            None => format!("\"{table}\""),
        };
        (self.backend == Backend::Postgres).then(|| {
            format!(
                "SELECT CAST(string_agg(DISTINCT 'process ' || a.pid || ' (' || \
                 coalesce(nullif(a.application_name, ''), 'no application name') || ', ' || \
                 l.mode || ')', ', ') AS TEXT) AS value \
                 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
                 WHERE l.relation = to_regclass('{}') AND l.granted AND l.pid <> pg_backend_pid()",
                name.replace('\'', "''")
            )
        })
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

/// `text` with only characters that need no quoting in any SQL string literal: letters,
/// digits and ` ._-:()@/`; any other becomes `_`. Lease holders and tokens are for people to
/// read and for this process to recognise, never parsed.
pub fn lease_text(text: &str) -> String {
    text.chars()
        .take(255)
        .map(
            |c| match c.is_ascii_alphanumeric() || " ._-:()@/".contains(c) {
                true => c,
                false => '_',
            },
        )
        .collect()
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
    fn lock_keys_name_the_table_as_the_server_resolves_it() {
        let other = Dialect::new(Backend::Postgres, &TableName::parse("app.other").unwrap());
        let default = dialect(Backend::Postgres).lock_key();
        assert!(
            default.contains("'waterline lock ' || coalesce((SELECT n.nspname"),
            "{default}"
        );
        assert!(
            default.contains("to_regclass('\"waterline_migrations\"')"),
            "{default}"
        );
        assert!(
            default.contains("current_schema()::text, '') || '.waterline_migrations'"),
            "{default}"
        );
        assert!(other
            .lock_key()
            .contains("'waterline lock ' || 'app' || '.other'"));
        let mysql = dialect(Backend::Mysql).try_lock().unwrap();
        assert!(
            mysql.contains("IF(@@lower_case_table_names = 0, CONCAT(COALESCE(DATABASE(), ''), '.waterline_migrations'), LOWER("),
            "{mysql}"
        );
        let qualified = Dialect::new(Backend::Mysql, &TableName::parse("test.t").unwrap());
        assert!(qualified
            .try_lock()
            .unwrap()
            .contains("CONCAT('test', '.t')"));
        assert_eq!(dialect(Backend::Sqlite).try_lock(), None);
    }

    #[test]
    fn a_lease_is_taken_only_where_none_is_held_and_its_texts_need_no_quoting() {
        let pg = dialect(Backend::Postgres);
        let take = pg.take_lease("web-1 (pid 7)", "abc", 60_000);
        assert_eq!(
            take,
            "DELETE FROM \"waterline_migrations_lock\" WHERE id = 1 AND expires_at < clock_timestamp(); \
             INSERT INTO \"waterline_migrations_lock\" (id, holder, token, expires_at) VALUES (1, \
             'web-1 (pid 7)', 'abc', clock_timestamp() + interval '60000 milliseconds')"
        );
        assert!(
            !take.contains("ON CONFLICT"),
            "a held lease must make the INSERT fail"
        );
        assert_eq!(lease_text("o'brien\\; DROP"), "o_brien__ DROP");
        assert!(dialect(Backend::Mysql)
            .renew_lease("t", 1500)
            .contains("NOW(6) + INTERVAL 1500000 MICROSECOND"));
        assert!(dialect(Backend::Sqlite)
            .renew_lease("t", 1500)
            .contains("strftime('%Y-%m-%d %H:%M:%f', 'now', '+1.500 seconds')"));
    }
}
