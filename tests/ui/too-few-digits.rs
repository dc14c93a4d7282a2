static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/too-few-digits");

fn main() {}
