static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/mixed-widths");

fn main() {}
