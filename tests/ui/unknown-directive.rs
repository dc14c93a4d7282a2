static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!("tests/fixtures/unknown-directive");

fn main() {}
