//! The floors: what the same work costs with nothing but the database's own tools.

use std::process::Command;
use std::time::{Duration, Instant};

use diesel::sql_types::{BigInt, Text};
use diesel::{Connection, QueryableByName, RunQueryDsl};

use crate::database::{Backend, Database};
use crate::workload::Workload;

#[derive(QueryableByName)]
#[allow(dead_code)]
struct Row {
    #[diesel(sql_type = BigInt)]
    version: i64,
    #[diesel(sql_type = Text)]
    checksum: String,
}

/// The floor of a no-op start-up: one SELECT of waterline's tracking table, the versions and
/// checksums of all rows.
pub const SELECT: &str = "SELECT version, checksum FROM waterline_migrations";

/// `sql` (returning `version` and `checksum`) on a new connection to `url`; the query alone
/// is timed.
pub fn select(backend: Backend, url: &str, sql: &str) -> Duration {
    match backend {
        Backend::Sqlite => timed_select::<diesel::SqliteConnection>(url, sql),
        Backend::Postgres => timed_select::<diesel::PgConnection>(url, sql),
        Backend::Mysql => timed_select::<diesel::MysqlConnection>(url, sql),
    }
}

/// `sql` on a new connection of type `C`; the query alone is timed.
fn timed_select<C>(url: &str, sql: &str) -> Duration
where
    C: Connection,
    for<'a> diesel::query_builder::SqlQuery: diesel::query_dsl::LoadQuery<'a, C, Row>,
{
    let mut conn = C::establish(url).unwrap();
    let start = Instant::now();
    let _: Vec<Row> = diesel::sql_query(sql).load(&mut conn).unwrap();
    start.elapsed()
}

/// The workload's SQL run by `psql` or `sqlite3`, in one transaction or one per migration,
/// the whole process timed.
pub fn cli(database: &Database, workload: &Workload, together: bool) -> Option<Duration> {
    let script = match together {
        true => format!("BEGIN;\n{}COMMIT;\n", workload.all_sql()),
        false => (1..=workload.size)
            .map(|i| format!("BEGIN;\n{}COMMIT;\n", crate::workload::sql(i)))
            .collect(),
    };
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), script).unwrap();
    let mut command = match database.backend {
        Backend::Postgres => {
            let mut psql = Command::new("psql");
            psql.args(["-q", "-X", "-v", "ON_ERROR_STOP=1", "-f"])
                .arg(file.path())
                .arg(&database.url);
            psql
        }
        Backend::Sqlite => {
            let mut sqlite3 = Command::new("sqlite3");
            sqlite3
                .arg(&database.url)
                .stdin(std::fs::File::open(file.path()).unwrap());
            sqlite3
        }
        Backend::Mysql => return None,
    };
    let start = Instant::now();
    let status = command
        .stdout(std::process::Stdio::null())
        .status()
        .expect("the client runs");
    assert!(
        status.success(),
        "the floor's client failed on {}",
        database.url
    );
    Some(start.elapsed())
}
