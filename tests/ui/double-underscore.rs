static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!("tests/fixtures/double-underscore");

fn main() {}
