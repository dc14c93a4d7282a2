static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!("Cargo.toml");

fn main() {}
