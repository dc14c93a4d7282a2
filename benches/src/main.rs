//! Benchmarks of tidemark against diesel_migrations and refinery on identical generated
//! workloads, interleaved in one run, with medians and ratios against each peer and against
//! the floors (a bare SELECT of the tracking table; the SQL run by `psql` or `sqlite3`).
//!
//! `cargo run --release -p tidemark-bench -- [--runs N] [--sizes 10,100,1000] [--backends sqlite,postgres,mysql] [--no-apps]`
//!
//! PostgreSQL and MariaDB come from `TIDEMARK_BENCH_POSTGRES_URL` and `TIDEMARK_BENCH_MYSQL_URL`
//! (default: the local servers' `test` databases). The results are printed as Markdown and
//! written to `target/bench-results.md`.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use tidemark_bench::database::{Backend, Database, Servers};
use tidemark_bench::stats::{median, ms, paired, ratio};
use tidemark_bench::tools::{self, Tool};
use tidemark_bench::workload::Workload;
use tidemark_bench::{apps, floors, proxy};

struct Options {
    runs: usize,
    sizes: Vec<usize>,
    backends: Vec<Backend>,
    apps: bool,
}

fn options() -> Options {
    let mut options = Options {
        runs: 7,
        sizes: vec![10, 100, 1000],
        backends: vec![Backend::Sqlite, Backend::Postgres, Backend::Mysql],
        apps: true,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().expect("a value after the option").clone();
        match arg.as_str() {
            "--runs" => options.runs = value().parse().expect("--runs N"),
            "--sizes" => {
                options.sizes = value()
                    .split(',')
                    .map(|s| s.parse().expect("--sizes 10,100"))
                    .collect()
            }
            "--backends" => {
                options.backends = value()
                    .split(',')
                    .map(|b| match b {
                        "sqlite" => Backend::Sqlite,
                        "postgres" => Backend::Postgres,
                        "mysql" => Backend::Mysql,
                        other => panic!("unknown backend {other}"),
                    })
                    .collect()
            }
            "--no-apps" => options.apps = false,
            other => panic!("unknown option {other}; see the crate docs"),
        }
    }
    options
}

fn main() {
    let options = options();
    let servers = Servers::from_env();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Runs: {} at 1,000 migrations, three times that below (medians). Machine: {} cores.\n",
        options.runs,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    for backend in &options.backends {
        for size in &options.sizes {
            eprintln!("measuring {} at {size} migrations", backend.label());
            // Small workloads are quick and their times noisier: they get three times the runs.
            let runs = if *size < 1000 {
                options.runs * 3
            } else {
                options.runs
            };
            out.push_str(&measure(*backend, *size, runs, &servers));
        }
    }
    if options.apps && options.backends.contains(&Backend::Postgres) {
        eprintln!("building the minimal apps");
        out.push_str(&measure_apps(&servers, options.runs));
    }
    println!("{out}");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-results.md");
    std::fs::write(path, &out).unwrap();
}

/// No-op start-ups timed per tool and run, after one untimed warm-up.
const NO_OP_SAMPLES: usize = 10;

/// The figures of one backend and size, every tool interleaved in each run; the order of the
/// tools rotates from run to run so that none always follows the same neighbour. The server
/// drifts over a long run, so ratios are medians of ratios paired within a run, not ratios
/// of medians.
fn measure(backend: Backend, size: usize, runs: usize, servers: &Servers) -> String {
    let workload = Workload::new(size);
    let tools = Tool::on(backend);
    let mut apply: Vec<Vec<Duration>> = vec![Vec::new(); tools.len()];
    let mut noop: Vec<Vec<Duration>> = vec![Vec::new(); tools.len()];
    let (mut select, mut cli_each, mut cli_together) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs {
        for turn in 0..tools.len() {
            let index = (run + turn) % tools.len();
            let tool = tools[index];
            let database = Database::fresh(backend, servers, "run");
            apply[index].push(tools::run(tool, backend, &database.url, &workload));
            tools::run(tool, backend, &database.url, &workload);
            for _ in 0..NO_OP_SAMPLES {
                noop[index].push(tools::run(tool, backend, &database.url, &workload));
                if tool == Tool::Tidemark {
                    select.push(floors::select(&database, floors::SELECT));
                }
            }
        }
        cli_each.extend(floors::cli(
            &Database::fresh(backend, servers, "cli"),
            &workload,
            false,
        ));
        cli_together.extend(floors::cli(
            &Database::fresh(backend, servers, "cli"),
            &workload,
            true,
        ));
    }
    if std::env::var_os("TIDEMARK_BENCH_SAMPLES").is_some() {
        for (index, tool) in tools.iter().enumerate() {
            let shown: Vec<String> = apply[index].iter().map(|d| ms(*d)).collect();
            eprintln!("{} apply samples (ms): {}", tool.label(), shown.join(" "));
        }
    }
    let trips = round_trips(backend, servers, &workload, tools);
    let of = |tool: Tool| tools.iter().position(|t| *t == tool);
    let tidemark = of(Tool::Tidemark).unwrap();
    let mut out = format!("### {} with {size} migrations\n\n", backend.label());
    out.push_str(
        "| tool | apply all (ms) | round trips of apply all | no-op start-up (ms) | round trips of a no-op |\n\
         |---|---:|---:|---:|---:|\n",
    );
    let count = |n: Option<usize>| n.map_or("-".to_owned(), |n| n.to_string());
    for (index, tool) in tools.iter().enumerate() {
        let trips = trips.get(index).copied().unwrap_or_default();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            tool.label(),
            ms(median(&apply[index])),
            count(trips.apply),
            ms(median(&noop[index])),
            count(trips.noop),
        );
    }
    let _ = writeln!(
        out,
        "| floor: one SELECT of the tracking table (version, checksum) | - | - | {} | 1 |",
        ms(median(&select))
    );
    let cli = if backend == Backend::Sqlite {
        "sqlite3"
    } else {
        "psql"
    };
    if !cli_each.is_empty() {
        let _ = writeln!(
            out,
            "| floor: `{cli}`, a transaction per migration (whole process) | {} | - | - | - |\n\
             | floor: `{cli}`, one transaction (whole process) | {} | - | - | - |",
            ms(median(&cli_each)),
            ms(median(&cli_together))
        );
    }
    let _ = write!(
        out,
        "\nRatios (medians of paired ratios): no-op start-up {} the SELECT floor",
        paired(&noop[tidemark], &select)
    );
    for peer in [Tool::Diesel, Tool::Refinery] {
        if let Some(peer) = of(peer) {
            let _ = write!(
                out,
                "; vs {}: no-op {}, apply {}",
                tools[peer].label(),
                paired(&noop[tidemark], &noop[peer]),
                paired(&apply[tidemark], &apply[peer])
            );
        }
    }
    if !cli_each.is_empty() {
        let _ = write!(
            out,
            "; apply vs the transaction-per-migration floor: {}",
            paired(&apply[tidemark], &cli_each)
        );
    }
    if let (Some(together), false) = (of(Tool::TidemarkTogether), cli_together.is_empty()) {
        let _ = write!(
            out,
            "; one-transaction mode vs the one-transaction floor: {}",
            paired(&apply[together], &cli_together)
        );
    }
    out.push_str(".\n\n");
    out
}

/// Round trips of one tool: of applying everything to a fresh database, and of the no-op
/// start-up after.
#[derive(Clone, Copy, Default)]
struct Trips {
    apply: Option<usize>,
    noop: Option<usize>,
}

/// Round trips per tool: counted by a proxy on PostgreSQL, by diesel's instrumentation for
/// tidemark on MariaDB (one query is one round trip there); not counted on SQLite, which is
/// in-process.
fn round_trips(
    backend: Backend,
    servers: &Servers,
    workload: &Workload,
    tools: &[Tool],
) -> Vec<Trips> {
    match backend {
        Backend::Postgres => {
            let upstream = servers
                .postgres
                .split('@')
                .nth(1)
                .and_then(|rest| rest.split('/').next())
                .unwrap_or("127.0.0.1:5432");
            let proxy = proxy::Proxy::start(upstream);
            tools
                .iter()
                .map(|tool| {
                    let database = Database::fresh(backend, servers, "trips");
                    let via = database
                        .url
                        .replace(upstream, &format!("127.0.0.1:{}", proxy.port));
                    // The connection's own setup (startup, settings) is counted too; subtract it.
                    proxy.reset();
                    tools::connect_only(*tool, backend, &via);
                    let connecting = proxy.count();
                    let counted = || {
                        proxy.reset();
                        tools::run(*tool, backend, &via, workload);
                        Some(proxy.count() - connecting)
                    };
                    Trips {
                        apply: counted(),
                        noop: counted(),
                    }
                })
                .collect()
        }
        Backend::Mysql => {
            let database = Database::fresh(backend, servers, "trips");
            let apply = tools::tidemark_mysql_queries(&database.url, workload);
            let noop = tools::tidemark_mysql_queries(&database.url, workload);
            vec![Trips {
                apply: Some(apply),
                noop: Some(noop),
            }]
        }
        Backend::Sqlite => vec![Trips::default(); tools.len()],
    }
}

/// Release rebuild, binary size and whole-process start-up of a minimal app per tool.
fn measure_apps(servers: &Servers, runs: usize) -> String {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let root = workspace.join("target/bench-apps");
    let size = 1000;
    let apps: Vec<apps::App> = [Tool::Tidemark, Tool::Diesel, Tool::Refinery]
        .iter()
        .map(|tool| apps::App::build(*tool, &root, workspace, size))
        .collect();
    let mut rebuild: Vec<Vec<Duration>> = vec![Vec::new(); apps.len()];
    let mut start_up: Vec<Vec<Duration>> = vec![Vec::new(); apps.len()];
    for round in 0..3 {
        for (index, app) in apps.iter().enumerate() {
            rebuild[index].push(app.rebuild(round));
        }
    }
    let databases: Vec<Database> = apps
        .iter()
        .map(|_| Database::fresh(Backend::Postgres, servers, "app"))
        .collect();
    for (app, database) in apps.iter().zip(&databases) {
        let (_, applied) = app.start_up(&database.url);
        assert_eq!(
            applied,
            size.to_string(),
            "{} applied {applied}",
            app.tool.label()
        );
    }
    for _ in 0..runs {
        for (index, (app, database)) in apps.iter().zip(&databases).enumerate() {
            start_up[index].push(app.start_up(&database.url).0);
        }
    }
    let mut out =
        format!("### A minimal app with {size} migrations, PostgreSQL, release build\n\n");
    out.push_str("| tool | rebuild after editing one migration (s) | stripped binary (KiB) | whole-process no-op start-up (ms) |\n|---|---:|---:|---:|\n");
    let sizes: Vec<u64> = apps.iter().map(apps::App::stripped_size).collect();
    for (index, app) in apps.iter().enumerate() {
        let _ = writeln!(
            out,
            "| {} | {:.2} | {} | {} |",
            app.tool.label(),
            median(&rebuild[index]).as_secs_f64(),
            sizes[index] / 1024,
            ms(median(&start_up[index]))
        );
    }
    let _ = writeln!(
        out,
        "\nRatios vs diesel_migrations: rebuild {}, binary {:.2}x, process start-up {}; vs refinery: rebuild {}, binary {:.2}x, process start-up {}.\n",
        ratio(median(&rebuild[0]), median(&rebuild[1])),
        sizes[0] as f64 / sizes[1] as f64,
        ratio(median(&start_up[0]), median(&start_up[1])),
        ratio(median(&rebuild[0]), median(&rebuild[2])),
        sizes[0] as f64 / sizes[2] as f64,
        ratio(median(&start_up[0]), median(&start_up[2])),
    );
    out
}
