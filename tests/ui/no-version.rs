static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/no-version");

fn main() {}
