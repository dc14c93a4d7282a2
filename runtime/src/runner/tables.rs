//! Reading the tracking table, and creating or upgrading it under the lock.

use diesel::result::{DatabaseErrorKind, QueryResult};
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
    // Once the table exists, no DDL: with locking off, a `CREATE TABLE IF NOT EXISTS` on MySQL
    // waits for the metadata lock of every transaction applying a migration, and can be picked
    // as a deadlock victim by them round after round.
    if let Some(found) = existing_layout(driver, dialect) {
        return upgrade(driver, dialect, found);
    }
    let create = dialect.create_tables();
    let created = create_racing(
        driver,
        &mut |driver| create_once(driver, dialect, &create),
        &mut |driver| existing_layout(driver, dialect).is_some(),
    );
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
    upgrade(driver, dialect, layout.unwrap_or(LAYOUT))
}

/// Brings a table of layout `found` to [`LAYOUT`], or refuses one written by a newer release.
fn upgrade(driver: &mut dyn Driver, dialect: &Dialect, found: i64) -> Result<(), Error> {
    check_layout(dialect, found)?;
    if found == 1 {
        let upgrade = dialect.upgrade_to_layout_2();
        let upgraded = match dialect.backend() {
            Backend::Sqlite | Backend::Postgres => driver.transaction(&mut |tx| tx.batch(&upgrade)),
            Backend::Mysql => driver.batch(&upgrade),
        };
        // With locking off another process may have upgraded it first.
        if let Err(cause) = upgraded {
            if existing_layout(driver, dialect) != Some(LAYOUT) {
                return Err(database("upgrade the tracking table", dialect, cause));
            }
        }
    }
    Ok(())
}

/// One try at creating both tables and recording the layout.
fn create_once(driver: &mut dyn Driver, dialect: &Dialect, create: &str) -> QueryResult<()> {
    match dialect.backend() {
        // SQLite would commit, and sync, each statement of the batch on its own.
        Backend::Sqlite => driver.transaction(&mut |tx| tx.batch(create)),
        // A PostgreSQL batch is one transaction already; MySQL commits DDL regardless.
        Backend::Postgres | Backend::Mysql => driver.batch(create),
    }
}

/// Runs `create`, the `CREATE TABLE IF NOT EXISTS` of tables that processes may be creating
/// at once, until it succeeds or the race it lost is over. PostgreSQL's `IF NOT EXISTS` does
/// not stop a second session from meeting the first's catalog row ("already exists", a unique
/// violation), and MySQL can pick one as a deadlock victim; whichever wins, the tables are
/// there once it commits, which `exists` sees.
pub fn create_racing(
    driver: &mut dyn Driver,
    create: &mut dyn FnMut(&mut dyn Driver) -> QueryResult<()>,
    exists: &mut dyn FnMut(&mut dyn Driver) -> bool,
) -> QueryResult<()> {
    let mut tries = 0;
    loop {
        match create(driver) {
            Err(cause) if lost_a_creation_race(&cause) && tries < RACE_TRIES => {
                if exists(driver) {
                    return Ok(());
                }
                tries += 1;
            }
            created => return created,
        }
    }
}

/// How many times a process that lost the race to create a table tries again.
const RACE_TRIES: usize = 16;

/// The recorded layout when both tables exist and the layout is recorded; `None` otherwise,
/// whatever the reason: the create that follows says what is wrong.
fn existing_layout(driver: &mut dyn Driver, dialect: &Dialect) -> Option<i64> {
    driver.scalar(&dialect.select_layout()).ok().flatten()
}

/// Refuses a table written by a newer release, whose rows this one may misread.
fn check_layout(dialect: &Dialect, found: i64) -> Result<(), Error> {
    if found > LAYOUT {
        return Err(Error::UnsupportedLayout {
            table: dialect.table().to_owned(),
            found,
            supported: LAYOUT,
        });
    }
    // Layout 1 is the first; later releases upgrade older layouts here.
    Ok(())
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
fn lost_a_creation_race(cause: &diesel::result::Error) -> bool {
    use diesel::result::Error as DieselError;
    let text = cause.to_string();
    matches!(
        cause,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
    ) || text.contains("already exists")
        || Transient::of(cause) == Some(Transient::Deadlock)
}
