static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!("tests/fixtures/symlink-outside");

fn main() {}
