//! Taking over a database diesel_migrations migrated: what `__diesel_schema_migrations`
//! records is recorded as applied, version for version, and, when asked, that table is kept
//! in step with the tracking table afterwards.

use std::collections::BTreeSet;

use waterline_core::Migration;

use super::apply::Context;
use super::lock::database;
use super::record::{Record, RecordStatus};
use super::{record_baseline, Baseline};
use crate::error::Error;
use crate::runner::driver::Driver;

/// The version diesel_migrations records for `migration`: the digits of its version as
/// written, without dashes (`2017-08-31-230457_x` is `20170831230457`, `001_x` is `001`).
pub fn diesel_version(migration: &Migration) -> String {
    waterline_core::diesel::recorded_version(migration.version_text())
}

/// The versions `__diesel_schema_migrations` records, or `None` when it does not exist.
pub fn recorded(driver: &mut dyn Driver, ctx: &Context<'_>) -> Result<Option<Vec<String>>, Error> {
    let exists = driver
        .scalar(&ctx.dialect.diesel_table_exists())
        .map_err(|cause| database("look for diesel's table", ctx.dialect, cause))?;
    if exists != Some(1) {
        return Ok(None);
    }
    let versions = driver
        .texts(ctx.dialect.select_diesel_versions())
        .map_err(|cause| database("read `__diesel_schema_migrations`", ctx.dialect, cause))?;
    Ok(Some(versions.into_iter().flatten().collect()))
}

/// Records as applied every migration `__diesel_schema_migrations` records, and nothing when
/// it records a version this binary does not embed: [`Error::DieselVersionsNotEmbedded`]
/// lists each. [`Error::NoDieselTable`] when there is no such table.
pub fn adopt(
    driver: &mut dyn Driver,
    ctx: &Context<'_>,
    migrations: &[Migration],
    records: &[Record],
) -> Result<Baseline, Error> {
    let Some(versions) = recorded(driver, ctx)? else {
        return Err(Error::NoDieselTable);
    };
    let embedded: BTreeSet<String> = migrations.iter().map(diesel_version).collect();
    let unknown: Vec<String> = versions
        .iter()
        .filter(|v| !embedded.contains(v.as_str()))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(Error::DieselVersionsNotEmbedded {
            versions: unknown,
            table: ctx.dialect.table().to_owned(),
        });
    }
    let applied: BTreeSet<&str> = versions.iter().map(String::as_str).collect();
    record_baseline(driver, ctx, migrations, records, |m| {
        applied.contains(diesel_version(m).as_str())
    })
}

/// Makes `__diesel_schema_migrations` record exactly the embedded migrations the tracking
/// table records as applied, creating it when missing. Rows of versions this binary does not
/// embed are left as they are.
pub fn keep_in_step(
    driver: &mut dyn Driver,
    ctx: &Context<'_>,
    migrations: &[Migration],
    records: &[Record],
) -> Result<(), Error> {
    let failed = |cause| {
        database(
            "keep `__diesel_schema_migrations` in step",
            ctx.dialect,
            cause,
        )
    };
    driver
        .batch(ctx.dialect.create_diesel_table())
        .map_err(failed)?;
    let present: BTreeSet<String> = recorded(driver, ctx)?
        .unwrap_or_default()
        .into_iter()
        .collect();
    for migration in migrations {
        let applied = records
            .iter()
            .any(|r| r.version() == migration.version() && r.status() == RecordStatus::Applied);
        let version = diesel_version(migration);
        let sql = match (applied, present.contains(&version)) {
            (true, false) => ctx.dialect.insert_diesel_version(&version),
            (false, true) => ctx.dialect.delete_diesel_version(&version),
            _ => continue,
        };
        driver.batch(&sql).map_err(failed)?;
    }
    Ok(())
}
