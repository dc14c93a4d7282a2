//! Reading the tracking table, and creating or upgrading it under the lock.

use diesel::result::DatabaseErrorKind;
use waterline_core::Backend;

use super::cause::Transient;
use super::dialect::{Dialect, LAYOUT};
use super::driver::Driver;
use super::lock::{database, is_permission_denied};
use super::record::Record;
use crate::error::Error;

/// Creates the tracking table when missing and checks its layout; called under the lock, or
/// by many processes at once when locking is off.
pub fn ensure(driver: &mut dyn Driver, dialect: &Dialect) -> Result<(), Error> {
    let create = dialect.create_tables();
    let mut create_once = || match dialect.backend() {
        // SQLite would commit, and sync, each statement of the batch on its own.
        Backend::Sqlite => driver.transaction(&mut |tx| tx.batch(&create)),
        // A PostgreSQL batch is one transaction already; MySQL commits DDL regardless.
        Backend::Postgres | Backend::Mysql => driver.batch(&create),
    };
    // Processes creating the table at once, with locking off, can meet each other: PostgreSQL's
    // `IF NOT EXISTS` does not stop a second session from meeting the first's catalog row
    // ("already exists", a unique violation), and MySQL can pick one as a deadlock victim.
    // Once the first commits, the table is seen; a few tries settle it.
    let mut created = create_once();
    for _ in 0..4 {
        match &created {
            Err(cause) if lost_a_creation_race(cause) => created = create_once(),
            _ => break,
        }
    }
    match created {
        Ok(()) => {}
        // PostgreSQL checks the right to create in the schema before it looks whether the
        // table is there: a role that may only use an existing table is refused here.
        Err(cause) if is_permission_denied(&cause) => {
            if driver.scalar(&dialect.table_exists()) != Ok(Some(1)) {
                return Err(database("create the tracking table", dialect, cause));
            }
        }
        Err(cause) => return Err(database("create the tracking table", dialect, cause)),
    }
    let layout = driver
        .scalar(&dialect.select_layout())
        .map_err(|cause| database("read the tracking table's layout", dialect, cause))?;
    match layout {
        Some(found) if found > LAYOUT => Err(Error::UnsupportedLayout {
            table: dialect.table().to_owned(),
            found,
            supported: LAYOUT,
        }),
        // Layout 1 is the first; later releases upgrade older layouts here.
        _ => Ok(()),
    }
}

/// Every row, oldest first; called under the lock, after [`ensure`].
pub fn read(driver: &mut dyn Driver, dialect: &Dialect) -> Result<Vec<Record>, Error> {
    driver
        .load_records(&dialect.select_records())
        .map_err(|cause| database("read the tracking table", dialect, cause))
}

/// Every row, or none when the table does not exist yet; changes nothing.
pub fn read_if_exists(driver: &mut dyn Driver, dialect: &Dialect) -> Result<Vec<Record>, Error> {
    match driver.load_records(&dialect.select_records()) {
        Ok(records) => Ok(records),
        Err(cause) => match driver.scalar(&dialect.table_exists()) {
            Ok(Some(0)) => Ok(Vec::new()),
            _ => Err(database("read the tracking table", dialect, cause)),
        },
    }
}

/// Whether `cause` is a concurrent creation of the same table rather than a real failure.
pub fn lost_a_creation_race(cause: &diesel::result::Error) -> bool {
    use diesel::result::Error as DieselError;
    let text = cause.to_string();
    matches!(
        cause,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
    ) || text.contains("already exists")
        || Transient::of(cause) == Some(Transient::Deadlock)
}
