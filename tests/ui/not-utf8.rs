static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/not-utf8");

fn main() {}
