static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!("tests/fixtures/version-last");

fn main() {}
