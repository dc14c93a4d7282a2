//! The rules of a waterline migrations folder, shared by the `embed_migrations!` macro and the
//! `waterline` runtime: names and versions, directives, the checksum contract and the data
//! model of a migration set. Plain Rust: no database, no proc-macro.
//!
//! Most users want the `waterline` crate, which re-exports what they need from here.

#![deny(missing_docs)]

pub mod checksum;
pub mod diesel;
pub mod directive;
pub mod embedded;
pub mod folder;
pub mod lint;
pub mod model;
pub mod name;
pub mod problem;
pub mod sql_text;
#[cfg(feature = "sql")]
pub mod statements;

pub use checksum::{Checksum, ALGORITHM};
pub use embedded::EmbeddedMigration;
pub use folder::read_folder;
pub use model::{Backend, Class, Direction, Directives, Migration, Script, Variant};
pub use problem::{Problem, Problems};
