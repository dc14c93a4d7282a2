static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/comment-only");

fn main() {}
