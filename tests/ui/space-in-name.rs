static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/space-in-name");

fn main() {}
