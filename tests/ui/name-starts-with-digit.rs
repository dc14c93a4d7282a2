static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!("tests/fixtures/name-starts-with-digit");

fn main() {}
