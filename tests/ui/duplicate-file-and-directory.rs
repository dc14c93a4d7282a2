static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!("tests/fixtures/duplicate-file-and-directory");

fn main() {}
