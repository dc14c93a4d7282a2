static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!("tests/fixtures/duplicate-version");

fn main() {}
