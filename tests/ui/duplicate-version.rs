static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/duplicate-version");

fn main() {}
