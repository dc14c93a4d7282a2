// PL/pgSQL and MySQL statements the parser cannot read never fail a build.
static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/unparseable-sql", lint = strict);

fn main() {
    assert_eq!(MIGRATIONS.len(), 2);
}
