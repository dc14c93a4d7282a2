static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/duplicate-file-and-directory");

fn main() {}
