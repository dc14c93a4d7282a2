//! waterline embeds a folder of SQL migrations into your binary at compile time and applies
//! them through diesel at start-up, on PostgreSQL, MySQL/MariaDB and SQLite, with every
//! applied migration recorded and checksum-verified. A badly named, duplicated or malformed
//! migration is a compile error, not a production incident.
//!
//! ```toml
//! [dependencies]
//! waterline = { version = "0.1", features = ["postgres"] } # or "mysql", "sqlite"
//! diesel = { version = "2.3", features = ["postgres"] }
//! ```
//!
//! ```no_run
//! # #[cfg(feature = "postgres")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use diesel::{Connection, PgConnection};
//!
//! // Reads ./migrations beside Cargo.toml; embed_migrations!("db/migrations") reads another.
//! static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("../migrations");
//!
//! let mut conn = PgConnection::establish(&std::env::var("DATABASE_URL")?)?;
//! let report = MIGRATIONS.run_pending(&mut conn)?;
//! println!("{report}");
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "postgres"))]
//! # fn main() {}
//! ```
//!
//! Add a one-line `build.rs` so that cargo rebuilds when a migration is *added* (an edited or
//! removed one is noticed without it; see [`guide::rebuilds`]):
//!
//! ```
//! fn main() {
//!     println!("cargo:rerun-if-changed=migrations");
//! }
//! ```
//!
//! At start-up [`Migrations::run_pending`] reads the tracking table once; when something is
//! pending it takes a lock against other replicas, verifies every applied migration's
//! checksum, and applies the pending ones in order, each recorded with its duration. When
//! anything is wrong it returns an [`Error`] that says what to do, and leaves the database as
//! it was. [`Migrations::runner`] gives a [`Runner`] for the settings and the other operations
//! (status, plan, revert, mark, repair, baseline), and [`cli::MigrateCommand`] is a `migrate`
//! command any app can mount.
//!
//! # Cargo features
//!
//! | feature | what it adds |
//! |---|---|
//! | `postgres`, `mysql`, `sqlite` | the runner for that backend, through diesel's backend of the same name; none is on by default |
//! | `cli` | [`cli`], the `migrate` command; turns on `folder` |
//! | `folder` | [`Migrations::from_folder`], which reads a folder at run time with the same rules as the macro |
//!
//! An app that only runs its embedded migrations needs neither `cli` nor `folder`, and its
//! binary carries no SQL parser: the macro locates statements at compile time.
//!
//! # The guide
//!
//! The reference lives in [`guide`]: the rules of the migrations folder, checksums, what a run
//! does, the tracking table, locking, the `migrate` command, lints, the guarantees and what
//! proves them, and performance.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
// The docs show build scripts, whose whole content is a `fn main`.
#![allow(clippy::needless_doctest_main)]

// With `cli` or `runner` but no backend (a build that only inspects migrations), the glue
// between the runner and diesel's backends has nothing to serve.
#[cfg(feature = "cli")]
#[cfg_attr(docsrs, doc(cfg(feature = "cli")))]
#[cfg_attr(
    not(any(feature = "postgres", feature = "mysql", feature = "sqlite")),
    allow(dead_code, unused_imports)
)]
pub mod cli;
#[cfg(feature = "runner")]
#[cfg_attr(
    docsrs,
    doc(cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite")))
)]
#[cfg_attr(
    not(any(feature = "postgres", feature = "mysql", feature = "sqlite")),
    allow(dead_code)
)]
pub mod code;
#[cfg(feature = "runner")]
mod error;
pub mod guide;
mod migrations;
#[cfg(not(feature = "runner"))]
mod no_backend;
#[cfg(feature = "runner")]
#[cfg_attr(
    not(any(feature = "postgres", feature = "mysql", feature = "sqlite")),
    allow(dead_code, unused_imports)
)]
mod runner;
mod stale;

#[cfg(feature = "runner")]
#[cfg_attr(
    docsrs,
    doc(cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite")))
)]
pub use error::{Drift, Error, MigrationRef};
pub use migrations::Migrations;
#[cfg(not(feature = "runner"))]
pub use no_backend::MigrationConnection;
#[cfg(feature = "runner")]
#[cfg_attr(
    docsrs,
    doc(cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite")))
)]
pub use runner::{
    Ahead, BackfillStatus, Baseline, LockRetry, Locking, MigrationConnection, MigrationStatus,
    Plan, PlannedMigration, Progress, Ran, Repair, Report, RunDirection, Runner, State, Status,
    Stop, SupportedBackend, DEFAULT_HEARTBEAT_LEASE, DEFAULT_LEASE, DEFAULT_LOCK_RETRY,
    DEFAULT_LOCK_TIMEOUT, DEFAULT_PROGRESS_INTERVAL, DEFAULT_TABLE,
};
pub use stale::StaleEmbed;
pub use waterline_core::{
    Backend, Checksum, Direction, Directives, Migration, Problem, Problems, Script, Variant,
    ALGORITHM,
};
/// Embeds a migrations folder into the binary as a [`Migrations`], checked at compile time.
///
/// `embed_migrations!()` reads `migrations/` beside the crate's `Cargo.toml`;
/// `embed_migrations!("path")` reads a folder relative to it. Every problem of the folder (a
/// bad or duplicate version, a missing down script, an invalid directive, ...) and every lint
/// error is a compile error naming the file and the fix; see the
/// [folder rules](crate::guide::folder) and the [lints](crate::guide::lints).
///
/// ```
/// static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("../migrations");
///
/// assert_eq!(MIGRATIONS.iter().next().unwrap().version(), 1);
/// ```
///
/// `lint = strict` makes lint advice (for example an index built without `CONCURRENTLY`) fail
/// the build as well; `lint = errors`, the default, fails it only on migrations certain to fail:
///
/// ```
/// static MIGRATIONS: waterline::Migrations =
///     waterline::embed_migrations!("../migrations", lint = strict);
/// # assert!(!MIGRATIONS.is_empty());
/// ```
///
/// Cargo rebuilds for an edited or removed file on its own, but for an added one only when a
/// `build.rs` watches the folder: see [rebuilds](crate::guide::rebuilds).
pub use waterline_macros::embed_migrations;

/// What `embed_migrations!` expands to. Not public API.
#[doc(hidden)]
pub mod __private {
    #[cfg(feature = "runner")]
    pub use crate::code::Code;
    pub use crate::Migrations;
    pub use std::borrow::Cow;
    pub use waterline_core::{
        Backend, Checksum, Class, Direction, Directives, EmbeddedMigration, Migration, Script,
        Variant,
    };
}
