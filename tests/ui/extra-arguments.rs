static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("migrations", "more");

fn main() {}
