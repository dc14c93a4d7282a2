// Advice does not fail a build unless lint = strict.
static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/lint-strict");

fn main() {
    assert_eq!(MIGRATIONS.len(), 2);
}
