// Built with CARGO_MANIFEST_DIR_OVERRIDE at tests/fixtures/default-folder, whose
// migrations/ holds `1_init.sql`: the error points at the call, as there is no path literal.
static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!();

fn main() {}
