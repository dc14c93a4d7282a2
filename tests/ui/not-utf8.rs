static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!("tests/fixtures/not-utf8");

fn main() {}
