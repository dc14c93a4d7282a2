static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/non-ascii-name");

fn main() {}
