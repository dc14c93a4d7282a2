static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!("tests/fixtures/folder-empty");

fn main() {}
