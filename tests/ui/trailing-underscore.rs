static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/trailing-underscore");

fn main() {}
