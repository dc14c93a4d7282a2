static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!("tests/fixtures/space-in-name");

fn main() {}
