static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!("tests/fixtures/lint-implicit-transaction");

fn main() {}
