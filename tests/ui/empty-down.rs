static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/empty-down");

fn main() {}
