//! The tracking-table columns a no-op start-up reads, decoded straight from the driver's bytes
//! into what the check compares. It reads three text columns of every row; decoding each
//! into a `String` cost more, at a thousand rows, than the query itself.

use waterline_core::{Checksum, ALGORITHM};

use super::record::RecordStatus;

/// A `checksum` column: its 64 hex digits, or `None` for text of any other length (which
/// matches no embedded checksum). Compared as text, since decoding hex cost more than the
/// rest of the check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, diesel::deserialize::FromSqlRow)]
pub struct StoredChecksum(pub Option<[u8; 64]>);

/// Whether a `checksum_algorithm` column names the algorithm of this release ([`ALGORITHM`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, diesel::deserialize::FromSqlRow)]
pub struct CurrentAlgorithm(pub bool);

/// Whether a `status` column reads `applied`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, diesel::deserialize::FromSqlRow)]
pub struct Applied(pub bool);

impl StoredChecksum {
    /// Reads a `checksum` column's text.
    pub fn from_text(text: &[u8]) -> Self {
        StoredChecksum(text.try_into().ok())
    }

    /// Whether this is the stored form of `checksum` ([`Checksum::to_hex`]).
    pub fn is(&self, checksum: Checksum) -> bool {
        self.0.is_some_and(|digits| checksum.matches_hex(&digits))
    }
}

impl CurrentAlgorithm {
    /// Reads a `checksum_algorithm` column's text.
    pub fn from_text(text: &[u8]) -> Self {
        CurrentAlgorithm(text == ALGORITHM.as_bytes())
    }
}

impl Applied {
    /// Reads a `status` column's text.
    pub fn from_text(text: &[u8]) -> Self {
        Applied(text == RecordStatus::Applied.as_str().as_bytes())
    }
}

/// Reads a `Text` column of `$backend` as each of the column types, `$bytes` being the raw
/// bytes of `$value`.
macro_rules! columns_from_sql {
    ($feature:literal, $backend:ty, |$value:ident| $bytes:expr) => {
        columns_from_sql!(@one $feature, $backend, StoredChecksum, |$value| $bytes);
        columns_from_sql!(@one $feature, $backend, CurrentAlgorithm, |$value| $bytes);
        columns_from_sql!(@one $feature, $backend, Applied, |$value| $bytes);
    };
    (@one $feature:literal, $backend:ty, $column:ident, |$value:ident| $bytes:expr) => {
        #[cfg(feature = $feature)]
        impl diesel::deserialize::FromSql<diesel::sql_types::Text, $backend> for $column {
            fn from_sql(
                #[allow(unused_mut)] mut $value: <$backend as diesel::backend::Backend>::RawValue<'_>,
            ) -> diesel::deserialize::Result<Self> {
                Ok($column::from_text($bytes))
            }
        }
    };
}

columns_from_sql!("postgres", diesel::pg::Pg, |value| value.as_bytes());
columns_from_sql!("mysql", diesel::mysql::Mysql, |value| value.as_bytes());
columns_from_sql!("sqlite", diesel::sqlite::Sqlite, |value| value
    .read_text()
    .as_bytes());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checksum_is_exactly_its_stored_form() {
        let checksum = Checksum::of("SELECT 1;\n");
        let hex = checksum.to_hex();
        assert!(StoredChecksum::from_text(hex.as_bytes()).is(checksum));
        assert!(!StoredChecksum::from_text(hex.as_bytes()).is(Checksum::of("SELECT 2;\n")));
        for other in [
            hex.to_uppercase(),
            hex[..62].to_owned(),
            format!("{hex}00"),
            String::new(),
        ] {
            assert!(
                !StoredChecksum::from_text(other.as_bytes()).is(checksum),
                "{other}"
            );
        }
    }

    #[test]
    fn status_and_algorithm_match_only_exactly() {
        assert!(Applied::from_text(b"applied").0);
        for other in [&b"Applied"[..], b"applied ", b"failed", b"running", b""] {
            assert!(!Applied::from_text(other).0);
        }
        assert!(CurrentAlgorithm::from_text(ALGORITHM.as_bytes()).0);
        assert!(!CurrentAlgorithm::from_text(b"sha256-v0").0);
    }
}
