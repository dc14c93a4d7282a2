static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/diesel-bad-names");

fn main() {}
