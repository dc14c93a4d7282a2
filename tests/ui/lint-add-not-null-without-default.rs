static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/lint-add-not-null-without-default");

fn main() {}
