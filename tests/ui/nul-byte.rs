static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/nul-byte");

fn main() {}
