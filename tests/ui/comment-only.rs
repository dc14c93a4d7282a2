static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!("tests/fixtures/comment-only");

fn main() {}
