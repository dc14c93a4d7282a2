static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/misplaced-directive");

fn main() {}
