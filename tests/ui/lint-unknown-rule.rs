static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!("tests/fixtures/lint-unknown-rule");

fn main() {}
