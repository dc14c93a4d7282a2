static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/double-underscore");

fn main() {}
