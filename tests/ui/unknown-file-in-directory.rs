static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/unknown-file-in-directory");

fn main() {}
