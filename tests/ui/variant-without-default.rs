static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/variant-without-default");

fn main() {}
