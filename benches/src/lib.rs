//! The parts of waterline's benchmarks: generated workloads, fresh databases, each tool's
//! start-up call, the floors, a round-trip counting proxy, minimal apps, a batched backfill,
//! and statistics. The harness is `src/main.rs`; `examples/noop_profile.rs` and
//! `examples/embed_profile.rs` reuse them for profiling.

pub mod apps;
pub mod backfill;
pub mod big_migration;
pub mod database;
pub mod floors;
pub mod lock_safe;
pub mod measure;
pub mod proxy;
pub mod stats;
pub mod tools;
pub mod workload;
