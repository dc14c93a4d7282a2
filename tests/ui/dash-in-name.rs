static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/dash-in-name");

fn main() {}
