static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!("migrations", "more");

fn main() {}
