//! StreamVault: the example app of tidemark. It embeds `migrations/` at compile time.

static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!();

fn main() {
    if let Err(stale) = MIGRATIONS.check_embed_is_current() {
        eprintln!("error: {stale}");
        std::process::exit(1);
    }
    for migration in &MIGRATIONS {
        println!("{} {}", migration.version_text(), migration.name());
    }
}
