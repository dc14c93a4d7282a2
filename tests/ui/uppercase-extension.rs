static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/uppercase-extension");

fn main() {}
