static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!("tests/fixtures/bad-allow");

fn main() {}
