static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!("tests/fixtures/uppercase-extension");

fn main() {}
