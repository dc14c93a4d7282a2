//! waterline embeds a folder of SQL migrations into your binary at compile time and applies
//! them through diesel at start-up, with every applied migration recorded and
//! checksum-verified.
//!
//! ```
//! static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("../migrations");
//!
//! for migration in MIGRATIONS.iter() {
//!     println!("{} {}", migration.version_text(), migration.name());
//! }
//! ```
//!
//! A badly named, duplicated or malformed migration is a compile error, not a production
//! incident. The rules, the checksum contract and the `build.rs` line that makes cargo notice
//! added files are in the README.

// With `cli` or `runner` but no backend (a build that only inspects migrations), the glue
// between the runner and diesel's backends has nothing to serve.
#[cfg(feature = "cli")]
#[cfg_attr(
    not(any(feature = "postgres", feature = "mysql", feature = "sqlite")),
    allow(dead_code, unused_imports)
)]
pub mod cli;
#[cfg(feature = "runner")]
mod error;
mod migrations;
#[cfg(feature = "runner")]
#[cfg_attr(
    not(any(feature = "postgres", feature = "mysql", feature = "sqlite")),
    allow(dead_code, unused_imports)
)]
mod runner;
mod stale;

#[cfg(feature = "runner")]
pub use error::{Drift, Error, MigrationRef};
pub use migrations::Migrations;
#[cfg(feature = "runner")]
pub use runner::{
    Baseline, MigrationConnection, MigrationStatus, Plan, PlannedMigration, Progress, Ran, Repair,
    Report, RunDirection, Runner, State, Status, SupportedBackend, DEFAULT_LOCK_TIMEOUT,
    DEFAULT_TABLE,
};
pub use stale::StaleEmbed;
pub use waterline_core::{
    Backend, Checksum, Direction, Directives, Migration, Problem, Problems, Script, Variant,
    ALGORITHM,
};
pub use waterline_macros::embed_migrations;

/// What `embed_migrations!` expands to. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::Migrations;
    pub use std::borrow::Cow;
    pub use waterline_core::{
        Backend, Checksum, Direction, Directives, EmbeddedMigration, Migration, Script, Variant,
    };
}
