//! Databases for the backend tests: each test gets its own database (PostgreSQL, MariaDB) or
//! file (SQLite), dropped when the test ends, so tests run in parallel and re-run cleanly.
//! PostgreSQL and MariaDB come from `WATERLINE_TEST_POSTGRES_URL` and
//! `WATERLINE_TEST_MYSQL_URL`; when one is unset its tests say loudly that they skipped.

#![allow(dead_code)]

pub mod pgbouncer;
pub mod scratch;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use diesel::connection::{Connection, LoadConnection, SimpleConnection};
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::{QueryableByName, RunQueryDsl};

/// A connection the tests can query, for each backend.
pub trait TestConnection:
    Connection + LoadConnection + waterline::MigrationConnection + Inspect + Send + Sized + 'static
{
    /// The environment variable with the server's URL; `None` for SQLite.
    const URL_VARIABLE: Option<&'static str>;
    /// The backend.
    const BACKEND: waterline::Backend;
    /// Creates database `name` through a connection to the server's URL.
    fn create_database(server_url: &str, name: &str);
    /// Drops database `name`.
    fn drop_database(server_url: &str, name: &str);
}

#[cfg(feature = "postgres")]
impl TestConnection for diesel::PgConnection {
    const URL_VARIABLE: Option<&'static str> = Some("WATERLINE_TEST_POSTGRES_URL");
    const BACKEND: waterline::Backend = waterline::Backend::Postgres;
    fn create_database(server_url: &str, name: &str) {
        let mut admin =
            Self::establish(server_url).expect("connect to WATERLINE_TEST_POSTGRES_URL");
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .unwrap();
    }
    fn drop_database(server_url: &str, name: &str) {
        if let Ok(mut admin) = Self::establish(server_url) {
            let _ =
                admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
        }
    }
}

#[cfg(feature = "mysql")]
impl TestConnection for diesel::MysqlConnection {
    const URL_VARIABLE: Option<&'static str> = Some("WATERLINE_TEST_MYSQL_URL");
    const BACKEND: waterline::Backend = waterline::Backend::Mysql;
    fn create_database(server_url: &str, name: &str) {
        let mut admin = Self::establish(server_url).expect("connect to WATERLINE_TEST_MYSQL_URL");
        admin
            .batch_execute(&format!("CREATE DATABASE `{name}`"))
            .unwrap();
    }
    fn drop_database(server_url: &str, name: &str) {
        if let Ok(mut admin) = Self::establish(server_url) {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS `{name}`"));
        }
    }
}

#[cfg(feature = "sqlite")]
impl TestConnection for diesel::SqliteConnection {
    const URL_VARIABLE: Option<&'static str> = None;
    const BACKEND: waterline::Backend = waterline::Backend::Sqlite;
    fn create_database(_: &str, _: &str) {}
    fn drop_database(_: &str, _: &str) {}
}

/// A database of its own for one test.
pub struct TestDb<C: TestConnection> {
    /// The URL to connect to.
    pub url: String,
    /// The database's name (the file name for SQLite).
    pub name: String,
    server_url: String,
    _dir: Option<tempfile::TempDir>,
    _connection: std::marker::PhantomData<C>,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl<C: TestConnection> TestDb<C> {
    /// A fresh database, or `None` (after saying so loudly) when the server's URL is unset.
    pub fn new() -> Option<TestDb<C>> {
        let name = format!(
            "waterline_test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
        );
        let Some(variable) = C::URL_VARIABLE else {
            let dir = tempfile::tempdir().unwrap();
            let url = dir
                .path()
                .join(format!("{name}.db"))
                .to_string_lossy()
                .into_owned();
            return Some(TestDb {
                url,
                name,
                server_url: String::new(),
                _dir: Some(dir),
                _connection: Default::default(),
            });
        };
        let Ok(server_url) = std::env::var(variable) else {
            eprintln!(
                "\n!!! SKIPPED: {variable} is not set, so this {:?} test did not run !!!\n",
                C::BACKEND
            );
            return None;
        };
        C::create_database(&server_url, &name);
        let url = match server_url.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("{variable} must end with /<database>"),
        };
        Some(TestDb {
            url,
            name,
            server_url,
            _dir: None,
            _connection: Default::default(),
        })
    }

    /// A new connection to the test's database.
    pub fn connect(&self) -> C {
        C::establish(&self.url).unwrap_or_else(|e| panic!("connect to {}: {e}", self.url))
    }
}

impl<C: TestConnection> Drop for TestDb<C> {
    fn drop(&mut self) {
        if C::URL_VARIABLE.is_some() {
            C::drop_database(&self.server_url, &self.name);
        }
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Text1 {
    #[diesel(sql_type = Nullable<Text>)]
    t: Option<String>,
}

/// One tracking row, as the tests read it.
#[derive(QueryableByName, Debug)]
pub struct Row {
    #[diesel(sql_type = BigInt)]
    pub version: i64,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub checksum: String,
    #[diesel(sql_type = Text)]
    pub checksum_algorithm: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub error: Option<String>,
    #[diesel(sql_type = Text)]
    pub applied_by: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub execution_ms: Option<i64>,
}

/// Queries the tests make of a database, whatever its backend.
pub trait Inspect {
    /// The number a `SELECT ... AS n` returns (cast it to this backend's 64-bit integer).
    fn count(&mut self, sql: &str) -> i64;
    /// Whether `table` exists in the connection's database.
    fn table_exists(&mut self, table: &str) -> bool;
    /// The tracking rows of `table`, oldest first.
    fn rows(&mut self, table: &str) -> Vec<Row>;
    /// Runs SQL, panicking on error.
    fn run(&mut self, sql: &str);
    /// The text a `SELECT ... AS t` returns.
    fn text(&mut self, sql: &str) -> Option<String>;
    /// Whether index `index` exists.
    fn index_exists(&mut self, index: &str) -> bool;
    /// Whether `table` has `column`.
    fn column_exists(&mut self, table: &str, column: &str) -> bool;
    /// Whether waterline's migration lock of the default table is free, seen from this
    /// connection (PostgreSQL: no advisory lock held in this database; MySQL: `IS_FREE_LOCK`
    /// of the documented name; SQLite: an exclusive transaction can start at once).
    fn lock_is_free(&mut self) -> bool;
}

macro_rules! inspect_for {
    ($feature:literal, $conn:ty, $exists:literal, $quote:literal, $index:literal, $column:literal, $free:literal) => {
        #[cfg(feature = $feature)]
        impl Inspect for $conn {
            fn count(&mut self, sql: &str) -> i64 {
                let rows: Vec<Count> = diesel::sql_query(sql).load(self).unwrap_or_else(|e| panic!("{sql}: {e}"));
                rows[0].n
            }
            fn table_exists(&mut self, table: &str) -> bool {
                self.count(&format!($exists, table)) == 1
            }
            fn rows(&mut self, table: &str) -> Vec<Row> {
                let sql = format!(
                    "SELECT version, name, checksum, checksum_algorithm, status, error, applied_by, execution_ms \
                     FROM {} ORDER BY version",
                    format!($quote, table)
                );
                diesel::sql_query(&sql).load(self).unwrap_or_else(|e| panic!("{sql}: {e}"))
            }
            fn run(&mut self, sql: &str) {
                self.batch_execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
            }
            fn text(&mut self, sql: &str) -> Option<String> {
                let rows: Vec<Text1> = diesel::sql_query(sql).load(self).unwrap_or_else(|e| panic!("{sql}: {e}"));
                rows.into_iter().next().and_then(|row| row.t)
            }
            fn index_exists(&mut self, index: &str) -> bool {
                self.count(&format!($index, index)) >= 1
            }
            fn column_exists(&mut self, table: &str, column: &str) -> bool {
                self.count(&format!($column, table, column)) == 1
            }
            fn lock_is_free(&mut self) -> bool {
                let sql: &str = $free;
                if sql.is_empty() {
                    // SQLite: the lock is on `<database file>.waterline-lock`; free when this
                    // process can lock that file now (and a writer can start).
                    let path = self.text("SELECT file AS t FROM pragma_database_list WHERE name = 'main'").unwrap_or_default();
                    let file_free = match std::fs::File::open(format!("{path}.waterline-lock")) {
                        Ok(file) => file.try_lock().is_ok(),
                        Err(_) => true,
                    };
                    let free = self.batch_execute("PRAGMA busy_timeout = 0; BEGIN EXCLUSIVE; COMMIT;").is_ok();
                    let _ = self.batch_execute("ROLLBACK");
                    file_free && free
                } else {
                    self.count(sql) == 1
                }
            }
        }
    };
}

inspect_for!(
    "postgres",
    diesel::PgConnection,
    "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM pg_tables WHERE schemaname = current_schema() AND tablename = '{}'",
    "\"{}\"",
    "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM pg_indexes WHERE indexname = '{}'",
    "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM information_schema.columns WHERE table_name = '{}' AND column_name = '{}'",
    "SELECT CAST(CASE WHEN COUNT(*) = 0 THEN 1 ELSE 0 END AS BIGINT) AS n FROM pg_locks \
     WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
);
inspect_for!(
    "mysql",
    diesel::MysqlConnection,
    "SELECT CAST(COUNT(*) AS SIGNED) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{}'",
    "`{}`",
    "SELECT CAST(COUNT(*) AS SIGNED) AS n FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME = '{}'",
    "SELECT CAST(COUNT(*) AS SIGNED) AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{}' AND COLUMN_NAME = '{}'",
    "SELECT CAST(IS_FREE_LOCK(CONCAT('waterline:', LEFT(SHA2(CONCAT(DATABASE(), '.', 'waterline_migrations'), 256), 40))) AS SIGNED) AS n"
);
inspect_for!(
    "sqlite",
    diesel::SqliteConnection,
    "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM sqlite_master WHERE type = 'table' AND name = '{}'",
    "\"{}\"",
    "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM sqlite_master WHERE type = 'index' AND name = '{}'",
    "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM pragma_table_info('{}') WHERE name = '{}'",
    ""
);

/// The 64-bit integer type of `CAST(... AS ...)` on this backend.
pub fn int64<C: TestConnection>() -> &'static str {
    match C::BACKEND {
        waterline::Backend::Mysql => "SIGNED",
        _ => "BIGINT",
    }
}

/// A migration set read from a temporary folder holding `files`.
pub fn set(files: &[(&str, &str)]) -> waterline::Migrations {
    let dir = tempfile::tempdir().unwrap();
    for (path, sql) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, sql).unwrap();
    }
    waterline::Migrations::from_folder(dir.path(), "migrations").unwrap()
}

/// A migration set embedded from `tests/fixtures/<folder>`, read at run time.
pub fn fixture(folder: &str) -> waterline::Migrations {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(folder);
    waterline::Migrations::from_folder(dir, &format!("tests/fixtures/{folder}")).unwrap()
}

/// One backend's module of tests: `mod $module`, compiled with `$feature`, with `Conn` its
/// connection type and `$db` its [`TestDb`] (the test returns at once, having said so, when
/// the backend's server URL is unset).
#[macro_export]
macro_rules! backend_tests {
    ($module:ident, $feature:literal, $conn:ty, $(fn $name:ident($db:ident) $body:block)*) => {
        #[cfg(feature = $feature)]
        mod $module {
            #[allow(unused_imports)]
            use super::*;
            #[allow(dead_code)]
            type Conn = $conn;
            $(#[test] fn $name() { let Some($db) = common::TestDb::<Conn>::new() else { return }; $body })*
        }
    };
}

/// Defines each test once per compiled-in backend: `mod sqlite`, `mod postgres`, `mod mysql`,
/// with `Conn` the backend's connection type and `$db` its [`TestDb`].
#[macro_export]
macro_rules! on_every_backend {
    ($($tests:tt)*) => {
        backend_tests!(sqlite, "sqlite", diesel::SqliteConnection, $($tests)*);
        on_servers!($($tests)*);
    };
}

/// [`on_every_backend!`] for the database servers only, PostgreSQL and MariaDB: for what
/// SQLite has no counterpart of (one writer, no lock queue), so that no test passes there by
/// asserting nothing.
#[macro_export]
macro_rules! on_servers {
    ($($tests:tt)*) => {
        backend_tests!(postgres, "postgres", diesel::PgConnection, $($tests)*);
        backend_tests!(mysql, "mysql", diesel::MysqlConnection, $($tests)*);
    };
}

/// Copies folder `from` into `to`, recursively.
pub fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_folder(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
