//! Compile-fail cases of `embed_migrations!` (and a few that must compile, in `tests/ui-pass/`): one folder of bad migrations each, under
//! `tests/fixtures/<case>/`, with the exact compiler output in `tests/ui/<case>.stderr`.
//! Regenerate the expected output with `TRYBUILD=overwrite cargo test --test compile_fail`
//! and read the diff.

use std::path::Path;

#[test]
fn ui() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // trybuild compiles each case inside target/; the override points the macro back here.
    std::env::set_var("CARGO_MANIFEST_DIR_OVERRIDE", root);
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
    cases.pass("tests/ui-pass/*.rs");
    drop(cases);

    std::env::set_var(
        "CARGO_MANIFEST_DIR_OVERRIDE",
        root.join("tests/fixtures/default-folder"),
    );
    trybuild::TestCases::new().compile_fail("tests/ui-default-folder/*.rs");
}
