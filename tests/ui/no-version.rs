static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!("tests/fixtures/no-version");

fn main() {}
