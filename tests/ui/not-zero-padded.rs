static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!("tests/fixtures/not-zero-padded");

fn main() {}
