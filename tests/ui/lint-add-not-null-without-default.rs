static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!("tests/fixtures/lint-add-not-null-without-default");

fn main() {}
