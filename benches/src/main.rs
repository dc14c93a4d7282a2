//! Benchmarks of waterline against diesel_migrations and refinery on identical generated
//! workloads, interleaved in one run, with medians and ratios against each peer and against
//! the floors (a bare SELECT of the tracking table; the SQL run by `psql` or `sqlite3`).
//!
//! `cargo run --release -p waterline-bench -- --help` lists the options. PostgreSQL and MariaDB
//! come from `WATERLINE_BENCH_POSTGRES_URL` and `WATERLINE_BENCH_MYSQL_URL` (default: the local
//! servers' `test` databases). The results are printed as Markdown and written to
//! `target/bench-results.md`; those of `--backfill` to `target/bench-backfill.md`, and a
//! run's kept in `benches/results/backfill.md`.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use clap::Parser;
use waterline_bench::apps::{self, AppFigures};
use waterline_bench::database::{Backend, Servers};
use waterline_bench::measure::{self, Figures};
use waterline_bench::stats::{median, ms, paired, ratio};
use waterline_bench::tools::Tool;

/// Measures waterline, diesel_migrations and refinery on the same generated migrations.
#[derive(Parser)]
struct Options {
    /// Runs at 1,000 migrations; smaller workloads get three times as many. Default 7, and
    /// 3 with `--backfill`.
    #[arg(long)]
    runs: Option<usize>,
    /// Workload sizes, in migrations.
    #[arg(long, value_delimiter = ',', default_value = "10,100,1000")]
    sizes: Vec<usize>,
    /// Backends to measure.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres,mysql")]
    backends: Vec<Backend>,
    /// Skip the minimal apps (release rebuild, binary size, whole-process start-up).
    #[arg(long)]
    no_apps: bool,
    /// Only measure the build time of one big data migration (1, 4 and 16 MiB), as
    /// `--big-migration --runs 3`.
    #[arg(long)]
    big_migration: bool,
    /// Only measure lock-safe DDL on PostgreSQL: a transaction holds a read table for
    /// `--hold` while `--clients` query it and a migration adds a column, with waterline and
    /// with diesel_migrations.
    #[arg(long)]
    lock_safe: bool,
    /// How long the blocking transaction stays open, with `--lock-safe`.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    hold: Duration,
    /// How many clients query the table, with `--lock-safe`.
    #[arg(long, default_value_t = 50)]
    clients: usize,
    /// Only measure a batched backfill of 1,000,000 rows on each of `--backends`: waterline's
    /// Rust migration against a hand-written keyset loop, its batch times, and the start-up
    /// with it pending.
    #[arg(long)]
    backfill: bool,
}

fn main() {
    let options = Options::parse();
    let servers = Servers::from_env();
    if options.backfill {
        let out = backfill_tables(&servers, &options.backends, options.runs.unwrap_or(3));
        println!("{out}");
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-backfill.md");
        std::fs::write(path, &out).expect("target/ is writable");
        return;
    }
    let runs = options.runs.unwrap_or(7);
    if options.lock_safe {
        println!(
            "{}",
            lock_safe_table(&servers, options.hold, options.clients)
        );
        return;
    }
    if options.big_migration {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let mut out = String::from(
            "| one migration of | build time (median) | per MiB |\n|---:|---:|---:|\n",
        );
        for (mib, times) in waterline_bench::big_migration::measure(workspace, runs) {
            let seconds = median(&times).as_secs_f64();
            writeln!(
                out,
                "| {mib} MiB | {seconds:.1} s | {:.2} s |",
                seconds / mib as f64
            )
            .unwrap();
        }
        println!("{out}");
        return;
    }
    let mut out = format!(
        "Runs: {} at 1,000 migrations, three times that below (medians). Machine: {} cores.\n\n",
        runs,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    for backend in &options.backends {
        for size in &options.sizes {
            eprintln!("measuring {} at {size} migrations", backend.label());
            // Small workloads are quick and their times noisier: they get three times the runs.
            let runs = if *size < 1000 { runs * 3 } else { runs };
            let figures = measure::measure(*backend, *size, runs, &servers);
            out.push_str(&table(&figures));
            out.push_str(&ratios(&figures));
        }
    }
    if !options.no_apps {
        eprintln!("building the minimal apps");
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        out.push_str(&apps_table(&apps::measure(workspace, &servers, runs)));
    }
    println!("{out}");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-results.md");
    std::fs::write(path, &out).expect("target/ is writable");
}

/// The table of one backend and size: each tool, then the floors.
fn table(figures: &Figures) -> String {
    let mut out = format!(
        "### {} with {} migrations\n\n\
         | tool | apply all (ms) | round trips of apply all | no-op start-up (ms) | round trips of a no-op |\n\
         |---|---:|---:|---:|---:|\n",
        figures.backend.label(),
        figures.size
    );
    let count = |n: Option<usize>| n.map_or("-".to_owned(), |n| n.to_string());
    for tool in &figures.tools {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            tool.tool.label(),
            ms(median(&tool.apply)),
            count(tool.trips.apply),
            ms(median(&tool.noop)),
            count(tool.trips.noop),
        );
    }
    let _ = writeln!(
        out,
        "| floor: one SELECT of the tracking table (version, checksum) | - | - | {} | {} |",
        ms(median(&figures.select)),
        count(figures.select_trips)
    );
    if let Some(cli) = figures.backend.cli() {
        let _ = writeln!(
            out,
            "| floor: `{cli}`, a transaction per migration (whole process) | {} | - | - | - |\n\
             | floor: `{cli}`, one transaction (whole process) | {} | - | - | - |",
            ms(median(&figures.cli_each)),
            ms(median(&figures.cli_together))
        );
    }
    out
}

/// waterline's ratios against the floors and each peer: medians of ratios paired within a run.
fn ratios(figures: &Figures) -> String {
    let waterline = figures
        .of(Tool::Waterline)
        .expect("waterline is always measured");
    let mut parts = vec![format!(
        "no-op start-up {} the SELECT floor",
        paired(&waterline.noop, &figures.select)
    )];
    for peer in [Tool::Diesel, Tool::Refinery] {
        if let Some(peer) = figures.of(peer) {
            parts.push(format!(
                "vs {}: no-op {}, apply {}",
                peer.tool.label(),
                paired(&waterline.noop, &peer.noop),
                paired(&waterline.apply, &peer.apply)
            ));
        }
    }
    if !figures.cli_each.is_empty() {
        parts.push(format!(
            "apply vs the transaction-per-migration floor: {}",
            paired(&waterline.apply, &figures.cli_each)
        ));
    }
    if let (Some(together), false) = (
        figures.of(Tool::WaterlineTogether),
        figures.cli_together.is_empty(),
    ) {
        parts.push(format!(
            "one-transaction mode vs the one-transaction floor: {}",
            paired(&together.apply, &figures.cli_together)
        ));
    }
    format!(
        "\nRatios (medians of paired ratios): {}.\n\n",
        parts.join("; ")
    )
}

/// The minimal apps' table and ratios; waterline's app first, then diesel_migrations', then
/// refinery's.
fn apps_table(apps: &[AppFigures]) -> String {
    let mut out = format!(
        "### A minimal app with {} migrations, PostgreSQL, release build\n\n\
         | tool | rebuild after editing one migration (s) | stripped binary (KiB) | whole-process no-op start-up (ms) |\n\
         |---|---:|---:|---:|\n",
        apps::SIZE
    );
    for app in apps {
        let _ = writeln!(
            out,
            "| {} | {:.2} | {} | {} |",
            app.tool.label(),
            median(&app.rebuild).as_secs_f64(),
            app.stripped_bytes / 1024,
            ms(median(&app.start_up))
        );
    }
    let waterline = &apps[0];
    let versus = |peer: &AppFigures| {
        let rebuild = ratio(median(&waterline.rebuild), median(&peer.rebuild));
        let size = waterline.stripped_bytes as f64 / peer.stripped_bytes as f64;
        let start_up: Duration = median(&waterline.start_up);
        let start_up = ratio(start_up, median(&peer.start_up));
        format!(
            "vs {}: rebuild {rebuild}, binary {size:.2}x, process start-up {start_up}",
            peer.tool.label()
        )
    };
    let peers: Vec<String> = apps[1..].iter().map(versus).collect();
    let _ = writeln!(out, "\nRatios: {}.\n", peers.join("; "));
    out
}

/// The lock-safe DDL scenario with each tool, as a Markdown table.
fn lock_safe_table(servers: &Servers, hold: Duration, clients: usize) -> String {
    use waterline_bench::lock_safe::{self, Tool};
    use waterline_bench::stats::quantile;
    let mut out = format!(
        "A transaction holds `accounts` (it read it) for {} s; {clients} clients query it in a \
         loop; a migration adds a column. PostgreSQL, one run each.\n\n\
         | tool | client queries | p50 (ms) | p99 (ms) | max (ms) | migration took | done after the blocker ended | recorded |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|\n",
        hold.as_secs()
    );
    for tool in [Tool::Waterline, Tool::DieselMigrations] {
        eprintln!("measuring lock-safe DDL with {}", tool.label());
        let outcome = lock_safe::measure(tool, servers, hold, clients);
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {:.1} s | {:.2} s | {} |",
            tool.label(),
            outcome.latencies.len(),
            ms(quantile(&outcome.latencies, 0.5)),
            ms(quantile(&outcome.latencies, 0.99)),
            ms(quantile(&outcome.latencies, 1.0)),
            outcome.migration.as_secs_f64(),
            outcome.after_blocker.as_secs_f64(),
            outcome.recorded
        )
        .unwrap();
    }
    out
}

/// The backfill on each backend: throughput and batch times, then start-up with it pending.
fn backfill_tables(servers: &Servers, backends: &[Backend], runs: usize) -> String {
    use waterline_bench::backfill::{self, BATCH_SIZE, ROWS};
    use waterline_bench::stats::quantile;
    let load_before = load_average();
    let all: Vec<backfill::Figures> = backends
        .iter()
        .map(|&backend| {
            eprintln!("measuring the backfill on {}", backend.label());
            backfill::measure(backend, servers, runs)
        })
        .collect();
    let versions: Vec<String> = all
        .iter()
        .map(|f| format!("{} {}", f.backend.label(), f.version))
        .collect();
    let mut out = format!(
        "A backfill of {} rows, {} keys a batch, each on a fresh copy of the table: \
         waterline's background Rust migration (`run_background`; a checkpoint and a heartbeat \
         committed with each batch) against a hand-written keyset loop through diesel (the same \
         boundary query and UPDATE, a transaction per batch, no checkpoint). {runs} runs each, \
         the order alternating; medians. Machine: {} cores, load average {} at the start and \
         {} at the end; {}.\n\n\
         | backend | waterline (rows/s) | hand-written (rows/s) | waterline / hand-written (goal >= 0.8) | waterline batch p50 (ms) | waterline batch p99 (ms, goal < 100) | hand-written batch p50 / p99 (ms) |\n\
         |---|---:|---:|---:|---:|---:|---:|\n",
        thousands(ROWS as f64),
        thousands(BATCH_SIZE as f64),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_before,
        load_average(),
        versions.join(", ")
    );
    let rate = |samples: &[Duration]| thousands(ROWS as f64 / median(samples).as_secs_f64());
    for f in &all {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} / {} |",
            f.backend.label(),
            rate(&f.waterline),
            rate(&f.hand_written),
            paired(&f.hand_written, &f.waterline),
            ms(quantile(&f.waterline_batches, 0.5)),
            ms(quantile(&f.waterline_batches, 0.99)),
            ms(quantile(&f.hand_written_batches, 0.5)),
            ms(quantile(&f.hand_written_batches, 0.99)),
        )
        .unwrap();
    }
    out.push_str(
        "\nThe ratio is the median of the runs' throughput ratios, each run's two backfills \
         paired. Batch times are over every batch of every run, the commit included.\n\n\
         Start-up with the backfill pending (`run_pending` defers it and returns) and with \
         everything applied, each on a fresh connection made before the clock starts; \
         medians of all samples.\n\n\
         | backend | start-up, backfill deferred (ms) | no-op start-up (ms) | deferred / no-op | round trips, deferred / no-op |\n\
         |---|---:|---:|---:|---:|\n",
    );
    let count = |n: Option<usize>| n.map_or("-".to_owned(), |n| n.to_string());
    for f in &all {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} / {} |",
            f.backend.label(),
            ms(median(&f.deferring)),
            ms(median(&f.noop)),
            ratio(median(&f.deferring), median(&f.noop)),
            count(f.deferring_trips),
            count(f.noop_trips),
        )
        .unwrap();
    }
    out
}

/// `n` rounded, with thousands separated by commas.
fn thousands(n: f64) -> String {
    let digits = format!("{:.0}", n.max(0.0));
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// The load average of the last minute (Linux), to tell a quiet machine from a busy one.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}
