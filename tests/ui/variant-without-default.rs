static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!("tests/fixtures/variant-without-default");

fn main() {}
