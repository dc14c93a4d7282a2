//! On PostgreSQL a migration that runs in a transaction is applied in one message, one round
//! trip: its row written `running`, its script, and its row set `applied`, sent together as
//! one simple query, which PostgreSQL runs as one implicit transaction. All three commit, or
//! none do. (diesel_migrations and a BEGIN/COMMIT pair with a separate row take four.)
//!
//! The row comes first and the script cannot reach into it. Should a malformed script end
//! inside an unterminated quote or comment that happened to swallow the closing UPDATE and
//! still parse, the row would stay `running`, and the next run refuses loudly rather than
//! pass a migration it cannot vouch for.
//!
//! Values are written into the text, as no parameters can be bound in a simple query: numbers,
//! the algorithm's tag and status, and each text as a dollar-quoted literal (no escapes are
//! read inside one, so any text is safe once its tag does not occur in it). Times and the
//! duration are the server's.

use super::record::NewRecord;
use super::write::Column;

/// The one message applying `script` with `record`'s row, in the tracking table `table`
/// (quoted). `replacing` is the SQL that first removes the row this process read for the
/// version (see [`Dialect::delete_record_if`](super::dialect::Dialect::delete_record_if)), when
/// it read one.
///
/// The row is a claim: a plain INSERT, which fails on a row another process wrote since this
/// one read the table, before any of the script runs. (An `ON CONFLICT ... DO UPDATE` would
/// wait for that process to commit, overwrite its row and run the script a second time.)
pub fn apply_in_one_message(
    table: &str,
    script: &str,
    record: &NewRecord<'_>,
    replacing: Option<&str>,
) -> String {
    let names: Vec<&str> = Column::ALL.iter().map(|c| c.name()).collect();
    let replacing = replacing.map(|sql| format!("{sql};\n")).unwrap_or_default();
    format!(
        "{replacing}INSERT INTO {table} ({names}) VALUES ({version}, {name}, {checksum}, {algorithm}, \
         'running', statement_timestamp(), NULL, NULL, NULL, {applied_by}, 1, '{class}');\n\
         {script}\n;\n\
         UPDATE {table} SET status = 'applied', finished_at = clock_timestamp(), \
         execution_ms = CAST(1000 * EXTRACT(EPOCH FROM clock_timestamp() - statement_timestamp()) AS BIGINT) \
         WHERE version = {version}",
        names = names.join(", "),
        version = record.version,
        name = dollar_quoted(record.name),
        checksum = dollar_quoted(&record.checksum),
        algorithm = dollar_quoted(waterline_core::ALGORITHM),
        applied_by = dollar_quoted(record.applied_by),
        class = record.class.as_str(),
    )
}

/// `text` as a PostgreSQL dollar-quoted string, `$waterline$...$waterline$`, with a number in
/// the tag when needed so that the first occurrence of the closing tag is the end. The empty
/// text is `''`, so that no two dollar signs ever stand together.
pub(super) fn dollar_quoted(text: &str) -> String {
    if text.is_empty() {
        return "''".to_owned();
    }
    (0..)
        .map(|n| match n {
            0 => "$waterline$".to_owned(),
            n => format!("$waterline{n}$"),
        })
        .find_map(|tag| {
            let quoted = format!("{tag}{text}{tag}");
            let body_and_end = &quoted[tag.len()..];
            (body_and_end.find(&tag) == Some(text.len())).then_some(quoted)
        })
        .expect("a tag that does not occur in the text")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::record::RecordStatus;

    #[test]
    fn a_dollar_quoted_text_ends_where_it_should() {
        assert_eq!(
            dollar_quoted("web-1 (pid 7)"),
            "$waterline$web-1 (pid 7)$waterline$"
        );
        assert_eq!(dollar_quoted(""), "''");
        assert_eq!(
            dollar_quoted("a$waterline$b"),
            "$waterline1$a$waterline$b$waterline1$"
        );
        // A text ending in part of the tag would let the closing tag start early.
        assert_eq!(
            dollar_quoted("x$waterline"),
            "$waterline1$x$waterline$waterline1$"
        );
        assert_eq!(
            dollar_quoted("it's \"quoted\" \\"),
            "$waterline$it's \"quoted\" \\$waterline$"
        );
    }

    #[test]
    fn the_row_comes_first_and_is_set_applied_after_the_script() {
        let record = NewRecord {
            version: 24,
            name: "add_codec",
            checksum: "ab".repeat(32),
            status: RecordStatus::Applied,
            started_at: String::new(),
            finished_at: None,
            execution_ms: None,
            error: None,
            applied_by: "web-1 (pid 7)",
            transactional: true,
            class: waterline_core::Class::Expand,
        };
        let message = apply_in_one_message("\"t\"", "CREATE TABLE codecs (id INT);", &record, None);
        let (row, rest) = message.split_once(";\n").unwrap();
        assert!(
            row.starts_with("INSERT INTO \"t\" (version, name, checksum,"),
            "{row}"
        );
        assert!(row.contains("VALUES (24, $waterline$add_codec$waterline$, $waterline$abab"));
        assert!(row.ends_with("'running', statement_timestamp(), NULL, NULL, NULL, $waterline$web-1 (pid 7)$waterline$, 1, 'expand')"));
        assert!(!message.contains("ON CONFLICT"), "the row must be a claim");
        let (script, update) = rest.split_once("\n;\n").unwrap();
        assert_eq!(script, "CREATE TABLE codecs (id INT);");
        assert!(update
            .starts_with("UPDATE \"t\" SET status = 'applied', finished_at = clock_timestamp()"));
        assert!(update.ends_with("WHERE version = 24"));
        let retry = apply_in_one_message(
            "\"t\"",
            "SELECT 1;",
            &record,
            Some("DELETE FROM \"t\" WHERE version = 24 AND status = 'failed'"),
        );
        assert!(retry.starts_with(
            "DELETE FROM \"t\" WHERE version = 24 AND status = 'failed';\nINSERT INTO \"t\""
        ));
    }
}
