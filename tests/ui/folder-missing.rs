static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/does-not-exist");

fn main() {}
