//! Reading the tracking table, and creating or upgrading it under the lock.

use waterline_core::Backend;

use super::dialect::{Dialect, LAYOUT};
use super::driver::Driver;
use super::lock::database;
use super::record::Record;
use crate::error::Error;

/// Creates the tracking table when missing and checks its layout; called under the lock.
pub fn ensure(driver: &mut dyn Driver, dialect: &Dialect) -> Result<(), Error> {
    let create = dialect.create_tables();
    let created = match dialect.backend() {
        // SQLite would commit, and sync, each statement of the batch on its own.
        Backend::Sqlite => driver.transaction(&mut |tx| tx.batch(&create)),
        // A PostgreSQL batch is one transaction already; MySQL commits DDL regardless.
        Backend::Postgres | Backend::Mysql => driver.batch(&create),
    };
    created.map_err(|cause| database("create the tracking table", dialect, cause))?;
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
