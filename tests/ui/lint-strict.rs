static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/lint-strict", lint = strict);

fn main() {}
