static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/directory-without-up");

fn main() {}
