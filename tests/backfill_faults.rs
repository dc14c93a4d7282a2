//! A batched backfill killed at random moments, again and again: each batch commits with its
//! checkpoint, so every restart goes on after the last committed batch, and in the end the
//! data is exactly an uninterrupted run's, no batch applied twice, none skipped.
//!
//! The migration (`tests/fixtures/backfill-faults/002_fill_doubled.rs`, outside a
//! transaction, batches of 40 keys) sets `doubled` and adds 1 to `touched`, so a batch applied
//! twice shows in the data, and logs each batch's keys in `batch_log` (no unique key), in the
//! batch's transaction.
//!
//! Each round runs the migrations in a child process (this test binary, re-invoked to run
//! [`child_runs_the_migrations_when_asked`] only) and SIGKILLs it at a random moment: paused
//! at the `batch-written` point of its k-th batch (written, not committed), at the
//! `batch-committed` point (committed), or at no point, a moment after its n-th progress line.
//! After each kill the state is checked; the next round's child resumes, waiting out the dead
//! run's hold (a 300 ms `heartbeat_lease`). Once the backfill is done a run in this process
//! finishes and the database is compared with an uninterrupted run's, and a fresh database
//! takes over for the remaining rounds.
//!
//! After each kill, in one snapshot: the checkpoint's batches are the logged ones, each once,
//! the first ones in key order with no gap; the data is that of exactly those batches, each
//! applied once; the backfill is recorded `applied` only with no row left, and 003, which
//! records how many rows were filled when it ran, never runs before that (on MySQL, where a
//! script never shares a transaction with its row, a kill inside 003 leaves it `running`, and
//! the test recovers it as documented: `mark_applied` or `mark_unapplied` by its effect).
//!
//! `WATERLINE_FAULT_ROUNDS` sets the kills per backend (5 by default), `WATERLINE_FAULT_SEED`
//! the random choices (printed, and written with the figures to
//! `target/fault-figures/backfill-<backend>.txt`).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::TestConnection;
use diesel::sql_types::{BigInt, Nullable};
use diesel::QueryableByName;
use waterline::{Error, Progress};

static SET: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/backfill-faults");

/// The version of the backfill; the migration after it, which records in `fill_done` how
/// many rows the backfill had filled when it ran (in a transaction, on every backend).
const BACKFILL: u64 = 2;
const LAST: u64 = 3;
/// Keys a batch covers, as `002_fill_doubled.rs` says.
const BATCH_SIZE: usize = 40;
const ROWS: usize = 2_000;
/// The hold of a run without a heartbeat: a killed run's hold ends this long after its last
/// committed batch.
const LEASE: Duration = Duration::from_millis(300);
/// The longest any one wait may take before the test gives up (a failsafe, never a pass).
const FAILSAFE: Duration = Duration::from_secs(60);

/// The child's environment: the database, and its backend.
const CHILD_URL: &str = "WATERLINE_BACKFILL_CHILD_URL";
const CHILD_BACKEND: &str = "WATERLINE_BACKFILL_CHILD_BACKEND";
/// What the child says on standard error starts with this.
const SAID: &str = "backfill-child:";

/// SplitMix64: small, seeded, good enough to pick kill points.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A number in `low..=high`.
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.below(high - low + 1)
    }
}

/// `WATERLINE_FAULT_SEED`, or one from the clock.
fn base_seed() -> u64 {
    if let Some(seed) = std::env::var("WATERLINE_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return seed;
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    nanos ^ (u64::from(std::process::id()) << 32)
}

fn rounds() -> usize {
    std::env::var("WATERLINE_FAULT_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5)
}

fn backend_name<C: TestConnection>() -> &'static str {
    match C::BACKEND {
        waterline::Backend::Postgres => "postgres",
        waterline::Backend::Mysql => "mysql",
        waterline::Backend::Sqlite => "sqlite",
    }
}

#[derive(QueryableByName, Clone, Debug, PartialEq, Eq)]
struct Item {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    amount: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    doubled: Option<i64>,
    #[diesel(sql_type = BigInt)]
    touched: i64,
}

#[derive(QueryableByName, Clone, Debug, PartialEq, Eq)]
struct Logged {
    #[diesel(sql_type = Nullable<BigInt>)]
    after_key: Option<i64>,
    #[diesel(sql_type = BigInt)]
    last_key: i64,
    #[diesel(sql_type = BigInt)]
    batch_number: i64,
    #[diesel(sql_type = BigInt)]
    rows_changed: i64,
}

/// The two tables' rows, read on each backend's connection.
trait Load: TestConnection {
    /// `items`, by key.
    fn items(&mut self) -> Vec<Item>;
    /// `batch_log`, by key.
    fn logged(&mut self) -> Vec<Logged>;
}

const ITEMS: &str = "SELECT id, amount, doubled, touched FROM items ORDER BY id";
const LOGGED: &str = "SELECT after_key, last_key, batch_number, rows_changed FROM batch_log \
                      ORDER BY last_key, batch_number";

macro_rules! load_on {
    ($($feature:literal => $conn:ty),*) => {$(
        #[cfg(feature = $feature)]
        impl Load for $conn {
            fn items(&mut self) -> Vec<Item> {
                diesel::RunQueryDsl::load(diesel::sql_query(ITEMS), self).unwrap()
            }
            fn logged(&mut self) -> Vec<Logged> {
                diesel::RunQueryDsl::load(diesel::sql_query(LOGGED), self).unwrap()
            }
        }
    )*};
}

load_on!(
    "sqlite" => diesel::SqliteConnection,
    "postgres" => diesel::PgConnection,
    "mysql" => diesel::MysqlConnection
);

/// The seeded rows, `(id, amount)`: ids with gaps, so batches are found by key, not counted.
fn dataset(rng: &mut Rng) -> Vec<(i64, i64)> {
    let mut id = rng.between(1, 5) as i64;
    (0..ROWS)
        .map(|_| {
            let row = (id, rng.below(1_000_000) as i64 - 500_000);
            id += rng.between(1, 3) as i64;
            row
        })
        .collect()
}

/// A fresh database with the tables of 001 and the rows of `data`.
fn seeded<C: TestConnection>(data: &[(i64, i64)]) -> (common::TestDb<C>, C) {
    let db = common::TestDb::<C>::new().expect("the server is set");
    let mut conn = db.connect();
    SET.runner().target(1).run_pending(&mut conn).unwrap();
    for chunk in data.chunks(500) {
        let values: Vec<String> = chunk
            .iter()
            .map(|(id, amount)| format!("({id}, {amount})"))
            .collect();
        conn.run(&format!(
            "INSERT INTO items (id, amount) VALUES {}",
            values.join(", ")
        ));
    }
    (db, conn)
}

/// The batches the backfill of `data` takes, as `batch_log` records them.
fn batches_of(data: &[(i64, i64)]) -> Vec<Logged> {
    data.chunks(BATCH_SIZE)
        .enumerate()
        .map(|(i, chunk)| Logged {
            after_key: i
                .checked_sub(1)
                .map(|before| data[before * BATCH_SIZE + BATCH_SIZE - 1].0),
            last_key: chunk[chunk.len() - 1].0,
            batch_number: i as i64 + 1,
            rows_changed: chunk.len() as i64,
        })
        .collect()
}

/// The table once the batches up to key `last` (none: `None`) have run, each once.
fn filled_up_to(data: &[(i64, i64)], last: Option<i64>) -> Vec<Item> {
    data.iter()
        .map(|&(id, amount)| {
            let done = last.is_some_and(|last| id <= last);
            Item {
                id,
                amount,
                doubled: done.then_some(amount * 2 + id),
                touched: i64::from(done),
            }
        })
        .collect()
}

/// The first row of `found` that is not as `expected`, if any.
fn difference(found: &[Item], expected: &[Item]) -> Option<String> {
    if found.len() != expected.len() {
        return Some(format!("{} rows, not {}", found.len(), expected.len()));
    }
    let (found, expected) = found.iter().zip(expected).find(|(f, e)| f != e)?;
    Some(format!("found {found:?}, expected {expected:?}"))
}

/// Runs the pending migrations, trying again while a dead run's hold is live; also returns
/// how many times it was refused so.
fn run_resuming<C: TestConnection>(
    conn: &mut C,
    runner: &waterline::Runner<'_>,
    on_refused: &mut dyn FnMut(),
) -> Result<(waterline::Report, u64), Error> {
    let failsafe = Instant::now() + FAILSAFE;
    let mut refused = 0;
    loop {
        match runner.run_pending(conn) {
            Err(Error::HeldElsewhere { .. }) if Instant::now() < failsafe => {
                refused += 1;
                on_refused();
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other.map(|report| (report, refused)),
        }
    }
}

/// Says `line` on standard error, for the parent to read.
fn say(line: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{SAID} {line}");
    let _ = stderr.flush();
}

/// The child: runs the migrations on `url`, saying each committed batch.
fn child<C: TestConnection>(url: &str) {
    let mut conn = C::establish(url).unwrap_or_else(|e| panic!("connect to {url}: {e}"));
    say("connected");
    let runner = SET.runner().heartbeat_lease(LEASE).on_progress(|progress| {
        if let Progress::Batch { progress } = progress {
            say(&format!("batch {}", progress.batches));
        }
    });
    match run_resuming(&mut conn, &runner, &mut || say("held elsewhere")) {
        Ok((report, refused)) => say(&format!(
            "done, applied {} after {refused} refusals",
            report.migrations.len()
        )),
        Err(error) => panic!("the child's run failed: {error}"),
    }
}

/// Not a test of its own: the body of the child processes the tests start, which set
/// `WATERLINE_BACKFILL_CHILD_URL`; without it, nothing.
#[test]
fn child_runs_the_migrations_when_asked() {
    let Ok(url) = std::env::var(CHILD_URL) else {
        return;
    };
    let backend = std::env::var(CHILD_BACKEND).unwrap_or_default();
    match backend.as_str() {
        #[cfg(feature = "sqlite")]
        "sqlite" => child::<diesel::SqliteConnection>(&url),
        #[cfg(feature = "postgres")]
        "postgres" => child::<diesel::PgConnection>(&url),
        #[cfg(feature = "mysql")]
        "mysql" => child::<diesel::MysqlConnection>(&url),
        other => panic!("no backend {other:?} compiled in"),
    }
}

/// A child process running the migrations, and what it said on standard error.
struct Run {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    said: Vec<String>,
}

impl Run {
    /// Starts a child on `url`, paused at `pause` (`point:version`) when given.
    fn start<C: TestConnection>(url: &str, pause: Option<&str>) -> Run {
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .args([
                "child_runs_the_migrations_when_asked",
                "--exact",
                "--nocapture",
                "--test-threads=1",
                "--quiet",
            ])
            .env(CHILD_URL, url)
            .env(CHILD_BACKEND, backend_name::<C>())
            .env_remove("WATERLINE_FAULT_PAUSE")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(pause) = pause {
            command.env("WATERLINE_FAULT_PAUSE", pause);
        }
        let mut child = command.spawn().unwrap();
        let stdin = child.stdin.take();
        let stderr = child.stderr.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Run {
            child,
            stdin,
            lines,
            said: Vec::new(),
        }
    }

    /// The child's next line, or `None` once its standard error is closed (it has ended).
    fn line(&mut self) -> Option<String> {
        match self.lines.recv_timeout(FAILSAFE) {
            Ok(line) => {
                self.said.push(line.clone());
                Some(line)
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => None,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = self.child.kill();
                panic!(
                    "the child said nothing for {FAILSAFE:?}:\n{}",
                    self.said.join("\n")
                );
            }
        }
    }

    /// Lets a paused child go on.
    fn go_on(&mut self) {
        let stdin = self.stdin.as_mut().expect("its standard input");
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }

    /// SIGKILL, and waits for it to be gone.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// After its standard error closed: waits for it, which must have succeeded.
    fn ended(mut self, context: &str) {
        drop(self.stdin.take());
        let status = self.child.wait().unwrap();
        assert!(
            status.success(),
            "{context}: the child failed ({status}):\n{}",
            self.said.join("\n")
        );
    }
}

impl Drop for Run {
    /// A test that fails leaves no child behind.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where a child is killed.
#[derive(Clone, Copy, Debug)]
enum Kill {
    /// Paused at its k-th batch written with its checkpoint, not committed.
    Written(u64),
    /// Paused at its k-th batch committed.
    Committed(u64),
    /// Running, a random moment (up to 2 ms; 30 ms after the last batch's, while it finishes
    /// or once it has) after its n-th progress line (0: after it connected).
    Timed(u64, Duration),
}

/// How a child's run ended.
enum Outcome {
    Killed,
    /// It finished before the kill came.
    Finished,
}

/// Runs a child on `url` and kills it as `kill` says; also returns how many times the child
/// was refused by a dead run's live hold.
fn run_and_kill<C: TestConnection>(url: &str, kill: Kill, context: &str) -> (Outcome, u64) {
    let pause = match kill {
        Kill::Written(_) => Some(format!("batch-written:{BACKFILL}")),
        Kill::Committed(_) => Some(format!("batch-committed:{BACKFILL}")),
        Kill::Timed(..) => None,
    };
    let mut run = Run::start::<C>(url, pause.as_deref());
    let (mut seen, mut refused) = (0, 0);
    while let Some(line) = run.line() {
        if line == format!("{SAID} held elsewhere") {
            refused += 1;
        }
        match kill {
            Kill::Written(k) | Kill::Committed(k) => {
                if line.starts_with("waterline-fault: paused at") {
                    seen += 1;
                    if seen == k {
                        run.kill();
                        return (Outcome::Killed, refused);
                    }
                    run.go_on();
                }
            }
            Kill::Timed(n, after) => {
                let counted = line == format!("{SAID} connected")
                    || line.starts_with(&format!("{SAID} batch "));
                if counted {
                    if seen == n {
                        std::thread::sleep(after);
                        run.kill();
                        return (Outcome::Killed, refused);
                    }
                    seen += 1;
                }
            }
        }
    }
    run.ended(context);
    (Outcome::Finished, refused)
}

/// The state after a kill, checked.
struct After {
    /// Batches committed, by the checkpoint.
    batches: usize,
    /// The last migration is applied: nothing left to do.
    done: bool,
    /// The last migration is left `running` (MySQL only).
    last_unfinished: bool,
}

/// Waits until the server has ended the sessions of killed children: a kill lands at once,
/// but the server may still be running what the child sent just before (a COMMIT even). On
/// SQLite the process was the database's only user, and is gone.
fn wait_for_the_dead<C: TestConnection>(conn: &mut C, context: &str) {
    let others = match C::BACKEND {
        waterline::Backend::Postgres => {
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()"
        }
        waterline::Backend::Mysql => {
            "SELECT CAST(COUNT(*) AS SIGNED) AS n FROM information_schema.PROCESSLIST \
             WHERE DB = DATABASE() AND ID <> CONNECTION_ID()"
        }
        waterline::Backend::Sqlite => return,
    };
    let failsafe = Instant::now() + FAILSAFE;
    while conn.count(others) > 0 {
        assert!(
            Instant::now() < failsafe,
            "{context}: a killed child's session outlived it by {FAILSAFE:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The documented recovery of a migration outside a transaction left `running` (on MySQL,
/// 003 killed between its commit and its row): applied if its effect is there, else
/// unapplied, so it runs again.
fn recover_last<C: TestConnection>(conn: &mut C, context: &str) {
    let cast = common::int64::<C>();
    let ran = conn.count(&format!(
        "SELECT CAST(COUNT(*) AS {cast}) AS n FROM fill_done"
    )) == 1;
    let recovered = match ran {
        true => SET.runner().mark_applied(conn, LAST),
        false => SET.runner().mark_unapplied(conn, LAST),
    };
    recovered.unwrap_or_else(|e| panic!("{context}: recovering {LAST}: {e}"));
}

/// Checks what a killed run left: the checkpoint and the log of batches agree (they commit
/// together), each batch is logged once and they follow one another from the first key, the
/// data is that of exactly those batches, each applied once, and the tracking table says
/// `applied` only of a backfill that is done.
///
/// All in one snapshot: a killed client's last COMMIT may still be under way on the server
/// (sent just before the kill), and must not land between two of these reads.
fn check_after<C: Load>(conn: &mut C, data: &[(i64, i64)], context: &str) -> After {
    conn.run(match C::BACKEND {
        waterline::Backend::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ",
        waterline::Backend::Mysql => "START TRANSACTION WITH CONSISTENT SNAPSHOT",
        waterline::Backend::Sqlite => "BEGIN",
    });
    let after = check_in_snapshot(conn, data, context);
    conn.run("COMMIT");
    after
}

fn check_in_snapshot<C: Load>(conn: &mut C, data: &[(i64, i64)], context: &str) -> After {
    let cast = common::int64::<C>();
    let log = conn.logged();
    let twice = conn.count(&format!(
        "SELECT CAST(COUNT(*) AS {cast}) AS n FROM (SELECT last_key FROM batch_log \
         GROUP BY last_key HAVING COUNT(*) > 1) twice"
    ));
    assert_eq!(twice, 0, "{context}: a batch was applied twice: {log:?}");
    let (batches, last_key, rows_done, finished) = match conn
        .table_exists("waterline_migrations_checkpoints")
    {
        false => (0, None, 0, false),
        true => {
            let read = |conn: &mut C, expression: &str| {
                conn.count(&format!(
                    "SELECT CAST(COALESCE({expression}, -1) AS {cast}) AS n \
                         FROM waterline_migrations_checkpoints WHERE version = {BACKFILL}"
                ))
            };
            let batches = read(conn, "SUM(batches)").max(0) as usize;
            let last_key = Some(read(conn, "MAX(last_key)")).filter(|key| *key >= 0);
            let rows_done = read(conn, "SUM(rows_done)").max(0) as usize;
            let finished = read(conn, "SUM(CASE WHEN finished_at IS NULL THEN 0 ELSE 1 END)") > 0;
            (batches, last_key, rows_done, finished)
        }
    };
    assert_eq!(
        log.len(),
        batches,
        "{context}: the batches logged are not the checkpoint's"
    );
    let expected = batches_of(data);
    assert!(
        batches <= expected.len(),
        "{context}: {batches} batches, of {} keys in batches of {BATCH_SIZE}",
        data.len()
    );
    assert_eq!(
        log,
        expected[..batches],
        "{context}: the batches are not the first {batches} in key order, each once"
    );
    assert_eq!(
        last_key,
        log.last().map(|batch| batch.last_key),
        "{context}"
    );
    assert_eq!(
        rows_done,
        log.iter()
            .map(|batch| batch.rows_changed as usize)
            .sum::<usize>(),
        "{context}: the checkpoint's rows"
    );
    assert!(
        !finished || batches == expected.len(),
        "{context}: finished after {batches} batches"
    );
    if let Some(wrong) = difference(&conn.items(), &filled_up_to(data, last_key)) {
        panic!("{context}: the data is not that of the {batches} committed batches, each applied once: {wrong}");
    }
    let statuses: Vec<(u64, String)> = match conn.table_exists("waterline_migrations") {
        true => conn
            .rows("waterline_migrations")
            .into_iter()
            .map(|row| (row.version as u64, row.status))
            .collect(),
        false => Vec::new(),
    };
    let status = |version| {
        statuses
            .iter()
            .find(|(v, _)| *v == version)
            .map(|(_, status)| status.as_str())
    };
    if status(BACKFILL) == Some("applied") {
        let unfilled = conn.count(&format!(
            "SELECT CAST(COUNT(*) AS {cast}) AS n FROM items WHERE doubled IS NULL"
        ));
        assert_eq!(
            unfilled, 0,
            "{context}: the backfill is recorded applied with rows left: {statuses:?}"
        );
        assert!(finished, "{context}: applied, its checkpoint not finished");
    }
    if status(LAST).is_some() {
        assert_eq!(
            status(BACKFILL),
            Some("applied"),
            "{context}: {LAST} ran before the backfill was done: {statuses:?}"
        );
    }
    // 003 ran after the backfill was done, or not at all; at most once. On MySQL, whose
    // scripts never share a transaction with their row, a kill between its commit and its row
    // leaves it `running`, its row there or not (settled by `recover_last`).
    let early = conn.count(&format!(
        "SELECT CAST(COUNT(*) AS {cast}) AS n FROM fill_done WHERE rows_filled <> {ROWS}"
    ));
    assert_eq!(
        early, 0,
        "{context}: {LAST} ran before the backfill was done"
    );
    let runs_of_last = conn.count(&format!(
        "SELECT CAST(COUNT(*) AS {cast}) AS n FROM fill_done"
    ));
    match status(LAST) {
        Some("applied") => assert_eq!(runs_of_last, 1, "{context}: {LAST} applied"),
        Some("running") if C::BACKEND == waterline::Backend::Mysql => {
            assert!(runs_of_last <= 1, "{context}: {LAST} ran twice")
        }
        None => assert_eq!(runs_of_last, 0, "{context}: {LAST} ran, unrecorded"),
        other => panic!("{context}: {LAST} is {other:?}: {statuses:?}"),
    }
    After {
        batches,
        done: status(LAST) == Some("applied"),
        last_unfinished: status(LAST) == Some("running"),
    }
}

/// Finishes the migrations here, waiting out a dead run's hold, and compares the database
/// with `reference`, an uninterrupted run's; the times it was refused by the hold.
fn finish_and_compare<C: Load>(
    conn: &mut C,
    data: &[(i64, i64)],
    reference: &(Vec<Item>, Vec<Logged>),
    context: &str,
) -> u64 {
    let runner = SET.runner().heartbeat_lease(LEASE);
    let (_, refused) = run_resuming(conn, &runner, &mut || {})
        .unwrap_or_else(|e| panic!("{context}: the last run: {e}"));
    let rows = conn.rows("waterline_migrations");
    assert!(
        rows.len() == 3 && rows.iter().all(|row| row.status == "applied"),
        "{context}: {rows:?}"
    );
    let after = check_after(conn, data, context);
    assert!(after.done);
    let total = data.len().div_ceil(BATCH_SIZE);
    assert_eq!(after.batches, total, "{context}: batches in all");
    if let Some(wrong) = difference(&conn.items(), &reference.0) {
        panic!("{context}: the data differs from an uninterrupted run's: {wrong}");
    }
    assert_eq!(
        conn.logged(),
        reference.1,
        "{context}: the batches differ from an uninterrupted run's"
    );
    let status = SET.runner().status(conn).unwrap();
    let backfill = status.migrations[1].backfill.clone().expect("a checkpoint");
    assert!(backfill.finished, "{context}: {backfill:?}");
    assert_eq!(
        (backfill.rows_done, backfill.batches),
        (data.len() as u64, total as u64),
        "{context}"
    );
    refused
}

/// Records a line of figures, as `tests/faults.rs` does.
fn figures(name: &str, line: &str) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fault-figures");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.txt")), format!("{line}\n")).unwrap();
    eprintln!("{name}: {line}");
}

on_every_backend! {
    fn a_backfill_killed_at_random_moments_resumes_to_an_uninterrupted_runs_result(db) {
        drop(db);
        let base = base_seed();
        let mut rng = Rng(base ^ backend_name::<Conn>().bytes().fold(0u64, |hash, byte| hash.wrapping_mul(31).wrapping_add(u64::from(byte))));
        let seed = format!("WATERLINE_FAULT_SEED={base}");
        eprintln!("{}: {seed}", backend_name::<Conn>());
        let data = dataset(&mut rng);
        let total = data.len().div_ceil(BATCH_SIZE);

        // An uninterrupted run: what every interrupted one must end as.
        let reference = {
            let (_db, mut conn) = seeded::<Conn>(&data);
            SET.run_pending(&mut conn).unwrap();
            let reference = (conn.items(), conn.logged());
            assert_eq!(reference.0, filled_up_to(&data, data.last().map(|row| row.0)));
            assert_eq!(reference.1, batches_of(&data));
            reference
        };

        let rounds = rounds();
        let (mut written, mut committed, mut timed, mut finished) = (0, 0, 0, 0);
        let (mut databases, mut refused, mut done_at_kill, mut recovered) = (0, 0, 0, 0);
        let mut current: Option<(common::TestDb<Conn>, Conn)> = None;
        for round in 0..rounds {
            let (db, conn) = current.get_or_insert_with(|| {
                databases += 1;
                seeded::<Conn>(&data)
            });
            let context = format!("seed {seed}, round {round}");
            let before = check_after(conn, &data, &context).batches;
            let remaining = (total - before) as u64;
            assert!(remaining > 0, "{context}: a database with nothing left to do");
            let kill = match rng.below(3) {
                0 => Kill::Written(rng.between(1, remaining)),
                1 => Kill::Committed(rng.between(1, remaining)),
                _ => {
                    // After the last batch, up to 30 ms: into the end of the migration, 003,
                    // or past them.
                    let n = rng.below(remaining + 1);
                    let most = if n == remaining { 30_000 } else { 2_000 };
                    Kill::Timed(n, Duration::from_micros(rng.below(most)))
                }
            };
            let context = format!("{context}, {kill:?} with {before} batches committed before");
            let (outcome, held) = run_and_kill::<Conn>(&db.url, kill, &context);
            refused += held;
            wait_for_the_dead(conn, &context);
            let mut after = check_after(conn, &data, &context);
            eprintln!("{context}: {} batches committed after the kill", after.batches);
            if after.last_unfinished {
                recover_last(conn, &context);
                recovered += 1;
                after = check_after(conn, &data, &context);
            }
            match (outcome, kill) {
                (Outcome::Finished, Kill::Timed(..)) => {
                    assert!(after.done, "{context}: the child ended with work left");
                    finished += 1;
                }
                (Outcome::Finished, _) => panic!("{context}: the child never reached its kill point"),
                (Outcome::Killed, Kill::Written(k)) => {
                    assert_eq!(after.batches, before + k as usize - 1, "{context}: the batch killed before its commit was kept, or one before it lost");
                    written += 1;
                }
                (Outcome::Killed, Kill::Committed(k)) => {
                    assert_eq!(after.batches, before + k as usize, "{context}: a committed batch was lost");
                    committed += 1;
                }
                (Outcome::Killed, Kill::Timed(n, _)) => {
                    assert!(after.batches >= before + n as usize, "{context}: a batch the child said was committed was lost");
                    timed += 1;
                }
            }
            if after.done || after.batches == total {
                done_at_kill += usize::from(after.done);
                let (_db, mut conn) = current.take().unwrap();
                refused += finish_and_compare(&mut conn, &data, &reference, &context);
            }
        }
        if let Some((_db, mut conn)) = current.take() {
            refused += finish_and_compare(&mut conn, &data, &reference, &format!("seed {seed}, the last run"));
        }
        figures(
            &format!("backfill-{}", backend_name::<Conn>()),
            &format!(
                "{rounds} SIGKILLs of a backfill of {ROWS} rows in batches of {BATCH_SIZE} (seed {seed}), over {databases} databases: {written} paused at `batch-written`, {committed} at `batch-committed`, {} at a random moment after a progress line ({finished} of those runs finished first; {done_at_kill} databases were done at a kill; {recovered} kills left 003 `running`, recovered as documented); after each kill the checkpoint and the batch log agreed, the data was that of the committed batches, and `applied` was never recorded with rows left; the restart resumed after the last committed batch (refused {refused} times by a dead run's live hold first), no batch applied twice, none skipped, the data equal to an uninterrupted run's",
                timed + finished
            ),
        );
    }
}
