static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/lint-needs-no-transaction");

fn main() {}
