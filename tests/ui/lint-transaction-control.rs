static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/lint-transaction-control");

fn main() {}
