//! A request to stop a run cleanly: the migration in progress finishes (or, waiting for a
//! table lock, gives up with nothing of it applied), its row tells the truth, the migration
//! lock is released, and the run ends before the next migration with [`Error::Stopped`].
//!
//! [`Error::Stopped`]: crate::Error::Stopped

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A handle to stop a run between migrations, from another thread or a signal handler.
///
/// ```
/// let stop = waterline::Stop::new();
/// let for_the_handler = stop.clone();
/// // In a SIGTERM handler: `for_the_handler.request();`
/// # for_the_handler.request();
/// assert!(stop.is_requested());
/// // `MIGRATIONS.runner().stop_on(&stop).run_pending(&mut conn)` then stops before the next
/// // migration with `Error::Stopped`.
/// ```
#[derive(Clone, Debug, Default)]
pub struct Stop(Arc<AtomicBool>);

impl Stop {
    /// A handle no one has asked to stop yet.
    pub fn new() -> Stop {
        Stop::default()
    }

    /// Asks every run watching this handle to stop before its next migration. Safe to call
    /// from a signal handler: it only stores a flag.
    pub fn request(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether a stop was requested.
    pub fn is_requested(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}
