static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/bad-separator");

fn main() {}
