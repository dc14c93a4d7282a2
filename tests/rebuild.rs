//! What cargo rebuilds when migrations change after a build, shown on a scratch crate built
//! with the real cargo:
//!
//! - an edited migration is embedded at the next build (every file is `include_str!`ed);
//! - a removed migration is dropped at the next build (cargo misses the included file);
//! - an added migration is embedded at the next build only with the one-line `build.rs`;
//! - without it, the stale binary refuses at start-up in debug builds, naming the new file.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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

/// A crate of its own under `target/`, depending on this workspace's waterline.
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    fn new(name: &str, with_build_rs: bool) -> Scratch {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = root.join("target/rebuild-tests").join(name);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("src")).unwrap();
        fs::create_dir_all(dir.join("migrations")).unwrap();
        let runtime = root.join("runtime");
        let manifest = format!(
            "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
             [dependencies]\nwaterline = {{ path = {runtime:?} }}\n\n[workspace]\n"
        );
        fs::write(dir.join("Cargo.toml"), manifest).unwrap();
        fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
        fs::write(dir.join("src/main.rs"), MAIN_RS).unwrap();
        if with_build_rs {
            fs::write(dir.join("build.rs"), BUILD_RS).unwrap();
        }
        Scratch { dir }
    }

    /// Writes a migration. Cargo compares file times with the time a build started, so a
    /// write after a build has finished is always seen as newer.
    fn write(&self, file: &str, sql: &str) {
        fs::write(self.dir.join("migrations").join(file), sql).unwrap();
    }

    fn remove(&self, file: &str) {
        fs::remove_file(self.dir.join("migrations").join(file)).unwrap();
    }

    fn build(&self) {
        let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/rebuild-tests/target");
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["build", "--quiet", "--offline"])
            .env("CARGO_TARGET_DIR", &target)
            .current_dir(&self.dir)
            .status()
            .unwrap();
        assert!(
            status.success(),
            "cargo build of {} failed",
            self.dir.display()
        );
    }

    fn run(&self) -> Output {
        let name = self.dir.file_name().unwrap();
        let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/rebuild-tests/target");
        Command::new(target.join("debug").join(name))
            .current_dir(&self.dir)
            .output()
            .unwrap()
    }

    /// The ids of the migrations the binary embeds.
    fn embedded(&self) -> Vec<String> {
        let output = self.run();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8(output.stdout).unwrap();
        stdout
            .lines()
            .map(|line| line.split(' ').next().unwrap().to_owned())
            .collect()
    }
}

#[test]
fn an_edited_migration_is_embedded_at_the_next_build() {
    let scratch = Scratch::new("rebuild_edit", false);
    scratch.write("001_init.sql", "CREATE TABLE a (id INTEGER);\n");
    scratch.build();
    let edited = "CREATE TABLE a (id INTEGER, name TEXT);\n";
    scratch.write("001_init.sql", edited);
    scratch.build();
    let stdout = String::from_utf8(scratch.run().stdout).unwrap();
    assert_eq!(
        stdout,
        format!("001_init {}\n", waterline::Checksum::of(edited))
    );
}

#[test]
fn a_removed_migration_is_dropped_at_the_next_build() {
    let scratch = Scratch::new("rebuild_remove", false);
    scratch.write("001_init.sql", "CREATE TABLE a (id INTEGER);\n");
    scratch.write("002_more.sql", "CREATE TABLE b (id INTEGER);\n");
    scratch.build();
    assert_eq!(scratch.embedded(), ["001_init", "002_more"]);
    scratch.remove("002_more.sql");
    scratch.build();
    assert_eq!(scratch.embedded(), ["001_init"]);
}

#[test]
fn an_added_migration_is_embedded_at_the_next_build_with_build_rs() {
    let scratch = Scratch::new("rebuild_add_with_build_rs", true);
    scratch.write("001_init.sql", "CREATE TABLE a (id INTEGER);\n");
    scratch.build();
    scratch.write("002_more.sql", "CREATE TABLE b (id INTEGER);\n");
    scratch.build();
    assert_eq!(scratch.embedded(), ["001_init", "002_more"]);
}

#[test]
fn an_added_migration_without_build_rs_is_refused_at_start_up() {
    let scratch = Scratch::new("rebuild_add_without_build_rs", false);
    scratch.write("001_init.sql", "CREATE TABLE a (id INTEGER);\n");
    scratch.build();
    scratch.write("002_more.sql", "CREATE TABLE b (id INTEGER);\n");
    scratch.build();
    let output = scratch.run();
    assert_eq!(output.status.code(), Some(3), "the stale binary ran");
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        "error: the migrations embedded in this binary are not the ones in `migrations`: \
         `migrations/002_more.sql` is on disk but not embedded; rebuild, and add a build.rs with \
         `println!(\"cargo:rerun-if-changed=migrations\");` so cargo rebuilds when a migration is added\n"
    );
}
