//! waterline's no-op start-up against the bare-SELECT floor, many times over, each on a new
//! connection and interleaved, for a profiler or a quick comparison:
//!
//! ```sh
//! cargo build --release -p waterline-bench --example noop_profile
//! target/release/examples/noop_profile postgres 1000 500
//! perf record -g target/release/examples/noop_profile postgres 1000 500
//! ```
//!
//! With `NOOP_SQL` set, that query is timed too, read as the floor reads its rows: to try
//! another form of the no-op query on the same server in the same run.

use std::time::Duration;

use waterline_bench::database::{Backend, Database, Servers};
use waterline_bench::floors;
use waterline_bench::stats::{median, ms, paired};
use waterline_bench::tools::{self, Tool};
use waterline_bench::workload::Workload;

fn main() {
    let mut args = std::env::args().skip(1);
    let backend = match args.next().as_deref() {
        Some("sqlite") => Backend::Sqlite,
        Some("mysql") => Backend::Mysql,
        _ => Backend::Postgres,
    };
    let size: usize = args.next().map_or(1000, |a| a.parse().expect("a size"));
    let rounds: usize = args.next().map_or(500, |a| a.parse().expect("a count"));
    let workload = Workload::new(size);
    let database = Database::fresh(backend, &Servers::from_env(), "profile");
    // One transaction for all is quickest to set up, where the backend has it.
    let setup = match backend {
        Backend::Mysql => Tool::Waterline,
        Backend::Postgres | Backend::Sqlite => Tool::WaterlineTogether,
    };
    tools::run(setup, backend, &database.url, &workload);
    let other = std::env::var("NOOP_SQL").ok();
    let (mut waterline, mut floor, mut alternative) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        for turn in 0..3 {
            match (round + turn) % 3 {
                0 => waterline.push(tools::run(
                    Tool::Waterline,
                    backend,
                    &database.url,
                    &workload,
                )),
                1 => floor.push(floors::select(backend, &database.url, floors::SELECT)),
                _ => {
                    if let Some(sql) = &other {
                        alternative.push(floors::select(backend, &database.url, sql));
                    }
                }
            }
        }
    }
    let show = |label: &str, samples: &[Duration]| {
        println!(
            "{label}: median {} ms, {} the floor (paired)",
            ms(median(samples)),
            paired(samples, &floor)
        );
    };
    println!(
        "{} with {size} applied, {rounds} rounds, a new connection each:",
        backend.label()
    );
    show("waterline no-op", &waterline);
    println!("floor: median {} ms", ms(median(&floor)));
    if !alternative.is_empty() {
        show("NOOP_SQL", &alternative);
    }
}
