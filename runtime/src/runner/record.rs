//! One row of the tracking table.

use diesel::sql_types::{BigInt, Nullable, SmallInt, Text};
use diesel::QueryableByName;

use super::columns::{Applied, CurrentAlgorithm, StoredChecksum};

/// The state a tracking row records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordStatus {
    /// Applied and committed.
    Applied,
    /// Failed; see the row's error text.
    Failed,
    /// Started outside a transaction and not finished (yet, or ever).
    Running,
}

impl RecordStatus {
    /// The text stored in the `status` column.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordStatus::Applied => "applied",
            RecordStatus::Failed => "failed",
            RecordStatus::Running => "running",
        }
    }

    fn parse(text: &str) -> Option<RecordStatus> {
        [
            RecordStatus::Applied,
            RecordStatus::Failed,
            RecordStatus::Running,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }
}

/// A tracking row as read back; timestamps are RFC 3339 UTC text.
#[derive(Clone, Debug, PartialEq, Eq, QueryableByName)]
pub struct Record {
    #[diesel(sql_type = BigInt)]
    pub version: i64,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub checksum: String,
    #[diesel(sql_type = Text)]
    pub checksum_algorithm: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Text)]
    pub started_at: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub finished_at: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub execution_ms: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub error: Option<String>,
    #[diesel(sql_type = Text)]
    pub applied_by: String,
    #[diesel(sql_type = SmallInt)]
    pub transactional: i16,
    /// `expand` or `contract`; `NULL` in rows written before the column existed.
    #[diesel(sql_type = Nullable<Text>)]
    pub class: Option<String>,
}

impl Record {
    /// Whether the row records an expand migration; rows written before layout 2 have no
    /// class, and are not.
    pub fn is_expand(&self) -> bool {
        self.class.as_deref() == Some(waterline_core::Class::Expand.as_str())
    }

    /// The row's status; an unknown text reads as `running`, the state that refuses to go on.
    pub fn status(&self) -> RecordStatus {
        RecordStatus::parse(&self.status).unwrap_or(RecordStatus::Running)
    }

    /// The version as an unsigned number (versions are never negative).
    pub fn version(&self) -> u64 {
        self.version as u64
    }
}

/// One row as the no-op check reads it, without allocating.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct State {
    pub version: i64,
    /// The stored checksum.
    pub checksum: StoredChecksum,
    /// Applied, and checksummed by the current algorithm.
    pub current: bool,
}

/// The values of a row to write.
#[derive(Clone, Debug)]
pub struct NewRecord<'a> {
    pub version: i64,
    pub name: &'a str,
    pub checksum: String,
    pub status: RecordStatus,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub execution_ms: Option<i64>,
    pub error: Option<String>,
    pub applied_by: &'a str,
    pub transactional: bool,
    pub class: waterline_core::Class,
}

/// A one-column result, for lock calls and the layout number.
#[derive(QueryableByName)]
pub struct Scalar {
    #[diesel(sql_type = Nullable<BigInt>)]
    pub value: Option<i64>,
}

/// A one-column text result, for a lock holder's description.
#[derive(QueryableByName)]
pub struct ScalarText {
    #[diesel(sql_type = Nullable<Text>)]
    pub value: Option<String>,
}

impl State {
    /// The row `version`, `checksum`, `checksum_algorithm`, `status`.
    pub fn new(
        version: i64,
        checksum: StoredChecksum,
        algorithm: CurrentAlgorithm,
        status: Applied,
    ) -> Self {
        State {
            version,
            checksum,
            current: algorithm.0 && status.0,
        }
    }
}
