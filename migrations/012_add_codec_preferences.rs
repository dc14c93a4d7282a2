//! StreamVault's codec preferences: each streamer's recording settings gain `preferred_codec`,
//! the codec a recording is made in, taken from what StreamVault kept in `supported_codecs`:
//! the first codec of that list (`'h265,h264'` prefers `h265`). The column's default, `h264`,
//! is what the default list (`'h264,h265'`) prefers, so only the streamers who changed their
//! list are updated.
//!
//! In a transaction with its tracking row, as a SQL script: on PostgreSQL and SQLite the
//! column and its values appear together or not at all. There is one settings row per
//! streamer and the update changes only the few whose list does not start with `h264`, in
//! one short statement: no batches needed. MySQL and MariaDB commit the `ALTER TABLE` on
//! their own, so a failed run may leave the column behind; a run after it finds the column
//! there and does not add it twice.
// waterline:expand

use waterline::code::{Result, Step};
use waterline::Backend;

pub fn up(step: &mut Step<'_>) -> Result {
    if !step.has_column("recording_settings", "preferred_codec")? {
        step.execute(
            "ALTER TABLE recording_settings \
             ADD COLUMN preferred_codec VARCHAR(20) NOT NULL DEFAULT 'h264'",
        )?;
    }
    let first = first_codec(step.backend());
    let length = match step.backend() {
        // LENGTH counts bytes on MySQL; the column holds 20 characters.
        Backend::Mysql => "CHAR_LENGTH",
        Backend::Postgres | Backend::Sqlite => "LENGTH",
    };
    step.execute(&format!(
        "UPDATE recording_settings SET preferred_codec = {first} \
         WHERE {first} <> preferred_codec AND {length}({first}) BETWEEN 1 AND 20"
    ))?;
    Ok(())
}

pub fn down(step: &mut Step<'_>) -> Result {
    step.execute("ALTER TABLE recording_settings DROP COLUMN preferred_codec")?;
    Ok(())
}

/// The first codec of `supported_codecs`, trimmed and in lower case, in the SQL of `backend`:
/// each has its own way to split a string.
fn first_codec(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => "LOWER(TRIM(SPLIT_PART(supported_codecs, ',', 1)))",
        Backend::Mysql => "LOWER(TRIM(SUBSTRING_INDEX(supported_codecs, ',', 1)))",
        Backend::Sqlite => {
            "LOWER(TRIM(CASE WHEN INSTR(supported_codecs, ',') > 0 \
             THEN SUBSTR(supported_codecs, 1, INSTR(supported_codecs, ',') - 1) \
             ELSE supported_codecs END))"
        }
    }
}
