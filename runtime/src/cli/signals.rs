//! SIGTERM and Ctrl-C during a run: the first asks the runner to stop cleanly between
//! migrations ([`Stop`]); a second aborts at once with [`EXIT_ABORTED`].

use std::sync::OnceLock;

use super::EXIT_ABORTED;
use crate::Stop;

/// The process's stop handle, requested by SIGTERM, SIGINT (Ctrl-C) and SIGHUP. The handler
/// is installed once, on first use; if the application installed its own, this one is not,
/// and the application decides what a signal does.
pub fn stop_on_signal() -> Stop {
    static STOP: OnceLock<Stop> = OnceLock::new();
    STOP.get_or_init(|| {
        let stop = Stop::new();
        let requested = stop.clone();
        let installed = ctrlc::set_handler(move || {
            if requested.is_requested() {
                eprintln!(
                    "aborting at once: a second signal; the next run settles what this one left"
                );
                std::process::exit(i32::from(EXIT_ABORTED));
            }
            requested.request();
            eprintln!("stopping after the migration in progress (a second signal aborts at once)");
        });
        if let Err(error) = installed {
            tracing::debug!(%error, "no signal handler: the application has its own");
        }
        stop
    })
    .clone()
}
