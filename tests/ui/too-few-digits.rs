static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!("tests/fixtures/too-few-digits");

fn main() {}
