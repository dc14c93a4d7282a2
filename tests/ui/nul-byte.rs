static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!("tests/fixtures/nul-byte");

fn main() {}
