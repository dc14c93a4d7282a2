// The rule is allowed by the file, so the build passes.
static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/lint-allowed");

fn main() {
    assert_eq!(MIGRATIONS.len(), 2);
}
