static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/folder-empty");

fn main() {}
