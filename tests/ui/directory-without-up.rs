static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!("tests/fixtures/directory-without-up");

fn main() {}
