static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!("tests/fixtures/unknown-file-in-directory");

fn main() {}
