static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/version-last");

fn main() {}
