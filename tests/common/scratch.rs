//! Crates of their own under `target/`, built with the real cargo against this workspace's
//! waterline, to see what a user's crate sees: what cargo rebuilds, what the compiler says.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A scratch crate in `target/scratch-crates/<name>`, sharing one target directory with the
/// others so their dependencies build once.
pub struct Scratch {
    pub dir: PathBuf,
}

/// The workspace root.
fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn target_dir() -> PathBuf {
    root().join("target/scratch-crates/target")
}

impl Scratch {
    /// A new crate `name` (any previous one removed) whose `[dependencies]` table is
    /// `dependencies`, in which `{runtime}` stands for the path of this workspace's waterline.
    pub fn new(name: &str, dependencies: &str) -> Scratch {
        let dir = root().join("target/scratch-crates").join(name);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("src")).unwrap();
        let runtime = format!("{:?}", root().join("runtime"));
        let manifest = format!(
            "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
             [dependencies]\n{}\n\n[workspace]\n",
            dependencies.replace("{runtime}", &runtime)
        );
        fs::write(dir.join("Cargo.toml"), manifest).unwrap();
        // The workspace's lock file, so the build resolves the same versions, offline.
        fs::copy(root().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
        Scratch { dir }
    }

    /// Writes `path` (relative to the crate) with `text`. Cargo compares file times with the
    /// time a build started, so a write after a build has finished is always seen as newer.
    pub fn write(&self, path: &str, text: &str) {
        let path = self.dir.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    /// Removes `path` (relative to the crate).
    pub fn remove(&self, path: &str) {
        fs::remove_file(self.dir.join(path)).unwrap();
    }

    /// Runs `cargo build`, offline, and returns what it printed.
    pub fn try_build(&self) -> Output {
        Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["build", "--quiet", "--offline"])
            .env("CARGO_TARGET_DIR", target_dir())
            .current_dir(&self.dir)
            .output()
            .unwrap()
    }

    /// Runs `cargo build` and asserts that it succeeded.
    pub fn build(&self) {
        let output = self.try_build();
        assert!(
            output.status.success(),
            "cargo build of {} failed:\n{}",
            self.dir.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Runs the built binary in the crate's directory with `env` added.
    pub fn run(&self, env: &[(&str, &str)]) -> Output {
        let name = self.dir.file_name().unwrap();
        Command::new(target_dir().join("debug").join(name))
            .current_dir(&self.dir)
            .envs(env.iter().copied())
            .output()
            .unwrap()
    }
}
