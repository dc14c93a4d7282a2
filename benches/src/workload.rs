//! The generated workload: N migrations, each a table of eight columns and an index, the same
//! SQL for every tool, in each tool's own layout.

use std::fs;
use std::path::Path;

/// The SQL of migration `index` (1-based).
pub fn sql(index: usize) -> String {
    format!(
        "CREATE TABLE bench_{index:04} (\n    id INTEGER PRIMARY KEY,\n    account_id INTEGER NOT NULL,\n    \
         name VARCHAR(100) NOT NULL,\n    email VARCHAR(200),\n    score INTEGER,\n    active BOOLEAN NOT NULL,\n    \
         created_at VARCHAR(40),\n    notes TEXT\n);\nCREATE INDEX bench_{index:04}_account_id ON bench_{index:04} (account_id);\n"
    )
}

/// One workload, loaded for each tool the way its embedding macro leaves it in memory.
pub struct Workload {
    pub size: usize,
    /// waterline's embedded data, built as its macro builds it; each run makes a fresh
    /// `Migrations` over it, as a new process would.
    pub waterline: &'static [waterline::__private::EmbeddedMigration],
    /// diesel_migrations' embedded data; `EmbeddedMigrations::new` over it is what its
    /// macro's `const` gives.
    pub diesel: &'static [diesel_migrations::EmbeddedMigration],
    /// refinery's `(name, sql)` pairs; its macro builds `Migration`s from them at every start.
    pub refinery: Vec<(String, String)>,
}

impl Workload {
    /// `size` migrations.
    pub fn new(size: usize) -> Workload {
        Workload {
            size,
            waterline: waterline_set(size),
            diesel: diesel_set(size),
            refinery: refinery_set(size),
        }
    }

    /// A fresh set over the embedded data: what a process starts with.
    pub fn waterline(&self) -> waterline::Migrations {
        waterline::Migrations::from_static(self.waterline, "migrations", None, &[], None)
    }

    /// All the SQL in one text, for the floors.
    pub fn all_sql(&self) -> String {
        (1..=self.size).map(sql).collect()
    }
}

/// `0001_create_bench_0001.sql`, ...
pub fn write_waterline(dir: &Path, size: usize) {
    for index in 1..=size {
        fs::write(
            dir.join(format!("{index:04}_create_bench_{index:04}.sql")),
            sql(index),
        )
        .unwrap();
    }
}

/// `0001_create_bench_0001/up.sql` and `down.sql`, ...
pub fn write_diesel(dir: &Path, size: usize) {
    for index in 1..=size {
        let migration = dir.join(format!("{index:04}_create_bench_{index:04}"));
        fs::create_dir_all(&migration).unwrap();
        fs::write(migration.join("up.sql"), sql(index)).unwrap();
        fs::write(
            migration.join("down.sql"),
            format!("DROP TABLE bench_{index:04};\n"),
        )
        .unwrap();
    }
}

/// `V1__create_bench_0001.sql`, ...
pub fn write_refinery(dir: &Path, size: usize) {
    for (name, sql) in refinery_set(size) {
        fs::write(dir.join(format!("{name}.sql")), sql).unwrap();
    }
}

fn refinery_set(size: usize) -> Vec<(String, String)> {
    (1..=size)
        .map(|index| (format!("V{index}__create_bench_{index:04}"), sql(index)))
        .collect()
}

/// waterline's embedded data, built as its macro builds it (static data).
fn waterline_set(size: usize) -> &'static [waterline::__private::EmbeddedMigration] {
    use waterline::__private::EmbeddedMigration;
    let migrations: Vec<EmbeddedMigration> = (1..=size)
        .map(|index| {
            let path = format!("migrations/{index:04}_create_bench_{index:04}.sql");
            let sql = sql(index);
            let checksum = *waterline::Checksum::of(&sql).as_bytes();
            let path_len = path.len() as u32;
            let path_and_text = Box::leak(format!("{path}\n{sql}").into_boxed_str());
            EmbeddedMigration::file(
                index as u64,
                path_and_text,
                path_len,
                checksum,
                waterline_core::Class::Expand,
            )
        })
        .collect();
    Box::leak(migrations.into_boxed_slice())
}

/// diesel_migrations' embedded data, built as its macro builds it (static data).
fn diesel_set(size: usize) -> &'static [diesel_migrations::EmbeddedMigration] {
    use diesel_migrations::{EmbeddedMigration, EmbeddedName, TomlMetadataWrapper};
    let leak = |text: String| -> &'static str { Box::leak(text.into_boxed_str()) };
    let migrations: Vec<EmbeddedMigration> = (1..=size)
        .map(|index| {
            EmbeddedMigration::new(
                leak(sql(index)),
                Some(leak(format!("DROP TABLE bench_{index:04};\n"))),
                EmbeddedName::new(leak(format!("{index:04}_create_bench_{index:04}"))),
                TomlMetadataWrapper::new(true),
            )
        })
        .collect();
    Box::leak(migrations.into_boxed_slice())
}
