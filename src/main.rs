//! StreamVault, the example app of waterline: its schema lives in `migrations/`, embedded at
//! compile time, and `streamvault <command>` is waterline's `migrate` command on it. Without
//! `--database-url` or `DATABASE_URL` it uses the SQLite file `streamvault.db`.

use std::process::ExitCode;

use clap::Parser;

static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!();

/// The SQLite database used when no URL is given.
const DEFAULT_DATABASE: &str = "streamvault.db";

#[derive(Parser)]
#[command(
    name = "streamvault",
    version,
    about = "StreamVault's database, migrated by waterline"
)]
struct Cli {
    #[command(flatten)]
    migrate: waterline::cli::MigrateCommand,
}

/// The one place StreamVault's migration settings live: what it migrates with at start-up,
/// and what its `migrate` command uses, each flag overriding its one setting.
fn runner() -> waterline::Runner<'static> {
    MIGRATIONS.runner()
}

fn main() -> ExitCode {
    Cli::parse()
        .migrate
        .run_with(runner(), Some(DEFAULT_DATABASE))
}
