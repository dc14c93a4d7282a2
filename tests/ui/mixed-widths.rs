static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!("tests/fixtures/mixed-widths");

fn main() {}
