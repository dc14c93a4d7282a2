static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/name-starts-with-digit");

fn main() {}
