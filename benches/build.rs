fn main() {
    // Rebuild when a migration is added to `migrations/`: cargo notices edits to embedded
    // files on its own.
    println!("cargo:rerun-if-changed=migrations");
}
