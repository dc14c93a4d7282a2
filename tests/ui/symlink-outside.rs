static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/symlink-outside");

fn main() {}
