static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/rust-entry-points");

fn main() {}
