static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("tests/fixtures/runtime/basic");

struct NotAConnection;

fn migrate() {
    let _ = MIGRATIONS.run_pending(&mut NotAConnection);
}

fn main() {}
