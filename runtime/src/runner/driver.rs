//! What the runner needs from a connection, behind one object-safe trait, so the algorithm is
//! written once for every backend. [`MigrationConnection`] is implemented for every diesel
//! connection of a compiled-in backend: `PgConnection`, `MysqlConnection`,
//! `SqliteConnection`, r2d2's pooled connections and diesel-async's `AsyncConnectionWrapper`.

use diesel::connection::{Connection, LoadConnection, TransactionManager};
use diesel::result::QueryResult;
use waterline_core::Backend;

use super::columns::{Applied, CurrentAlgorithm, StoredChecksum};
use super::record::{NewRecord, Record, State};
use super::write::{RowSql, WriteRow};

/// The operations the runner sends to a database.
pub trait Driver {
    /// The backend behind the connection.
    fn backend(&self) -> Backend;
    /// Runs SQL that returns no rows (one or several statements).
    fn batch(&mut self, sql: &str) -> QueryResult<()>;
    /// Runs one statement; returns the number of rows it changed (matched, on MySQL).
    fn execute(&mut self, sql: &str) -> QueryResult<usize>;
    /// The diesel connection itself, for a migration written in Rust; `None` when it is not
    /// one of diesel's own connection types (a pooled or async wrapper).
    fn db(&mut self) -> Option<crate::code::Db<'_>>;
    /// Reads tracking rows.
    fn load_records(&mut self, sql: &str) -> QueryResult<Vec<Record>>;
    /// Reads the no-op check's rows: `SELECT` followed by `selection`, from
    /// `Dialect::state_selection`.
    fn load_states(&mut self, selection: &str) -> QueryResult<Vec<State>>;
    /// Writes a tracking row with `sql` from `Dialect::insert_record` or `update_record`;
    /// returns the number of rows written.
    fn write_row(&mut self, sql: &RowSql, record: &NewRecord<'_>) -> QueryResult<usize>;
    /// Reads one nullable integer named `value`.
    fn scalar(&mut self, sql: &str) -> QueryResult<Option<i64>>;
    /// Reads nullable texts named `value`.
    fn texts(&mut self, sql: &str) -> QueryResult<Vec<Option<String>>>;
    /// Runs `work` in a transaction, committed when it returns `Ok`.
    fn transaction(
        &mut self,
        work: &mut dyn FnMut(&mut dyn Driver) -> QueryResult<()>,
    ) -> QueryResult<()>;
    /// Whether the connection is inside a transaction.
    fn in_transaction(&mut self) -> bool;
}

/// A diesel connection waterline can migrate. Implemented for every connection whose backend
/// is compiled in (features `postgres`, `mysql`, `sqlite`); not meant to be implemented
/// elsewhere.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a connection waterline can migrate",
    label = "not a diesel connection of a backend compiled into waterline",
    note = "waterline migrates diesel connections (`PgConnection`, `MysqlConnection`, \
            `SqliteConnection`, or a pooled connection of one) of the backends turned on by \
            its features, e.g. `waterline = {{ version = \"0.1\", features = [\"postgres\"] }}`"
)]
pub trait MigrationConnection {
    /// Runs `work` with the connection as a [`Driver`].
    #[doc(hidden)]
    fn with_driver<R>(&mut self, work: impl FnOnce(&mut dyn Driver) -> R) -> R;
}

/// A diesel backend waterline supports.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "waterline was built without the diesel backend `{Self}`",
    label = "this backend's waterline feature is not enabled",
    note = "enable the waterline feature of the backend: `postgres` for `Pg`, `mysql` for \
            `Mysql`, `sqlite` for `Sqlite`, e.g. \
            `waterline = {{ version = \"0.1\", features = [\"postgres\"] }}`"
)]
pub trait SupportedBackend: diesel::backend::Backend + Sized {
    /// Wraps a connection of this backend as a [`Driver`].
    fn with_driver<C, R>(conn: &mut C, work: impl FnOnce(&mut dyn Driver) -> R) -> R
    where
        C: Connection<Backend = Self> + LoadConnection + 'static;
}

impl<C> MigrationConnection for C
where
    C: Connection + LoadConnection + 'static,
    C::Backend: SupportedBackend,
{
    fn with_driver<R>(&mut self, work: impl FnOnce(&mut dyn Driver) -> R) -> R {
        <C::Backend as SupportedBackend>::with_driver(self, work)
    }
}

/// A connection of backend `B` seen as a [`Driver`].
struct DriverOf<'a, C, B> {
    conn: &'a mut C,
    backend: std::marker::PhantomData<B>,
}

fn in_transaction<C: Connection>(conn: &mut C) -> bool {
    let status =
        <C::TransactionManager as TransactionManager<C>>::transaction_manager_status_mut(conn);
    // A connection whose transaction state is broken is treated as inside one: unusable.
    status
        .transaction_depth()
        .map_or(true, |depth| depth.is_some())
}

macro_rules! driver_for {
    ($feature:literal, $backend_type:ty, $backend:expr) => {
        #[cfg(feature = $feature)]
        impl SupportedBackend for $backend_type {
            fn with_driver<C, R>(conn: &mut C, work: impl FnOnce(&mut dyn Driver) -> R) -> R
            where
                C: Connection<Backend = Self> + LoadConnection + 'static,
            {
                work(&mut DriverOf {
                    conn,
                    backend: std::marker::PhantomData::<$backend_type>,
                })
            }
        }

        #[cfg(feature = $feature)]
        impl<C> Driver for DriverOf<'_, C, $backend_type>
        where
            C: Connection<Backend = $backend_type> + LoadConnection + 'static,
        {
            fn backend(&self) -> Backend {
                $backend
            }

            fn batch(&mut self, sql: &str) -> QueryResult<()> {
                self.conn.batch_execute(sql)
            }

            fn execute(&mut self, sql: &str) -> QueryResult<usize> {
                use diesel::RunQueryDsl;
                diesel::sql_query(sql).execute(self.conn)
            }

            fn db(&mut self) -> Option<crate::code::Db<'_>> {
                crate::code::Db::of(self.conn)
            }

            fn load_records(&mut self, sql: &str) -> QueryResult<Vec<Record>> {
                use diesel::RunQueryDsl;
                diesel::sql_query(sql).load(self.conn)
            }

            fn load_states(&mut self, selection: &str) -> QueryResult<Vec<State>> {
                use diesel::connection::DefaultLoadingMode;
                use diesel::sql_types::{BigInt, Text};
                use diesel::RunQueryDsl;
                // Columns read by position (no name lookups), decoded without allocating.
                type Row = (i64, StoredChecksum, CurrentAlgorithm, Applied);
                let columns = diesel::dsl::sql::<(BigInt, Text, Text, Text)>(selection);
                diesel::select(columns)
                    .load_iter::<Row, DefaultLoadingMode>(self.conn)?
                    .map(|row| {
                        let (version, checksum, algorithm, status) = row?;
                        Ok(State::new(version, checksum, algorithm, status))
                    })
                    .collect()
            }

            fn write_row(&mut self, sql: &RowSql, record: &NewRecord<'_>) -> QueryResult<usize> {
                use diesel::RunQueryDsl;
                WriteRow::new(sql, record).execute(self.conn)
            }

            fn scalar(&mut self, sql: &str) -> QueryResult<Option<i64>> {
                use diesel::RunQueryDsl;
                let rows: Vec<super::record::Scalar> = diesel::sql_query(sql).load(self.conn)?;
                Ok(rows.into_iter().next().and_then(|row| row.value))
            }

            fn texts(&mut self, sql: &str) -> QueryResult<Vec<Option<String>>> {
                use diesel::RunQueryDsl;
                let rows: Vec<super::record::ScalarText> =
                    diesel::sql_query(sql).load(self.conn)?;
                Ok(rows.into_iter().map(|row| row.value).collect())
            }

            fn transaction(
                &mut self,
                work: &mut dyn FnMut(&mut dyn Driver) -> QueryResult<()>,
            ) -> QueryResult<()> {
                self.conn.transaction(|conn| {
                    work(&mut DriverOf {
                        conn,
                        backend: std::marker::PhantomData::<$backend_type>,
                    })
                })
            }

            fn in_transaction(&mut self) -> bool {
                in_transaction(self.conn)
            }
        }
    };
}

driver_for!("postgres", diesel::pg::Pg, Backend::Postgres);
driver_for!("mysql", diesel::mysql::Mysql, Backend::Mysql);
driver_for!("sqlite", diesel::sqlite::Sqlite, Backend::Sqlite);
