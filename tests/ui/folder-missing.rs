static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!("tests/fixtures/does-not-exist");

fn main() {}
