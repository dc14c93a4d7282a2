static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!("tests/fixtures/trailing-underscore");

fn main() {}
