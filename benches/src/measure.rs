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
    /// The bare SELECT of the tracking table, each taken right after a waterline no-op.
    pub select: Vec<Duration>,
    /// The round trips of that SELECT (`None` on SQLite).
    pub select_trips: Option<usize>,
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
        select_trips: None,
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
    count_round_trips(&mut figures, servers, &workload);
    figures
}

/// One run of the tool at `index`: apply, one untimed no-op, then the timed no-ops (each
/// followed, for waterline, by the SELECT floor on the same database).
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
        if tool == Tool::Waterline {
            let select = floors::select(backend, &database.url, floors::SELECT);
            figures.select.push(select);
        }
    }
}

/// The wire protocol of `backend`, if it has one.
fn protocol(backend: Backend) -> Option<proxy::Protocol> {
    match backend {
        Backend::Postgres => Some(proxy::Protocol::Postgres),
        Backend::Mysql => Some(proxy::Protocol::Mysql),
        Backend::Sqlite => None,
    }
}

/// Round trips per tool, and of the SELECT floor on the database waterline just migrated,
/// counted by a proxy that reads the wire protocol; not counted on SQLite, which is
/// in-process.
fn count_round_trips(figures: &mut Figures, servers: &Servers, workload: &Workload) {
    let backend = figures.backend;
    let Some(protocol) = protocol(backend) else {
        return;
    };
    for index in 0..figures.tools.len() {
        let tool = figures.tools[index].tool;
        let database = Database::fresh(backend, servers, "trips");
        let proxied = Proxied::start(&database, protocol, tool);
        figures.tools[index].trips = Trips {
            apply: Some(proxied.count(|url| tools::run(tool, backend, url, workload))),
            noop: Some(proxied.count(|url| tools::run(tool, backend, url, workload))),
        };
        if tool == Tool::Waterline {
            let select = proxied.count(|url| floors::select(backend, url, floors::SELECT));
            figures.select_trips = Some(select);
        }
    }
}

/// A database behind a counting proxy, and what connecting costs through it.
struct Proxied {
    proxy: proxy::Proxy,
    url: String,
    connecting: usize,
}

impl Proxied {
    /// Puts a proxy in front of `database`, and counts the round trips of connecting as
    /// `tool` does.
    fn start(database: &Database, protocol: proxy::Protocol, tool: Tool) -> Proxied {
        let upstream = database.address();
        let proxy = proxy::Proxy::start(upstream, protocol);
        let url = database
            .url
            .replace(upstream, &format!("127.0.0.1:{}", proxy.port));
        proxy.reset();
        tools::connect_only(tool, database.backend, &url);
        let connecting = proxy.count();
        Proxied {
            proxy,
            url,
            connecting,
        }
    }

    /// The round trips of `work` (which connects to the URL it is given), less connecting;
    /// what `work` returns is not needed.
    fn count<T>(&self, work: impl FnOnce(&str) -> T) -> usize {
        self.proxy.reset();
        work(&self.url);
        self.proxy.count() - self.connecting
    }
}
