static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/many-problems");

fn main() {}
