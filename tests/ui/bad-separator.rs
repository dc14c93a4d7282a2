static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!("tests/fixtures/bad-separator");

fn main() {}
