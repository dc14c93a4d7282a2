//! One big data migration: the build time of a crate whose migrations folder holds a single
//! script of 1, 4 or 16 MiB of `INSERT` rows, the kind a seed or backfill migration is.
//!
//! The crate is a scratch crate under `target/bench-apps/big_migration` that depends on this
//! workspace's waterline by path. Its dependencies are built once, untimed; then, for each size,
//! the script is written, built once untimed, and each timed run touches the script and runs
//! `cargo build` (the dev profile, as a user's `cargo build`), which recompiles only the crate
//! itself: the macro reading, checksumming and linting the script, and rustc embedding it.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The script sizes measured, in MiB.
pub const SIZES_MIB: [usize; 3] = [1, 4, 16];

/// The migration's file name inside the scratch crate's `migrations/`.
const FILE: &str = "001_seed_events.sql";

/// A data script of at least `bytes` bytes: one `INSERT` of one row per line, about 300 bytes
/// each, with text in several words and some `NULL`s. The text has words the error lints look
/// for (`start`, `end`), so the lints read every statement, the most work a script can ask of
/// them. The same `bytes` always gives the same text.
pub fn script(bytes: usize) -> String {
    const KINDS: [&str; 4] = ["signup", "plan_change", "renewal", "cancellation"];
    const NOTES: [&str; 4] = [
        "Trial start moved to the first of the month; the customer asked by mail",
        "Renewal at the end of the billing period, with the yearly discount kept",
        "Support ticket closed; nothing to refund, the invoice was already paid",
        "Imported from the old CRM; the team and region of the owner were unknown",
    ];
    let mut sql = String::with_capacity(bytes + 512);
    sql.push_str("-- Seed data: events imported from the old system, one row per statement.\n");
    let mut row = 0u64;
    while sql.len() < bytes {
        row += 1;
        // A small LCG: varied values, the same text on every run.
        let mix = row.wrapping_mul(6_364_136_223_846_793_005).rotate_left(17);
        let account = 1000 + mix % 90_000;
        let kind = KINDS[(mix >> 8) as usize % KINDS.len()];
        let note = NOTES[(mix >> 12) as usize % NOTES.len()];
        let score = match mix % 5 {
            0 => "NULL".to_owned(),
            n => format!("{}.{:02}", n, mix % 100),
        };
        let _ = writeln!(
            sql,
            "INSERT INTO events (id, account_id, kind, title, note, score, created_at) VALUES \
             ({row}, {account}, '{kind}', 'Account {account}: {kind} #{row}', '{note}.', {score}, \
             '2024-{:02}-{:02}T{:02}:{:02}:00Z');",
            1 + mix % 12,
            1 + (mix >> 4) % 28,
            (mix >> 9) % 24,
            (mix >> 14) % 60,
        );
    }
    sql
}

/// The scratch crate: its directory and its target directory.
pub struct Crate {
    dir: PathBuf,
    target: PathBuf,
}

const MAIN: &str = r#"static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!();
fn main() {
    println!("{}", MIGRATIONS.iter().count());
}
"#;

impl Crate {
    /// Writes the crate under `workspace/target/bench-apps` with a one-line migration and
    /// builds it once, so that its dependencies are built before anything is timed.
    pub fn new(workspace: &Path) -> Crate {
        let root = workspace.join("target/bench-apps");
        let dir = root.join("big_migration");
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("src")).unwrap();
        fs::create_dir_all(dir.join("migrations")).unwrap();
        let runtime = workspace.join("runtime");
        let manifest = format!(
            "[package]\nname = \"bench_big_migration\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
             [dependencies]\nwaterline = {{ path = {runtime:?} }}\n\n[workspace]\n"
        );
        fs::write(dir.join("Cargo.toml"), manifest).unwrap();
        fs::copy(workspace.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
        fs::write(dir.join("src/main.rs"), MAIN).unwrap();
        let app = Crate {
            dir,
            target: root.join("target"),
        };
        app.write(&script(64 * 1024));
        app.build();
        app
    }

    fn write(&self, sql: &str) {
        fs::write(self.dir.join("migrations").join(FILE), sql).unwrap();
    }

    /// Runs `cargo build` (the dev profile, offline) and returns its wall time.
    fn build(&self) -> Duration {
        crate::apps::cargo_build(&self.dir, &self.target, &["--offline"])
    }

    /// The builds of the crate with a script of `mib` MiB: one untimed, then `runs` timed,
    /// each after the script was written again (same text, a new modification time).
    pub fn measure(&self, mib: usize, runs: usize) -> Vec<Duration> {
        // Just under the size: a migration file may hold at most 16 MiB.
        let sql = script(mib * 1024 * 1024 - 4096);
        self.write(&sql);
        self.build();
        (0..runs)
            .map(|_| {
                self.write(&sql);
                self.build()
            })
            .collect()
    }
}

/// The build times of the crate, `runs` per size, for each of [`SIZES_MIB`].
pub fn measure(workspace: &Path, runs: usize) -> Vec<(usize, Vec<Duration>)> {
    let app = Crate::new(workspace);
    SIZES_MIB
        .iter()
        .map(|&mib| {
            eprintln!("building a crate with one migration of {mib} MiB");
            (mib, app.measure(mib, runs))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_are_rows_of_a_few_hundred_bytes() {
        let sql = script(64 * 1024);
        assert!(sql.len() >= 64 * 1024 && sql.len() < 65 * 1024);
        let rows = sql.lines().filter(|l| l.starts_with("INSERT")).count();
        let average = sql.len() / rows;
        assert!((200..400).contains(&average), "{average} bytes a row");
        assert_eq!(sql, script(64 * 1024));
    }
}
