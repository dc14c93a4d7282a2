static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/empty-name");

fn main() {}
