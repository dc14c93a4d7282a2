//! What cargo rebuilds when migrations change after a build, shown on a scratch crate built
//! with the real cargo:
//!
//! - an edited migration is embedded at the next build (every file is `include_str!`ed);
//! - a removed migration is dropped at the next build (cargo misses the included file);
//! - an added migration is embedded at the next build only with the one-line `build.rs`;
//! - without it, the stale binary refuses at start-up in debug builds, naming the new file.

mod common;

use common::scratch::Scratch;

const BUILD_RS: &str = "fn main() {\n    println!(\"cargo:rerun-if-changed=migrations\");\n}\n";

const MAIN_RS: &str = r#"
static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!();

fn main() {
    if let Err(stale) = MIGRATIONS.check_embed_is_current() {
        eprintln!("error: {stale}");
        std::process::exit(3);
    }
    for migration in &MIGRATIONS {
        let up = migration.up().default_script().unwrap();
        println!("{} {}", migration.id(), up.checksum());
    }
}
"#;

/// A crate embedding `migrations/` with the workspace's waterline, and a `build.rs` when asked.
fn scratch(name: &str, with_build_rs: bool) -> Scratch {
    let scratch = Scratch::new(name, "waterline = { path = {runtime} }");
    scratch.write("src/main.rs", MAIN_RS);
    if with_build_rs {
        scratch.write("build.rs", BUILD_RS);
    }
    scratch
}

/// What the scratch binary prints, run without arguments; it must succeed.
fn printed(scratch: &Scratch) -> String {
    let output = scratch.run(&[]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The ids of the migrations the binary embeds.
fn embedded(scratch: &Scratch) -> Vec<String> {
    printed(scratch)
        .lines()
        .map(|line| line.split(' ').next().unwrap().to_owned())
        .collect()
}

#[test]
fn an_edited_migration_is_embedded_at_the_next_build() {
    let scratch = scratch("rebuild_edit", false);
    scratch.write("migrations/001_init.sql", "CREATE TABLE a (id INTEGER);\n");
    scratch.build();
    let edited = "CREATE TABLE a (id INTEGER, name TEXT);\n";
    scratch.write("migrations/001_init.sql", edited);
    scratch.build();
    let stdout = String::from_utf8(scratch.run(&[]).stdout).unwrap();
    assert_eq!(
        stdout,
        format!("001_init {}\n", waterline::Checksum::of(edited))
    );
}

#[test]
fn a_removed_migration_is_dropped_at_the_next_build() {
    let scratch = scratch("rebuild_remove", false);
    scratch.write("migrations/001_init.sql", "CREATE TABLE a (id INTEGER);\n");
    scratch.write("migrations/002_more.sql", "CREATE TABLE b (id INTEGER);\n");
    scratch.build();
    assert_eq!(embedded(&scratch), ["001_init", "002_more"]);
    scratch.remove("migrations/002_more.sql");
    scratch.build();
    assert_eq!(embedded(&scratch), ["001_init"]);
}

#[test]
fn an_added_migration_is_embedded_at_the_next_build_with_build_rs() {
    let scratch = scratch("rebuild_add_with_build_rs", true);
    scratch.write("migrations/001_init.sql", "CREATE TABLE a (id INTEGER);\n");
    scratch.build();
    scratch.write("migrations/002_more.sql", "CREATE TABLE b (id INTEGER);\n");
    scratch.build();
    assert_eq!(embedded(&scratch), ["001_init", "002_more"]);
}

#[test]
fn an_added_migration_without_build_rs_is_refused_at_start_up() {
    let scratch = scratch("rebuild_add_without_build_rs", false);
    scratch.write("migrations/001_init.sql", "CREATE TABLE a (id INTEGER);\n");
    scratch.build();
    scratch.write("migrations/002_more.sql", "CREATE TABLE b (id INTEGER);\n");
    scratch.build();
    let output = scratch.run(&[]);
    assert_eq!(output.status.code(), Some(3), "the stale binary ran");
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        "error: the migrations embedded in this binary are not the ones in `migrations`: \
         `migrations/002_more.sql` is on disk but not embedded; rebuild, and add a build.rs with \
         `println!(\"cargo:rerun-if-changed=migrations\");` so cargo rebuilds when a migration is added\n"
    );
}

#[test]
fn an_edited_rust_migration_is_compiled_and_checksummed_at_the_next_build() {
    let scratch = Scratch::new(
        "rebuild_rust",
        "waterline = { path = {runtime}, features = [\"sqlite\"] }\ndiesel = { version = \"2.3\", default-features = false, features = [\"sqlite\"] }",
    );
    scratch.write(
        "src/main.rs",
        r#"
use diesel::Connection;

static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!();

fn main() {
    let mut conn = diesel::SqliteConnection::establish(":memory:").unwrap();
    MIGRATIONS.run_pending(&mut conn).unwrap();
    let up = MIGRATIONS.iter().next().unwrap().up().default_script().unwrap().clone();
    println!("{}", up.checksum());
}
"#,
    );
    let code = |says: &str| {
        format!(
            "use waterline::code::{{Result, Step}};\n\npub fn up(step: &mut Step<'_>) -> Result {{\n    \
             println!(\"{says}\");\n    step.execute(\"CREATE TABLE a (id INTEGER)\")?;\n    Ok(())\n}}\n"
        )
    };
    scratch.write("migrations/001_init.rs", &code("first"));
    scratch.build();
    let edited = code("edited");
    scratch.write("migrations/001_init.rs", &edited);
    scratch.build();
    assert_eq!(
        printed(&scratch),
        format!("edited\n{}\n", waterline::Checksum::of(&edited)),
        "the edited code ran, under the edited source's checksum"
    );
}
