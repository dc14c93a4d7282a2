//! The figures of one backend and workload size: every tool interleaved in each run, the
//! floors beside them, and the round trips counted once.

use std::time::Duration;

use crate::database::{Backend, Database, Servers};
use crate::tools::{self, Tool};
use crate::workload::Workload;
use crate::{floors, proxy};

/// No-op start-ups timed per tool and run, after one untimed warm-up.
const NO_OP_SAMPLES: usize = 10;

/// What was measured for one backend and size.
pub struct Figures {
    /// The backend.
    pub backend: Backend,
    /// The number of migrations.
    pub size: usize,
    /// Each tool's samples, in [`Tool::on`] order.
    pub tools: Vec<ToolFigures>,
    /// The bare SELECT of the tracking table, each taken right after a tidemark no-op.
    pub select: Vec<Duration>,
    /// The command-line client, a transaction per migration (empty where there is none).
    pub cli_each: Vec<Duration>,
    /// The command-line client, one transaction for all.
    pub cli_together: Vec<Duration>,
}

/// One tool's samples.
pub struct ToolFigures {
    /// The tool.
    pub tool: Tool,
    /// Applying every migration to a fresh database, one sample per run.
    pub apply: Vec<Duration>,
    /// The start-up with nothing to apply.
    pub noop: Vec<Duration>,
    /// Its round trips.
    pub trips: Trips,
}

/// Round trips of one tool: of applying everything to a fresh database, and of the no-op
/// start-up after; `None` where they are not counted.
#[derive(Clone, Copy, Default)]
pub struct Trips {
    /// Applying every migration.
    pub apply: Option<usize>,
    /// The no-op start-up.
    pub noop: Option<usize>,
}

impl Figures {
    /// The figures of `tool`, if it was measured.
    pub fn of(&self, tool: Tool) -> Option<&ToolFigures> {
        self.tools.iter().find(|figures| figures.tool == tool)
    }
}

/// Measures `size` migrations on `backend`, `runs` times. In each run every tool applies the
/// workload to a fresh database and then starts up with nothing to do; the order of the
/// tools rotates from run to run so that none always follows the same neighbour. The server
/// drifts over a long run, so ratios are taken pair by pair within a run.
pub fn measure(backend: Backend, size: usize, runs: usize, servers: &Servers) -> Figures {
    let workload = Workload::new(size);
    let tools = Tool::on(backend);
    let mut figures = Figures {
        backend,
        size,
        tools: tools
            .iter()
            .map(|&tool| ToolFigures {
                tool,
                apply: Vec::new(),
                noop: Vec::new(),
                trips: Trips::default(),
            })
            .collect(),
        select: Vec::new(),
        cli_each: Vec::new(),
        cli_together: Vec::new(),
    };
    for run in 0..runs {
        for turn in 0..tools.len() {
            let index = (run + turn) % tools.len();
            run_tool(&mut figures, index, servers, &workload);
        }
        let fresh = || Database::fresh(backend, servers, "cli");
        figures
            .cli_each
            .extend(floors::cli(&fresh(), &workload, false));
        figures
            .cli_together
            .extend(floors::cli(&fresh(), &workload, true));
    }
    let trips = round_trips(backend, servers, &workload, tools);
    for (figures, trips) in figures.tools.iter_mut().zip(trips) {
        figures.trips = trips;
    }
    figures
}

/// One run of the tool at `index`: apply, one untimed no-op, then the timed no-ops (each
/// followed, for tidemark, by the SELECT floor on the same database).
fn run_tool(figures: &mut Figures, index: usize, servers: &Servers, workload: &Workload) {
    let backend = figures.backend;
    let tool = figures.tools[index].tool;
    let database = Database::fresh(backend, servers, "run");
    let apply = tools::run(tool, backend, &database.url, workload);
    figures.tools[index].apply.push(apply);
    tools::run(tool, backend, &database.url, workload);
    for _ in 0..NO_OP_SAMPLES {
        let noop = tools::run(tool, backend, &database.url, workload);
        figures.tools[index].noop.push(noop);
        if tool == Tool::Tidemark {
            figures
                .select
                .push(floors::select(&database, floors::SELECT));
        }
    }
}

/// Round trips per tool, counted by a proxy that reads the wire protocol; not counted on
/// SQLite, which is in-process.
fn round_trips(
    backend: Backend,
    servers: &Servers,
    workload: &Workload,
    tools: &[Tool],
) -> Vec<Trips> {
    let protocol = match backend {
        Backend::Postgres => proxy::Protocol::Postgres,
        Backend::Mysql => proxy::Protocol::Mysql,
        Backend::Sqlite => return vec![Trips::default(); tools.len()],
    };
    tools
        .iter()
        .map(|tool| counted_trips(*tool, backend, protocol, servers, workload))
        .collect()
}

/// The round trips of `tool` through a counting proxy, less those of making the connection.
fn counted_trips(
    tool: Tool,
    backend: Backend,
    protocol: proxy::Protocol,
    servers: &Servers,
    workload: &Workload,
) -> Trips {
    let database = Database::fresh(backend, servers, "trips");
    let upstream = database.address();
    let proxy = proxy::Proxy::start(upstream, protocol);
    let via = database
        .url
        .replace(upstream, &format!("127.0.0.1:{}", proxy.port));
    proxy.reset();
    tools::connect_only(tool, backend, &via);
    let connecting = proxy.count();
    let counted = || {
        proxy.reset();
        tools::run(tool, backend, &via, workload);
        Some(proxy.count() - connecting)
    };
    Trips {
        apply: counted(),
        noop: counted(),
    }
}
