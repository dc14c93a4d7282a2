static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/bad-allow");

fn main() {}
