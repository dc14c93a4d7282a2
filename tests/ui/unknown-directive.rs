static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/unknown-directive");

fn main() {}
