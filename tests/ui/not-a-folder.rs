static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("Cargo.toml");

fn main() {}
