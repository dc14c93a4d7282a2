static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!("tests/fixtures/lint-transaction-control");

fn main() {}
