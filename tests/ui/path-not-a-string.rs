static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!(migrations);

fn main() {}
