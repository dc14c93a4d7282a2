static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!("tests/fixtures/wrong-case");

fn main() {}
