static MIGRATIONS: tidemark::Migrations = tidemark::embed_migrations!(migrations);

fn main() {}
