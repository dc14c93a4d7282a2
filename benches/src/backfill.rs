//! A batched backfill of 1,000,000 rows, 1,000 keys a batch: waterline's Rust migration
//! (`migrations/backfill/002_fill_items.rs`, a background one, run by `run_background`)
//! against a hand-written keyset loop through diesel with the same boundary query and the
//! same UPDATE, one transaction per batch and no checkpoint. Each runs on a fresh database
//! with a fresh copy of the table; the order alternates from run to run.
//!
//! Beside the throughput: each batch's duration as waterline's progress events report it
//! (`BatchProgress::batch_time`, its commit included), and the start-up with the backfill
//! pending (`run_pending` returns having deferred it) against a no-op start-up (everything
//! applied), each timed on a fresh connection made before the clock starts.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::query_builder::SqlQuery;
use diesel::query_dsl::methods::ExecuteDsl;
use diesel::query_dsl::LoadQuery;
use diesel::result::QueryResult;
use diesel::sql_types::{BigInt, Nullable};
use diesel::{Connection, MysqlConnection, PgConnection, RunQueryDsl, SqliteConnection};
use waterline::{MigrationConnection, Progress};

use crate::database::{Backend, Database, Servers};
use crate::proxy;

/// `001_create_deploys.sql`, the schema before the deploy (applied untimed), and
/// `002_fill_items.rs`, the background backfill.
pub static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("migrations/backfill");

/// The rows of `items`, ids 1 to `ROWS`.
pub const ROWS: i64 = 1_000_000;

/// Keys a batch covers, as `002_fill_items.rs` says too.
pub const BATCH_SIZE: u64 = 1_000;

/// Start-ups timed per run and kind, after the untimed first one.
const START_UP_SAMPLES: usize = 10;

/// What was measured on one backend.
pub struct Figures {
    /// The backend.
    pub backend: Backend,
    /// The server's version.
    pub version: String,
    /// waterline's `run_background`, the whole backfill, one sample per run.
    pub waterline: Vec<Duration>,
    /// The hand-written loop, the whole backfill, one sample per run.
    pub hand_written: Vec<Duration>,
    /// Every batch of waterline's, from its progress events.
    pub waterline_batches: Vec<Duration>,
    /// Every batch of the hand-written loop, timed the same way (its transaction, commit
    /// included).
    pub hand_written_batches: Vec<Duration>,
    /// `run_pending` with the backfill pending: it defers it and returns.
    pub deferring: Vec<Duration>,
    /// `run_pending` with everything applied.
    pub noop: Vec<Duration>,
    /// The round trips of a deferring start-up, less connecting (counted once; `None` on
    /// SQLite).
    pub deferring_trips: Option<usize>,
    /// The round trips of a no-op start-up.
    pub noop_trips: Option<usize>,
    /// Making the table of `ROWS` rows, per copy.
    pub setup: Vec<Duration>,
}

/// Measures `runs` runs on `backend`: in each, waterline's backfill and the hand-written
/// loop, each on a fresh database, waterline first in even runs, the loop first in odd ones.
pub fn measure(backend: Backend, servers: &Servers, runs: usize) -> Figures {
    match backend {
        Backend::Postgres => measure_on::<PgConnection>(backend, servers, runs),
        Backend::Mysql => measure_on::<MysqlConnection>(backend, servers, runs),
        Backend::Sqlite => measure_on::<SqliteConnection>(backend, servers, runs),
    }
}

fn measure_on<C: Conn>(backend: Backend, servers: &Servers, runs: usize) -> Figures {
    let mut figures = Figures {
        backend,
        version: String::new(),
        waterline: Vec::new(),
        hand_written: Vec::new(),
        waterline_batches: Vec::new(),
        hand_written_batches: Vec::new(),
        deferring: Vec::new(),
        noop: Vec::new(),
        deferring_trips: None,
        noop_trips: None,
        setup: Vec::new(),
    };
    for run in 0..runs {
        for turn in 0..2 {
            let db = Database::fresh(backend, servers, "backfill");
            let mut conn = C::establish(&db.url).unwrap();
            if figures.version.is_empty() {
                figures.version = version(&mut conn, backend);
            }
            figures
                .setup
                .push(timed(|| create_items(&mut conn, backend)));
            drop(conn);
            let (label, took) = if (run + turn) % 2 == 0 {
                waterline_leg::<C>(&db, &mut figures);
                ("waterline", figures.waterline.last())
            } else {
                hand_written_leg::<C>(&db, backend, &mut figures);
                ("hand-written loop", figures.hand_written.last())
            };
            let took = took.expect("one sample a leg").as_secs_f64();
            eprintln!(
                "  run {}: {label}, {took:.2} s ({:.0} rows/s)",
                run + 1,
                ROWS as f64 / took
            );
        }
    }
    figures
}

/// The start-ups with the backfill pending, the backfill by `run_background`, then the no-op
/// start-ups.
fn waterline_leg<C: Conn>(db: &Database, figures: &mut Figures) {
    let mut conn = C::establish(&db.url).unwrap();
    let first = MIGRATIONS.run_pending(&mut conn).unwrap();
    assert_eq!((first.migrations.len(), first.deferred.len()), (1, 1));
    for _ in 0..START_UP_SAMPLES {
        let mut conn = C::establish(&db.url).unwrap();
        let clock = Instant::now();
        let report = MIGRATIONS.run_pending(&mut conn).unwrap();
        figures.deferring.push(clock.elapsed());
        assert!(report.migrations.is_empty() && report.deferred.len() == 1);
    }
    if figures.deferring_trips.is_none() {
        figures.deferring_trips = start_up_trips::<C>(db);
    }

    let batches = Mutex::new(Vec::with_capacity(batches_expected()));
    let runner = MIGRATIONS.runner().on_progress(|progress| {
        if let Progress::Batch { progress } = progress {
            batches.lock().unwrap().push(progress.batch_time);
        }
    });
    let mut conn = C::establish(&db.url).unwrap();
    let clock = Instant::now();
    let report = runner.run_background(&mut conn).unwrap();
    figures.waterline.push(clock.elapsed());
    drop(runner);
    assert_eq!(report.migrations.len(), 1);
    let batches = batches.into_inner().unwrap();
    assert_eq!(batches.len(), batches_expected(), "one event a batch");
    figures.waterline_batches.extend(batches);
    assert_filled(&mut conn);

    drop(MIGRATIONS.run_pending(&mut conn).unwrap());
    for _ in 0..START_UP_SAMPLES {
        let mut conn = C::establish(&db.url).unwrap();
        let clock = Instant::now();
        let report = MIGRATIONS.run_pending(&mut conn).unwrap();
        figures.noop.push(clock.elapsed());
        assert!(report.migrations.is_empty() && report.deferred.is_empty());
    }
    if figures.noop_trips.is_none() {
        figures.noop_trips = start_up_trips::<C>(db);
    }
}

/// The round trips of one `run_pending` on `db`, less connecting, counted by a proxy that
/// reads the wire protocol; `None` on SQLite, which is in-process.
fn start_up_trips<C: Conn>(db: &Database) -> Option<usize> {
    let protocol = match db.backend {
        Backend::Postgres => proxy::Protocol::Postgres,
        Backend::Mysql => proxy::Protocol::Mysql,
        Backend::Sqlite => return None,
    };
    let upstream = db.address();
    let proxy = proxy::Proxy::start(upstream, protocol);
    let url = db
        .url
        .replace(upstream, &format!("127.0.0.1:{}", proxy.port));
    proxy.reset();
    let mut conn = C::establish(&url).unwrap();
    let connecting = proxy.count();
    drop(MIGRATIONS.run_pending(&mut conn).unwrap());
    Some(proxy.count() - connecting)
}

/// The hand-written loop: per batch, in one transaction, the boundary query and the UPDATE.
fn hand_written_leg<C: Conn>(db: &Database, backend: Backend, figures: &mut Figures) {
    let mut conn = C::establish(&db.url).unwrap();
    let mut batches = Vec::with_capacity(batches_expected());
    let clock = Instant::now();
    let mut after = None;
    loop {
        let started = Instant::now();
        let last = conn
            .transaction(|tx| {
                let Some(last) = tx.scalar(&boundary_sql(backend, after))? else {
                    return Ok(None);
                };
                let update = format!(
                    "UPDATE items SET filled = 1 WHERE {} AND filled IS NULL",
                    range(backend, after, last)
                );
                tx.run(&update)?;
                QueryResult::Ok(Some(last))
            })
            .unwrap();
        let Some(last) = last else { break };
        batches.push(started.elapsed());
        after = Some(last);
    }
    figures.hand_written.push(clock.elapsed());
    assert_eq!(batches.len(), batches_expected());
    figures.hand_written_batches.extend(batches);
    assert_filled(&mut conn);
}

fn batches_expected() -> usize {
    (ROWS as u64).div_ceil(BATCH_SIZE) as usize
}

/// The highest key of the next batch, as waterline's `Backfill` asks it (the same text).
fn boundary_sql(backend: Backend, after: Option<i64>) -> String {
    let key = quote(backend, "id");
    let after = match after {
        Some(after) => format!("{key} > {after}"),
        None => format!("{key} IS NOT NULL"),
    };
    format!(
        "SELECT CAST(MAX(waterline_key) AS {}) AS value FROM (SELECT {key} AS waterline_key \
         FROM {} WHERE {after} ORDER BY {key} LIMIT {BATCH_SIZE}) waterline_batch",
        bigint(backend),
        quote(backend, "items"),
    )
}

/// The batch's keys, as waterline's `Batch::range` writes them.
fn range(backend: Backend, after: Option<i64>, last: i64) -> String {
    let key = quote(backend, "id");
    match after {
        Some(after) => format!("{key} > {after} AND {key} <= {last}"),
        None => format!("{key} <= {last}"),
    }
}

fn quote(backend: Backend, name: &str) -> String {
    match backend {
        Backend::Mysql => format!("`{name}`"),
        Backend::Postgres | Backend::Sqlite => format!("\"{name}\""),
    }
}

fn bigint(backend: Backend) -> &'static str {
    match backend {
        Backend::Mysql => "SIGNED",
        Backend::Postgres | Backend::Sqlite => "BIGINT",
    }
}

/// `items` with ids 1 to `ROWS` and `filled` NULL, made in one statement on the server. On
/// SQLite the key is `INTEGER PRIMARY KEY`, its 64-bit rowid: `BIGINT PRIMARY KEY` would be a
/// second index beside the rowid, which no SQLite schema keyed by an integer has.
fn create_items<C: Conn>(conn: &mut C, backend: Backend) {
    let statements: &[&str] = match backend {
        Backend::Postgres => &[
            "CREATE TABLE items (id BIGINT PRIMARY KEY, filled INTEGER)",
            "INSERT INTO items (id) SELECT g FROM generate_series(1, 1000000) g",
            // Hint bits set and statistics taken now rather than by the first pass of either
            // loop or by autovacuum during it; no dirty buffers left for it to write.
            "VACUUM ANALYZE items",
            "CHECKPOINT",
        ],
        Backend::Mysql => &[
            "CREATE TABLE items (id BIGINT PRIMARY KEY, filled INTEGER) ENGINE = InnoDB",
            "SET SESSION max_recursive_iterations = 1000000",
            "INSERT INTO items (id) WITH RECURSIVE seq (n) AS (SELECT 1 UNION ALL SELECT n + 1 \
             FROM seq WHERE n < 1000000) SELECT n FROM seq",
        ],
        Backend::Sqlite => &[
            "CREATE TABLE items (id INTEGER PRIMARY KEY, filled INTEGER)",
            "WITH RECURSIVE seq (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < \
             1000000) INSERT INTO items (id) SELECT n FROM seq",
        ],
    };
    for statement in statements {
        conn.batch_execute(statement)
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
    let count = conn.scalar("SELECT COUNT(*) AS value FROM items").unwrap();
    assert_eq!(count, Some(ROWS));
}

/// Every row filled, once.
fn assert_filled<C: Conn>(conn: &mut C) {
    let filled = conn
        .scalar("SELECT COUNT(*) AS value FROM items WHERE filled = 1")
        .unwrap();
    assert_eq!(filled, Some(ROWS), "every row filled");
}

/// The server's version, as the results name it.
fn version<C: Conn>(conn: &mut C, backend: Backend) -> String {
    let sql = match backend {
        Backend::Postgres => "SELECT current_setting('server_version') AS value",
        Backend::Mysql => "SELECT VERSION() AS value",
        Backend::Sqlite => "SELECT sqlite_version() AS value",
    };
    conn.text(sql).unwrap().unwrap_or_default()
}

fn timed(work: impl FnOnce()) -> Duration {
    let clock = Instant::now();
    work();
    clock.elapsed()
}

#[derive(diesel::QueryableByName)]
struct Value {
    #[diesel(sql_type = Nullable<BigInt>)]
    value: Option<i64>,
}

#[derive(diesel::QueryableByName)]
struct Text {
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
}

/// A diesel connection of any backend, as waterline takes it, with plain SQL: a scalar, a
/// statement.
trait Conn: Connection + SimpleConnection + MigrationConnection {
    /// The `value` column of the first row, if any and not NULL.
    fn scalar(&mut self, sql: &str) -> QueryResult<Option<i64>>;
    /// The `value` column of the first row, as text.
    fn text(&mut self, sql: &str) -> QueryResult<Option<String>>;
    /// Runs `sql`; returns the rows it changed.
    fn run(&mut self, sql: &str) -> QueryResult<usize>;
}

impl<C> Conn for C
where
    C: Connection + SimpleConnection + MigrationConnection,
    for<'q> SqlQuery: LoadQuery<'q, C, Value> + LoadQuery<'q, C, Text>,
    SqlQuery: ExecuteDsl<C>,
{
    fn scalar(&mut self, sql: &str) -> QueryResult<Option<i64>> {
        let rows: Vec<Value> = diesel::sql_query(sql).load(self)?;
        Ok(rows.into_iter().next().and_then(|row| row.value))
    }

    fn text(&mut self, sql: &str) -> QueryResult<Option<String>> {
        let rows: Vec<Text> = diesel::sql_query(sql).load(self)?;
        Ok(rows.into_iter().next().map(|row| row.value))
    }

    fn run(&mut self, sql: &str) -> QueryResult<usize> {
        diesel::sql_query(sql).execute(self)
    }
}
