static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!("tests/fixtures/non-ascii-name");

fn main() {}
