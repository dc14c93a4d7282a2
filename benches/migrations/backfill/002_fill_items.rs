// waterline:background
// waterline:expand
// Fills `items.filled`, 1,000 keys a batch: `run_pending` leaves it to `run_background`. The
// hand-written loop of `src/backfill.rs` runs the same boundary query and the same UPDATE.
use waterline::code::{Backfill, Result, Step};

pub fn up(step: &mut Step<'_>) -> Result {
    step.backfill(Backfill::new("items", "id").batch_size(1_000), |batch| {
        let sql = format!(
            "UPDATE items SET filled = 1 WHERE {} AND filled IS NULL",
            batch.range()
        );
        Ok(batch.execute(&sql)?)
    })?;
    Ok(())
}
