static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/not-zero-padded");

fn main() {}
