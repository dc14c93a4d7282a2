//! The diesel connection a migration written in Rust runs on, by backend.

use std::any::Any;

use waterline_core::Backend;

/// The diesel connection of the backend a migration runs on, for diesel's query builder:
/// match on it to write code for one backend.
///
/// ```
/// # #[cfg(feature = "sqlite")]
/// # mod m {
/// use diesel::RunQueryDsl;
/// use waterline::code::{Db, Step};
///
/// pub fn up(step: &mut Step<'_>) -> waterline::code::Result {
///     match step.db() {
///         Some(Db::Sqlite(conn)) => {
///             diesel::sql_query("CREATE TABLE t (id INTEGER PRIMARY KEY)").execute(conn)?;
///         }
///         _ => step.execute("CREATE TABLE t (id BIGINT PRIMARY KEY)").map(drop)?,
///     }
///     Ok(())
/// }
/// # }
/// ```
#[non_exhaustive]
pub enum Db<'a> {
    /// A PostgreSQL connection.
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    Postgres(&'a mut diesel::PgConnection),
    /// A MySQL or MariaDB connection.
    #[cfg(feature = "mysql")]
    #[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
    Mysql(&'a mut diesel::MysqlConnection),
    /// A SQLite connection.
    #[cfg(feature = "sqlite")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
    Sqlite(&'a mut diesel::SqliteConnection),
    /// No backend is compiled in.
    #[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
    #[doc(hidden)]
    None(
        std::convert::Infallible,
        std::marker::PhantomData<&'a mut ()>,
    ),
}

impl std::fmt::Debug for Db<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Db::{:?}", self.backend())
    }
}

impl<'a> Db<'a> {
    /// `conn` as one of diesel's own connection types, if it is one.
    pub(crate) fn of<C: Any>(conn: &'a mut C) -> Option<Db<'a>> {
        let conn: &'a mut dyn Any = conn;
        #[cfg(feature = "postgres")]
        if conn.is::<diesel::PgConnection>() {
            return conn.downcast_mut().map(Db::Postgres);
        }
        #[cfg(feature = "mysql")]
        if conn.is::<diesel::MysqlConnection>() {
            return conn.downcast_mut().map(Db::Mysql);
        }
        #[cfg(feature = "sqlite")]
        if conn.is::<diesel::SqliteConnection>() {
            return conn.downcast_mut().map(Db::Sqlite);
        }
        let _ = conn;
        None
    }

    /// The backend of the connection.
    pub fn backend(&self) -> Backend {
        match *self {
            #[cfg(feature = "postgres")]
            Db::Postgres(_) => Backend::Postgres,
            #[cfg(feature = "mysql")]
            Db::Mysql(_) => Backend::Mysql,
            #[cfg(feature = "sqlite")]
            Db::Sqlite(_) => Backend::Sqlite,
            #[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
            Db::None(never, _) => match never {},
        }
    }
}
