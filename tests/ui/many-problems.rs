static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!("tests/fixtures/many-problems");

fn main() {}
