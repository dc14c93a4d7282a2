static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!("tests/fixtures/empty-down");

fn main() {}
