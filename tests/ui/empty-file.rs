static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/empty-file");

fn main() {}
