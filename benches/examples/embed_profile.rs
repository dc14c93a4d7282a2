//! The work `embed_migrations!` does at compile time on one big data script, step by step,
//! without rustc around it: reading the folder (with the checksum and directives), the lints
//! the macro runs (`lint = errors`, then `lint = strict`), and locating the statements, as for
//! a `no-transaction` script. Each step should grow linearly with the script's size:
//!
//! ```sh
//! cargo build --release -p waterline-bench --example embed_profile
//! target/release/examples/embed_profile 1 4 16             # sizes in MiB
//! target/release/examples/embed_profile --one-line 1 4 16  # the rows on a single line
//! perf record -g target/release/examples/embed_profile 16
//! ```
//!
//! The macro itself runs unoptimised in a dev build (cargo builds proc macros with opt-level 0
//! unless told otherwise); build the example without `--release` to see those times.

use std::time::{Duration, Instant};

use waterline_bench::big_migration;
use waterline_core::{lint, read_folder, statements};

fn main() {
    let mut one_line = false;
    let mut sizes = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--one-line" => one_line = true,
            mib => sizes.push(mib.parse::<usize>().expect("a size in MiB")),
        }
    }
    if sizes.is_empty() {
        sizes = big_migration::SIZES_MIB.to_vec();
    }
    for mib in sizes {
        let mut sql = big_migration::script(mib * 1024 * 1024);
        if one_line {
            sql = sql.replace(";\n", "; ");
        }
        profile(mib, &sql);
    }
}

/// Times each step on `sql` and prints a line of figures.
fn profile(mib: usize, sql: &str) {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("migrations");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("001_seed_events.sql"), sql).unwrap();
    let (read, migrations) = timed(|| read_folder(&folder, "migrations").unwrap());
    let (errors, failing) = timed(|| lint::failing(&migrations, false));
    assert!(failing.is_empty(), "{failing:?}");
    let (strict, _) = timed(|| lint::failing(&migrations, true));
    let (split, ranges) = timed(|| statements::split(sql).unwrap_or_default());
    let per_mib = |d: Duration| d.as_secs_f64() * 1000.0 / mib as f64;
    println!(
        "{mib} MiB, {} statements: read {:.0} ms, lint {:.0} ms, lint strict {:.0} ms, split {:.0} ms \
         ({:.0} / {:.0} / {:.0} / {:.0} ms per MiB)",
        ranges.len(),
        ms(read),
        ms(errors),
        ms(strict),
        ms(split),
        per_mib(read),
        per_mib(errors),
        per_mib(strict),
        per_mib(split),
    );
}

fn timed<T>(work: impl FnOnce() -> T) -> (Duration, T) {
    let start = Instant::now();
    let value = work();
    (start.elapsed(), value)
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
