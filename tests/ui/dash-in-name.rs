static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!("tests/fixtures/dash-in-name");

fn main() {}
