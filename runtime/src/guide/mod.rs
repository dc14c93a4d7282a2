//! The waterline guide: the rules of the migrations folder, what a run does, and what holds
//! when things go wrong.
//!
//! The [crate's front page](crate) shows the dependency line and the start-up call; these
//! pages are the reference, one topic each. Their Rust examples are compiled and run as
//! doctests, most of them on an in-memory SQLite database.
//!
//! ## Pages
//!
//! - [`tour`]: five minutes with StreamVault, the example app: migrate, add a migration, see
//!   a misnamed and an edited one refused; and how to run the tests.
//! - [`folder`]: the migrations folder: layout, naming rules (with a table of accepted and
//!   rejected names), contents, what is ignored, how problems are reported, directives.
//! - [`diesel`]: coming from diesel_migrations: the two-line change, diesel's layout, adopting
//!   the database, keeping `__diesel_schema_migrations` in step, history the lints accept.
//! - [`checksums`]: the checksum algorithm, its test vectors, and `.gitattributes`.
//! - [`rebuilds`]: adding, editing and removing migrations; the `build.rs` line;
//!   [`check_embed_is_current`](crate::Migrations::check_embed_is_current).
//! - [`running`]: the runner's settings and operations, the cargo features, connections
//!   (r2d2, diesel-async), and what a run does step by step.
//! - [`rust_migrations`]: migrations written in Rust: the file, directives, transactions and
//!   resumable runs, batched backfills applied exactly once, progress, background migrations
//!   and holds, limits, and StreamVault's Pattern 3.
//! - [`tracking_table`]: the tracking table's columns and its versioned layout.
//! - [`locking`]: the lock each backend takes, how to find it, and lock timeouts.
//! - [`cli`]: the `migrate` command: mounting it, database URLs, commands, exit codes,
//!   output and JSON.
//! - [`lints`]: the compile-time lints, error and advice rules, and `migrate lint`.
//! - [`guarantees`]: guarantees and refusals, the proof under faults, and the fault-pause
//!   hook.
//! - [`performance`]: the benchmark against diesel_migrations and refinery, its last run, how
//!   waterline gets there and what remains.
//!
//! ## The repository
//!
//! The source is at <https://github.com/waterline-rs/waterline>:
//!
//! ```text
//! core/        waterline-core: folder rules, names, directives, checksums, lints (plain Rust)
//! macros/      waterline-macros: embed_migrations!, a thin shell over core
//! runtime/     waterline: the crate you depend on; re-exports the macro; the runner
//! src/main.rs  the example app (StreamVault): waterline's migrate command on migrations/
//! tests/       end-to-end tests: ui (compile-fail) cases, embedding, rebuilds, the runtime and
//!              the CLI binary on every backend, faults
//! benches/     waterline-bench: waterline against diesel_migrations and refinery (not built by
//!              the test command)
//! ```

#[doc = include_str!("tour.md")]
pub mod tour {}

#[doc = include_str!("folder.md")]
pub mod folder {}

#[doc = include_str!("diesel.md")]
pub mod diesel {}

#[doc = include_str!("checksums.md")]
pub mod checksums {}

#[doc = include_str!("rebuilds.md")]
pub mod rebuilds {}

#[doc = include_str!("running.md")]
pub mod running {}

#[doc = include_str!("rust_migrations.md")]
pub mod rust_migrations {}

#[doc = include_str!("tracking_table.md")]
pub mod tracking_table {}

#[doc = include_str!("locking.md")]
pub mod locking {}

#[doc = include_str!("cli.md")]
pub mod cli {}

#[doc = include_str!("lints.md")]
pub mod lints {}

#[doc = include_str!("guarantees.md")]
pub mod guarantees {}

#[doc = include_str!("performance.md")]
pub mod performance {}
