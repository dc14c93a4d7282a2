//! Rolling deploys and rollbacks: four builds of one app (N-2, N-1, N, N+1) against every
//! database state. An older build boots past migrations it does not embed when each only
//! adds to the schema (expand), and refuses before serving, naming the migration, when one
//! takes away (contract). `status` (and so `verify`) agrees with `run_pending`. Each test runs
//! on SQLite, and on PostgreSQL and MariaDB when their URLs are set.

mod common;

use common::{set, Inspect};
use waterline::{Ahead, Error, Migrations};

/// The migrations of the four builds, oldest first: build `n` embeds the first `n`.
const STEPS: [(&str, &str); 4] = [
    (
        "001_create_users.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(50));",
    ),
    (
        "002_add_email.sql",
        "ALTER TABLE users ADD COLUMN email VARCHAR(100);",
    ),
    ("003_drop_name.sql", "ALTER TABLE users DROP COLUMN name;"),
    (
        "004_index_email.sql",
        "CREATE INDEX users_email ON users (email);",
    ),
];

/// Build `n` (1 to 4).
fn build(n: usize) -> Migrations {
    set(&STEPS[..n])
}

on_every_backend! {
    fn every_older_build_boots_past_expand_migrations_and_refuses_contract_ones(db) {
        drop(db);
        let builds: Vec<Migrations> = (1..=4).map(build).collect();
        let mut booted = Vec::new();
        for state in 1..=4usize {
            let db = common::TestDb::<Conn>::new().unwrap();
            let mut conn = db.connect();
            builds[state - 1].run_pending(&mut conn).unwrap();
            for binary in 1..state {
                let migrations = &builds[binary - 1];
                let gap = binary + 1..=state;
                let expand_only = !gap.contains(&3);
                let status = migrations.runner().status(&mut conn).unwrap();
                let run = migrations.run_pending(&mut conn);
                match run {
                    Ok(report) => {
                        assert!(expand_only, "build {binary} booted on state {state}, past the contract 003");
                        assert!(report.migrations.is_empty(), "an older build applies nothing");
                        let ahead: Vec<u64> = report.ahead.iter().map(|m| m.version).collect();
                        assert_eq!(ahead, gap.clone().map(|v| v as u64).collect::<Vec<_>>());
                        booted.push((binary, state));
                    }
                    Err(Error::MissingFromBinary { contract, .. }) => {
                        assert!(!expand_only, "build {binary} refused on state {state}, an expand-only gap");
                        let contract: Vec<u64> = contract.iter().map(|m| m.version).collect();
                        assert_eq!(contract, [3], "the refusal names the contract migration");
                    }
                    Err(other) => panic!("build {binary} on state {state}: {other}"),
                }
                assert_eq!(status.is_up_to_date(), expand_only, "status agrees with run_pending (build {binary}, state {state})");
            }
            // The newest build still migrates the database forward from this state.
            builds[3].run_pending(&mut conn).unwrap();
            assert!(conn.index_exists("users_email"));
        }
        assert_eq!(booted, [(1, 2), (3, 4)]);
    }

    fn the_refusal_says_what_and_the_settings_force_either_way(db) {
        let mut conn = db.connect();
        build(3).run_pending(&mut conn).unwrap();
        let error = build(2).run_pending(&mut conn).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the database is ahead of this binary: `waterline_migrations` records migration 3 `drop_name` as \
             applied, which this binary does not embed, and it is a contract migration (it drops, renames or \
             changes what this binary may use, or was recorded without a class), so this binary may not work \
             on the schema; deploy a binary that has them, or set `ignore_missing(true)` to go on"
        );
        build(2).runner().ahead(Ahead::Allow).run_pending(&mut conn).unwrap();
        build(2).runner().ignore_missing(true).run_pending(&mut conn).unwrap();

        let other = common::TestDb::<Conn>::new().unwrap();
        let mut conn = other.connect();
        build(2).run_pending(&mut conn).unwrap();
        let error = build(1).runner().ahead(Ahead::Refuse).run_pending(&mut conn).unwrap_err();
        assert!(matches!(error, Error::MissingFromBinary { ref contract, .. } if contract.is_empty()), "{error}");
        assert!(!build(1).runner().ahead(Ahead::Refuse).status(&mut conn).unwrap().is_up_to_date());
        // A row without a class (written before tracking tables had one) is not vouched for.
        conn.run("UPDATE waterline_migrations SET class = NULL WHERE version = 2");
        let error = build(1).run_pending(&mut conn).unwrap_err();
        assert!(matches!(error, Error::MissingFromBinary { ref contract, .. } if contract.len() == 1), "{error}");
    }
}

#[cfg(feature = "sqlite")]
#[test]
fn the_class_is_recorded_in_the_tracking_row() {
    let Some(db) = common::TestDb::<diesel::SqliteConnection>::new() else {
        return;
    };
    let mut conn = db.connect();
    build(4).run_pending(&mut conn).unwrap();
    let classes = conn.text(
        "SELECT group_concat(class, ',') AS t FROM (SELECT class FROM waterline_migrations ORDER BY version)",
    );
    assert_eq!(classes.as_deref(), Some("expand,expand,contract,expand"));
}
