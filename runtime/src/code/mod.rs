//! Migrations written in Rust: a `<version>_<name>.rs` file in the migrations folder, in the
//! same version order and history as the SQL files, checksummed and verified as they are.
//!
//! The file defines `pub fn up(step: &mut Step<'_>) -> waterline::code::Result`, and may
//! define `down` with the same signature. `embed_migrations!` compiles it into the app, so
//! an edit rebuilds the app, and a missing or misnamed `up` is a compile error naming the file.
//!
//! ```text
//! // migrations/012_backfill_codecs.rs
//! // waterline:background
//! use waterline::code::{Backfill, Step};
//!
//! pub fn up(step: &mut Step<'_>) -> waterline::code::Result {
//!     step.backfill(Backfill::new("streams", "id").batch_size(1_000), |batch| {
//!         let sql = format!("UPDATE streams SET codec = 'h264' WHERE {} AND codec IS NULL", batch.range());
//!         Ok(batch.execute(&sql)?)
//!     })?;
//!     Ok(())
//! }
//! ```
//!
//! Like a script, a migration runs in a transaction with its tracking row unless it says
//! `// waterline:no-transaction` (or `// waterline:background`) before its first item. One
//! outside a transaction is *resumable*: a run that stopped part-way (killed, failed, asked
//! to stop) runs it again from the top at the next start, where each [`Step::backfill`]
//! resumes after its last committed batch. Code before a backfill must therefore check
//! before it changes, as [`Step::has_column`] lets it. See the
//! [guide](crate::guide::rust_migrations).

mod backfill;
mod db;

pub use backfill::{Backfill, Batch, BatchProgress, Filled, DEFAULT_BATCH_SIZE};
pub use db::Db;

use std::fmt;
use std::time::Duration;

use waterline_core::{Backend, Migration};

use crate::runner::{Driver, Progress, Resume};

/// What `up` and `down` return: any error fails the migration, with its message.
pub type Result<T = (), E = Box<dyn std::error::Error + Send + Sync>> = std::result::Result<T, E>;

/// The signature of `up` and `down`.
pub type Entry = for<'a, 'b> fn(&'a mut Step<'b>) -> Result;

/// A migration's code as `embed_migrations!` emits it. Not public API.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct Code {
    version: u64,
    up: Entry,
    down: Option<Entry>,
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Code")
            .field("version", &self.version)
            .field("down", &self.down.is_some())
            .finish_non_exhaustive()
    }
}

impl Code {
    /// The code of migration `version`.
    pub const fn new(version: u64, up: Entry, down: Option<Entry>) -> Code {
        Code { version, up, down }
    }

    /// The version.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// `up`.
    pub fn up(&self) -> Entry {
        self.up
    }

    /// `down`, if the file defines it.
    pub fn down(&self) -> Option<Entry> {
        self.down
    }
}

/// What a migration written in Rust is given: the connection of the backend it runs on, and
/// batched [backfills](Self::backfill) that commit each batch with a checkpoint.
pub struct Step<'a> {
    driver: &'a mut dyn Driver,
    migration: &'a Migration,
    resume: Option<&'a Resume<'a>>,
}

impl fmt::Debug for Step<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Step")
            .field("migration", &self.migration.id())
            .field("backend", &self.backend())
            .field("resumable", &self.resume.is_some())
            .finish()
    }
}

impl<'a> Step<'a> {
    pub(crate) fn new(
        driver: &'a mut dyn Driver,
        migration: &'a Migration,
        resume: Option<&'a Resume<'a>>,
    ) -> Self {
        Step {
            driver,
            migration,
            resume,
        }
    }

    /// The backend the migration runs on.
    pub fn backend(&self) -> Backend {
        self.driver.backend()
    }

    /// The migration's version.
    pub fn version(&self) -> u64 {
        self.migration.version()
    }

    /// Whether the migration runs outside a transaction, where each backfill batch commits
    /// on its own and a stopped run resumes (`// waterline:no-transaction` or `background`).
    pub fn is_resumable(&self) -> bool {
        self.resume.is_some()
    }

    /// Runs one SQL statement; returns how many rows it changed.
    pub fn execute(&mut self, sql: &str) -> diesel::QueryResult<usize> {
        self.driver.execute(sql)
    }

    /// Runs SQL that may be several statements.
    pub fn batch_execute(&mut self, sql: &str) -> diesel::QueryResult<()> {
        self.driver.batch(sql)
    }

    /// The diesel connection, for diesel's query builder; `None` when the runner was given a
    /// connection that is not diesel's own `PgConnection`, `MysqlConnection` or
    /// `SqliteConnection` (give it `&mut *pooled` to run a pooled one's migrations).
    pub fn db(&mut self) -> Option<Db<'_>> {
        self.driver.db()
    }

    /// Whether `table` has a column `column`, in the schema (MySQL: database) the connection
    /// uses: what resumable code checks before it adds one.
    pub fn has_column(&mut self, table: &str, column: &str) -> diesel::QueryResult<bool> {
        let (table, column) = (text_literal(table), text_literal(column));
        let sql = match self.backend() {
            Backend::Postgres => format!(
                "SELECT COUNT(*) AS value FROM information_schema.columns WHERE table_schema = \
                 current_schema() AND table_name = {table} AND column_name = {column}"
            ),
            Backend::Mysql => format!(
                "SELECT CAST(COUNT(*) AS SIGNED) AS value FROM information_schema.columns WHERE \
                 table_schema = DATABASE() AND table_name = {table} AND column_name = {column}"
            ),
            Backend::Sqlite => format!(
                "SELECT COUNT(*) AS value FROM pragma_table_info({table}) WHERE name = {column}"
            ),
        };
        Ok(self.driver.scalar(&sql)?.unwrap_or(0) > 0)
    }

    /// Extends this run's hold on the migration (its heartbeat), for code that works a long
    /// time between backfill batches, each of which extends it by itself. Fails when another
    /// process took the migration over: stop then, with `?`.
    pub fn heartbeat(&mut self) -> Result {
        match self.resume {
            Some(resume) => Ok(resume.heartbeat(self.driver, self.migration)?),
            None => Ok(()),
        }
    }

    /// Walks `backfill`'s table by its key in batches, calling `each` for each batch in a
    /// transaction that also records the batch's checkpoint (the last key and the rows done),
    /// so a killed run resumes after the last committed batch: no batch runs twice, none is
    /// skipped. `each` changes the rows of [`Batch::range`] and returns how many it changed.
    ///
    /// Needs a migration outside a transaction (`// waterline:no-transaction` or
    /// `// waterline:background`): in a transaction its batches could not commit one by one.
    /// Reports every batch to the runner's [progress](crate::Runner::on_progress) and to
    /// `tracing`.
    pub fn backfill(
        &mut self,
        backfill: Backfill,
        mut each: impl FnMut(&mut Batch<'_>) -> Result<usize>,
    ) -> Result<Filled> {
        let Some(resume) = self.resume else {
            return Err(Box::new(Interrupted::InTransaction {
                file: self.migration.path().to_owned(),
            }));
        };
        backfill::run(self.driver, self.migration, resume, &backfill, &mut each)
    }
}

/// Why a backfill ended early, as the error a migration's `?` hands back to the runner.
#[derive(Debug)]
#[non_exhaustive]
pub enum Interrupted {
    /// A stop was requested (SIGTERM, [`Stop`](crate::Stop)); the batches done are
    /// committed with their checkpoint, and the next run resumes after them.
    Stopped,
    /// Another process took the migration over (this run's heartbeat ran out): the batch
    /// in progress was rolled back, and the other process goes on from the checkpoint.
    TakenOver {
        /// Who holds the migration now, if known.
        holder: Option<String>,
    },
    /// A backfill in a migration that runs in a transaction.
    InTransaction {
        /// The migration's file.
        file: String,
    },
}

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Interrupted::Stopped => f.write_str(
                "the backfill stopped between batches, as asked; the batches done are \
                 committed with their checkpoint, and the next run resumes after them",
            ),
            Interrupted::TakenOver { holder } => write!(
                f,
                "another process ({}) took the migration over after this run's heartbeat ran \
                 out; the batch in progress was rolled back",
                holder.as_deref().unwrap_or("unknown")
            ),
            Interrupted::InTransaction { file } => write!(
                f,
                "`{file}` runs a backfill in a transaction, where its batches cannot commit one \
                 by one; add `// waterline:no-transaction` (or `// waterline:background`) at \
                 the top of the file"
            ),
        }
    }
}

impl std::error::Error for Interrupted {}

/// `text` as a SQL string literal.
pub(crate) fn text_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// How often a background run looks again at a migration another process holds.
pub(crate) fn poll_interval(lease: Duration) -> Duration {
    (lease / 4).clamp(Duration::from_millis(50), Duration::from_secs(2))
}

/// Tells the runner's observer of a batch.
pub(crate) fn observe(resume: &Resume<'_>, progress: &BatchProgress<'_>) {
    if let Some(observer) = resume.observer {
        observer(Progress::Batch { progress });
    }
}
