static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/lint-implicit-transaction");

fn main() {}
