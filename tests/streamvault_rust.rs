//! StreamVault's own migrations written in Rust, on every backend: `012_add_codec_preferences`
//! (in a transaction, a codec preference taken from `supported_codecs` with each backend's SQL)
//! and `013_default_profile_images`, StreamVault's Pattern 3 (a background backfill of default
//! profile images, 1,000 streamers a batch), as the app embeds them.

mod common;

use std::sync::Mutex;

use common::{Inspect, TestConnection};
use waterline::{Error, Progress, State, Stop};

static STREAMVAULT: waterline::Migrations = waterline::embed_migrations!("migrations");

/// What `013_default_profile_images.rs` writes.
const DEFAULT_IMAGE: &str = "/static/images/default-profile.png";

/// How many streamers the tests seed.
const STREAMERS: i64 = 2_500;

/// Inserts `STREAMERS` streamers (ids from 1, as the table numbers them) with default
/// recording settings.
fn seed<C: TestConnection + Inspect>(conn: &mut C) {
    let rows: Vec<String> = (1..=STREAMERS)
        .map(|n| format!("('streamer{n}')"))
        .collect();
    for chunk in rows.chunks(500) {
        conn.run(&format!(
            "INSERT INTO streamers (username) VALUES {}",
            chunk.join(", ")
        ));
    }
    conn.run("INSERT INTO recording_settings (streamer_id) SELECT id FROM streamers");
}

/// Streamers whose settings list other codecs than the default `h264,h265`: what
/// `012_add_codec_preferences` should make of each list.
const LISTS: [(i64, &str, &str); 6] = [
    (1, "h265,h264", "h265"),
    (2, " H265 , h264", "h265"),
    (3, "av1", "av1"),
    (4, "vp9,av1,h264", "vp9"),
    // No first codec, or one longer than the column: the default stays.
    (5, ",h265", "h264"),
    (6, "a_codec_name_longer_than_twenty,h265", "h264"),
];

fn set_codec_lists(conn: &mut impl Inspect) {
    for (id, list, _) in LISTS {
        conn.run(&format!(
            "UPDATE recording_settings SET supported_codecs = '{list}' WHERE streamer_id = {id}"
        ));
    }
}

/// The preferred codec of streamer `id`.
fn preferred_codec(conn: &mut impl Inspect, id: i64) -> String {
    conn.text(&format!(
        "SELECT preferred_codec AS t FROM recording_settings WHERE streamer_id = {id}"
    ))
    .expect("a preferred codec")
}

fn count(conn: &mut impl Inspect, condition: &str) -> i64 {
    conn.count(&format!(
        "SELECT COUNT(*) AS n FROM streamers WHERE {condition}"
    ))
}

fn with_default_image(conn: &mut impl Inspect) -> i64 {
    count(conn, &format!("profile_image = '{DEFAULT_IMAGE}'"))
}

/// The batches every run of 013's backfill committed, from its checkpoint.
fn checkpoint_batches<C: TestConnection + Inspect>(conn: &mut C) -> i64 {
    conn.count(&format!(
        "SELECT CAST(SUM(batches) AS {}) AS n FROM waterline_migrations_checkpoints \
         WHERE version = 13",
        common::int64::<C>()
    ))
}

/// The `(rows_done, rows_total, batch_rows)` of each batch a run reported.
type Batches = Mutex<Vec<(u64, u64, u64)>>;

fn record_batches(batches: &Batches) -> impl Fn(Progress<'_>) + Send + Sync + '_ {
    move |progress| {
        if let Progress::Batch { progress } = progress {
            assert_eq!(progress.migration.version(), 13);
            assert_eq!(progress.backfill, "streamers");
            batches.lock().unwrap().push((
                progress.rows_done,
                progress.rows_total,
                progress.batch_rows,
            ));
        }
    }
}

/// Asserts that nothing is left to do: neither start-up nor the background run applies,
/// defers or backfills anything, and the data stays as it is.
fn assert_second_run_is_a_no_op<C: TestConnection + Inspect>(conn: &mut C) {
    let images = with_default_image(conn);
    let codecs: Vec<String> = LISTS
        .iter()
        .map(|(id, _, _)| preferred_codec(conn, *id))
        .collect();
    let checkpointed = checkpoint_batches(conn);

    let start_up = STREAMVAULT.run_pending(conn).unwrap();
    assert!(start_up.is_empty(), "{start_up}");
    assert!(start_up.deferred.is_empty(), "{start_up}");
    let batches = Batches::default();
    let background = STREAMVAULT
        .runner()
        .on_progress(record_batches(&batches))
        .run_background(conn)
        .unwrap();
    assert!(background.is_empty(), "{background}");
    assert!(batches.lock().unwrap().is_empty(), "no batch runs again");

    assert_eq!(with_default_image(conn), images);
    let again: Vec<String> = LISTS
        .iter()
        .map(|(id, _, _)| preferred_codec(conn, *id))
        .collect();
    assert_eq!(again, codecs);
    assert_eq!(checkpoint_batches(conn), checkpointed);
    let status = STREAMVAULT.runner().status(conn).unwrap();
    assert!(status.is_up_to_date(), "{status:?}");
}

on_every_backend! {
    fn start_up_adds_codec_preferences_and_leaves_the_image_backfill_to_the_background(db) {
        let mut conn: Conn = db.connect();
        STREAMVAULT.runner().target(11).run_pending(&mut conn).unwrap();
        seed(&mut conn);
        set_codec_lists(&mut conn);

        // Start-up: 012 runs, 013 (background) waits for the background run.
        let start_up = STREAMVAULT.run_pending(&mut conn).unwrap();
        let ran: Vec<u64> = start_up.migrations.iter().map(|r| r.version).collect();
        assert_eq!(ran, [12]);
        let deferred: Vec<u64> = start_up.deferred.iter().map(|m| m.version).collect();
        assert_eq!(deferred, [13]);
        for (id, list, preferred) in LISTS {
            assert_eq!(preferred_codec(&mut conn, id), preferred, "streamer {id}: `{list}`");
        }
        assert_eq!(
            conn.count("SELECT COUNT(*) AS n FROM recording_settings WHERE preferred_codec = 'h264'"),
            STREAMERS - 4,
            "the default list prefers h264, as do the two lists without a usable first codec"
        );
        assert!(!conn.column_exists("streamers", "profile_image"), "013 has not run");
        let status = STREAMVAULT.runner().status(&mut conn).unwrap();
        assert_eq!(status.count(State::Applied), 12);
        assert_eq!(status.count(State::Pending), 1);
        let rows = conn.rows("waterline_migrations");
        assert_eq!((rows.len(), rows[11].status.as_str()), (12, "applied"));

        // The background run: the column, then 2,500 streamers in batches of 1,000.
        let batches = Batches::default();
        let background = STREAMVAULT
            .runner()
            .on_progress(record_batches(&batches))
            .run_background(&mut conn)
            .unwrap();
        let ran: Vec<u64> = background.migrations.iter().map(|r| r.version).collect();
        assert_eq!(ran, [13]);
        assert_eq!(
            *batches.lock().unwrap(),
            [(1_000, 2_500, 1_000), (2_000, 2_500, 1_000), (2_500, 2_500, 500)]
        );
        assert_eq!(with_default_image(&mut conn), STREAMERS);
        assert_eq!(checkpoint_batches(&mut conn), 3);
        let status = STREAMVAULT.runner().status(&mut conn).unwrap();
        assert_eq!(status.count(State::Applied), 13);
        let backfill = status.migrations[12].backfill.clone().expect("013's checkpoint");
        assert!(backfill.finished, "{backfill:?}");
        assert_eq!((backfill.rows_done, backfill.rows_total, backfill.batches), (2_500, 2_500, 3));

        assert_second_run_is_a_no_op(&mut conn);
    }

    fn the_image_backfill_keeps_images_already_set_and_resumes_after_a_stop(db) {
        let mut conn: Conn = db.connect();
        STREAMVAULT.runner().target(12).run_pending(&mut conn).unwrap();
        seed(&mut conn);
        // The column is there already (a run killed after adding it, or StreamVault's own
        // schema), and one streamer in ten chose an image.
        conn.run("ALTER TABLE streamers ADD COLUMN profile_image VARCHAR(500)");
        conn.run("UPDATE streamers SET profile_image = 'chosen.png' WHERE id % 10 = 0");

        // Stopped after its first batch, as a SIGTERM would.
        let stop = Stop::new();
        let asked = stop.clone();
        let batches = Batches::default();
        let observe = record_batches(&batches);
        let stopped = STREAMVAULT
            .runner()
            .stop_on(&stop)
            .on_progress(move |progress| {
                observe(progress);
                if matches!(progress, Progress::Batch { .. }) {
                    asked.request();
                }
            })
            .run_background(&mut conn)
            .unwrap_err();
        assert!(matches!(stopped, Error::Stopped { .. }), "{stopped}");
        assert_eq!(*batches.lock().unwrap(), [(1_000, 2_250, 1_000)]);
        assert_eq!(with_default_image(&mut conn), 1_000);
        let status = STREAMVAULT.runner().status(&mut conn).unwrap();
        assert_eq!(status.count(State::Applied), 12);
        let backfill = status.migrations[12].backfill.clone().expect("013's checkpoint");
        assert_eq!((backfill.rows_done, backfill.batches, backfill.finished), (1_000, 1, false));

        // Start-up still defers it; the next background run goes on after batch 1.
        let start_up = STREAMVAULT.run_pending(&mut conn).unwrap();
        assert!(start_up.is_empty(), "{start_up}");
        assert_eq!(start_up.deferred.len(), 1, "{start_up}");
        let batches = Batches::default();
        let resumed = STREAMVAULT
            .runner()
            .on_progress(record_batches(&batches))
            .run_background(&mut conn)
            .unwrap();
        assert_eq!(resumed.migrations.len(), 1);
        assert_eq!(
            *batches.lock().unwrap(),
            [(2_000, 2_250, 1_000), (2_250, 2_250, 250)],
            "no batch twice, none skipped"
        );
        assert_eq!(with_default_image(&mut conn), 2_250);
        assert_eq!(count(&mut conn, "profile_image = 'chosen.png'"), 250, "chosen images stay");
        assert_eq!(count(&mut conn, "profile_image IS NULL"), 0);
        assert_eq!(checkpoint_batches(&mut conn), 3);

        assert_second_run_is_a_no_op(&mut conn);
    }

    fn the_app_is_ready_before_its_background_thread_finishes_the_backfill(db) {
        let mut conn: Conn = db.connect();
        STREAMVAULT.runner().target(11).run_pending(&mut conn).unwrap();
        seed(&mut conn);
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_streamvault"))
            .args(["start", "--database-url", &db.url])
            .env_remove("DATABASE_URL")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stdout}{stderr}");
        let lines: Vec<&str> = stdout.lines().collect();
        assert!(lines[0].starts_with("1 migration in "), "{stdout}");
        assert!(lines[1].trim_start().starts_with("012 add_codec_preferences ("), "{stdout}");
        assert_eq!(
            lines[2..4],
            [
                "1 migration left to the background run, from 013 `migrations/013_default_profile_images.rs`",
                "StreamVault is ready",
            ],
            "start-up applies 012 and is ready; 013 runs in the thread: {stdout}"
        );
        assert!(lines[4].starts_with("background migrations done: 1 migration in "), "{stdout}");
        let batches: Vec<&str> = stderr.lines().filter(|line| line.contains(" streamers: ")).collect();
        assert_eq!(batches.len(), 3, "{stderr}");
        assert!(
            batches[2].starts_with("background: 013_default_profile_images streamers: 2500 of about 2500 rows, batch 3 took "),
            "{stderr}"
        );
        assert_eq!(with_default_image(&mut conn), STREAMERS);

        let again = std::process::Command::new(env!("CARGO_BIN_EXE_streamvault"))
            .args(["start", "--database-url", &db.url])
            .env_remove("DATABASE_URL")
            .output()
            .unwrap();
        assert!(again.status.success());
        assert_eq!(String::from_utf8_lossy(&again.stdout), "nothing to do\nStreamVault is ready\n");
        assert_eq!(String::from_utf8_lossy(&again.stderr), "");
    }

    fn both_revert_with_down_and_apply_again(db) {
        let mut conn: Conn = db.connect();
        STREAMVAULT.runner().target(11).run_pending(&mut conn).unwrap();
        seed(&mut conn);
        set_codec_lists(&mut conn);
        let report = STREAMVAULT.runner().run_background(&mut conn).unwrap();
        let ran: Vec<u64> = report.migrations.iter().map(|r| r.version).collect();
        assert_eq!(ran, [12, 13], "`migrate up` runs both");

        let reverted = STREAMVAULT.runner().revert_steps(&mut conn, 2).unwrap();
        let ran: Vec<u64> = reverted.migrations.iter().map(|r| r.version).collect();
        assert_eq!(ran, [13, 12]);
        assert!(!conn.column_exists("streamers", "profile_image"));
        assert!(!conn.column_exists("recording_settings", "preferred_codec"));
        assert_eq!(conn.count("SELECT COUNT(*) AS n FROM waterline_migrations_checkpoints"), 0);

        STREAMVAULT.runner().run_background(&mut conn).unwrap();
        assert_eq!(with_default_image(&mut conn), STREAMERS);
        assert_eq!(preferred_codec(&mut conn, 1), "h265");
        assert_second_run_is_a_no_op(&mut conn);
    }
}
