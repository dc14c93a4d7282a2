static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!("tests/fixtures/lint-needs-no-transaction");

fn main() {}
