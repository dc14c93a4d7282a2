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

fn main() -> ExitCode {
    Cli::parse()
        .migrate
        .run_with_default_database(&MIGRATIONS, Some(DEFAULT_DATABASE))
}
