//! A new user's first steps, on a crate of their own built with the real cargo: the README's
//! dependency block, example and `build.rs`, copied as they are (only the registry version
//! swapped for this workspace's path), build and migrate a PostgreSQL database; and the
//! commonest first mistake, forgetting the backend feature, is an error that names it.

#![cfg(feature = "postgres")]

mod common;

use std::path::Path;

use common::scratch::Scratch;

/// The code blocks of the README tagged `lang`, in order.
fn readme_blocks(lang: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("read README.md");
    let fence = format!("```{lang}\n");
    readme
        .split(fence.as_str())
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap().to_owned())
        .collect()
}

/// The README's `[dependencies]` entries, with waterline taken from this workspace.
fn readme_dependencies() -> String {
    let toml = readme_blocks("toml").remove(0);
    let dependencies = toml
        .strip_prefix("[dependencies]\n")
        .expect("the README's first toml block is a [dependencies] table");
    let waterline = "waterline = { version = \"0.1\",";
    assert!(
        dependencies.contains(waterline),
        "the README's dependency block no longer reads `{waterline} ...`: update this test"
    );
    dependencies.replace(waterline, "waterline = { path = {runtime},")
}

/// A crate made of the README's blocks: its dependencies, its example as `src/main.rs`, its
/// `build.rs`, and the example app's migrations in `migrations/`.
fn readme_crate(name: &str, dependencies: &str) -> Scratch {
    let rust = readme_blocks("rust");
    let [main_rs, build_rs] = &rust[..] else {
        panic!(
            "the README has {} rust blocks, this test expects the example and build.rs",
            rust.len()
        );
    };
    let scratch = Scratch::new(name, dependencies);
    scratch.write("src/main.rs", main_rs);
    scratch.write("build.rs", build_rs);
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    common::copy_folder(&migrations, &scratch.dir.join("migrations"));
    scratch
}

#[test]
fn the_readme_example_builds_in_a_new_crate_and_migrates() {
    let Some(db) = common::TestDb::<diesel::PgConnection>::new() else {
        return;
    };
    let scratch = readme_crate("readme_example", &readme_dependencies());
    scratch.build();

    let first = scratch.run(&[("DATABASE_URL", &db.url)]);
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(
        first.status.success(),
        "the README example failed: {stderr}"
    );
    let stdout = String::from_utf8(first.stdout).unwrap();
    let embedded = std::fs::read_dir(scratch.dir.join("migrations"))
        .unwrap()
        .filter(|entry| entry.as_ref().unwrap().file_name() != "README.md")
        .count();
    // The example runs what start-up runs: everything before the background migration, the
    // last one (StreamVault's backfill of profile images), which it leaves to a background
    // run and names on the report's last line.
    let deferred = "1 migration left to the background run, from 013 \
                    `migrations/013_default_profile_images.rs`\n";
    assert!(
        stdout.starts_with(&format!("{} migrations in ", embedded - 1)),
        "unexpected report: {stdout}"
    );
    assert!(stdout.ends_with(deferred), "{stdout}");
    assert_eq!(stdout.lines().count(), 1 + (embedded - 1) + 1, "{stdout}");

    let second = scratch.run(&[("DATABASE_URL", &db.url)]);
    assert!(second.status.success());
    assert_eq!(
        String::from_utf8(second.stdout).unwrap(),
        format!("nothing applied\n{deferred}")
    );
}

#[test]
fn forgetting_the_backend_feature_is_an_error_that_names_it() {
    let with_feature = "waterline = { path = {runtime}, features = [\"postgres\"] }";
    let dependencies =
        readme_dependencies().replace(with_feature, "waterline = { path = {runtime} }");
    assert!(!dependencies.contains(with_feature));
    let scratch = readme_crate("readme_without_feature", &dependencies);
    let output = scratch.try_build();
    assert!(!output.status.success(), "built without a backend feature");
    let stderr = String::from_utf8(output.stderr).unwrap();
    let expected = [
        "error[E0277]: waterline was built without any database backend, so it cannot migrate `PgConnection`",
        "no waterline backend feature is enabled",
        "= note: enable the feature of your database: `waterline = { version = \"0.1\", features = [\"postgres\"] }` (or \"mysql\", \"sqlite\")",
    ];
    for line in expected {
        assert!(stderr.contains(line), "missing `{line}` in:\n{stderr}");
    }
    assert!(!stderr.contains("E0599"), "{stderr}");
}

#[test]
fn a_postgres_only_app_gets_no_mysql_advice() {
    // `CREATE TABLE` without `IF NOT EXISTS` is advice for MySQL, which cannot roll DDL back;
    // an app built for PostgreSQL only builds with `lint = strict`.
    let scratch = Scratch::new(
        "postgres_only_lints",
        "waterline = { path = {runtime}, features = [\"postgres\"] }",
    );
    scratch.write(
        "src/main.rs",
        "static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!(\"migrations\", lint = strict);\n\
         fn main() { println!(\"{}\", MIGRATIONS.len()); }\n",
    );
    scratch.write(
        "migrations/001_create_t.sql",
        "CREATE TABLE t (id INTEGER);\n",
    );
    scratch.build();
}

#[test]
fn applied_history_is_accepted_as_it_is() {
    // 001 was applied in production long ago with a lint error in it; editing it would
    // change its checksum. `history` makes what the lints find up to it advice.
    let scratch = Scratch::new(
        "history_lints",
        "waterline = { path = {runtime}, features = [\"postgres\"] }",
    );
    let main = |args: &str| {
        format!(
            "static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!(\"migrations\"{args});\n\
             fn main() {{ println!(\"{{:?}}\", MIGRATIONS.history_until()); }}\n"
        )
    };
    scratch.write(
        "migrations/001_index_users.sql",
        "CREATE TABLE users (id INTEGER);\nCREATE INDEX CONCURRENTLY users_id ON users (id);\n",
    );
    scratch.write(
        "migrations/002_more.sql",
        "CREATE TABLE more (id INTEGER);\n",
    );
    scratch.write("src/main.rs", &main(""));
    let stderr = String::from_utf8(scratch.try_build().stderr).unwrap();
    assert!(stderr.contains("[needs-no-transaction]"), "{stderr}");

    scratch.write("src/main.rs", &main(", history = \"001\""));
    scratch.build();
    let output = scratch.run(&[]);
    assert_eq!(String::from_utf8_lossy(&output.stdout), "Some(1)\n");

    scratch.write("src/main.rs", &main(", history = \"009\""));
    let stderr = String::from_utf8(scratch.try_build().stderr).unwrap();
    assert!(
        stderr.contains("`history = \"009\"` names no migration of `migrations`; write the version of the newest migration already applied in production, as in its name"),
        "{stderr}"
    );
}
