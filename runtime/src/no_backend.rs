//! A build of waterline without any backend feature: the entry point an app calls first is
//! still there, so forgetting the feature is an error that names it, not "no method named
//! `run_pending`".

use std::convert::Infallible;

use crate::Migrations;

/// A diesel connection waterline can migrate: with no backend feature enabled there is none.
#[diagnostic::on_unimplemented(
    message = "waterline was built without any database backend, so it cannot migrate `{Self}`",
    label = "no waterline backend feature is enabled",
    note = "enable the feature of your database: \
            `waterline = {{ version = \"0.1\", features = [\"postgres\"] }}` \
            (or \"mysql\", \"sqlite\")"
)]
pub trait MigrationConnection {
    /// Never called: no type implements this trait.
    #[doc(hidden)]
    fn unreachable(&mut self) -> Infallible;
}

impl Migrations {
    /// Applies every pending migration; needs a backend feature (`postgres`, `mysql` or
    /// `sqlite`), without which no connection type qualifies and the call does not compile.
    pub fn run_pending<C: MigrationConnection>(
        &self,
        conn: &mut C,
    ) -> Result<Infallible, Infallible> {
        match conn.unreachable() {}
    }
}
