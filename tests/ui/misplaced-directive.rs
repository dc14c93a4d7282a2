static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!("tests/fixtures/misplaced-directive");

fn main() {}
