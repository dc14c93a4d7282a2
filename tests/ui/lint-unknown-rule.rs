static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/lint-unknown-rule");

fn main() {}
