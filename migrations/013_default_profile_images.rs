//! Pattern 3 of StreamVault's migration guide: every streamer without a profile image gets the
//! default one, 1,000 streamers a batch, each batch committed with its checkpoint, progress
//! reported after each (to `Runner::on_progress` and to `tracing`).
//!
//! Background rather than only `no-transaction`, because the app must be ready quickly: a
//! `no-transaction` migration runs inside `run_pending` at start-up, under the migration lock,
//! so the app (and every replica waiting for that lock) would not be ready until the last
//! batch of millions of streamers had committed. In the background, start-up leaves it to
//! `run_background`, which StreamVault runs in a thread once it is up (`streamvault start`);
//! `streamvault up` runs it too. The app copes with the column being NULL until then.
//!
//! Resumable: a run that was killed or stopped runs `up` again from the top. The column is
//! added only when missing, and the backfill goes on after its last committed batch.
// waterline:background
// waterline:expand

use waterline::code::{Backfill, Result, Step};

/// The image a streamer who has not chosen one shows.
const DEFAULT_PROFILE_IMAGE: &str = "/static/images/default-profile.png";

pub fn up(step: &mut Step<'_>) -> Result {
    if !step.has_column("streamers", "profile_image")? {
        step.execute("ALTER TABLE streamers ADD COLUMN profile_image VARCHAR(500)")?;
    }
    let without_image = Backfill::new("streamers", "id")
        .only("profile_image IS NULL")
        .batch_size(1_000);
    step.backfill(without_image, |batch| {
        let sql = format!(
            "UPDATE streamers SET profile_image = '{DEFAULT_PROFILE_IMAGE}' \
             WHERE {} AND profile_image IS NULL",
            batch.range()
        );
        Ok(batch.execute(&sql)?)
    })?;
    Ok(())
}

pub fn down(step: &mut Step<'_>) -> Result {
    step.execute("ALTER TABLE streamers DROP COLUMN profile_image")?;
    Ok(())
}
