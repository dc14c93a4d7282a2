static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/lint-copy-from-stdin");

fn main() {}
