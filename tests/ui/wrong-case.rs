static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/wrong-case");

fn main() {}
