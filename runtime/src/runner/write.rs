//! Writing a tracking row: an INSERT of a new row, or an UPDATE of every column of an existing
//! one, each a query diesel prepares once per connection and caches by its text (on MySQL and
//! SQLite; PostgreSQL sends it unnamed, to work through poolers in transaction mode). A run writes
//! a row or two per migration; `sql_query` would have the server parse and plan the same
//! statement every time (and on MySQL cost a prepare round trip each time).

use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::result::QueryResult;
use diesel::sql_types::{BigInt, Nullable, SmallInt, Text};
use diesel::RunQueryDsl;

use super::record::{NewRecord, RecordStatus};

/// A column of the tracking table, in the order rows are written and read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    Version,
    Name,
    Checksum,
    ChecksumAlgorithm,
    Status,
    StartedAt,
    FinishedAt,
    ExecutionMs,
    Error,
    AppliedBy,
    Transactional,
    Class,
}

impl Column {
    /// Every column, in table order.
    pub const ALL: [Column; 12] = [
        Column::Version,
        Column::Name,
        Column::Checksum,
        Column::ChecksumAlgorithm,
        Column::Status,
        Column::StartedAt,
        Column::FinishedAt,
        Column::ExecutionMs,
        Column::Error,
        Column::AppliedBy,
        Column::Transactional,
        Column::Class,
    ];

    /// The column's name.
    pub const fn name(self) -> &'static str {
        match self {
            Column::Version => "version",
            Column::Name => "name",
            Column::Checksum => "checksum",
            Column::ChecksumAlgorithm => "checksum_algorithm",
            Column::Status => "status",
            Column::StartedAt => "started_at",
            Column::FinishedAt => "finished_at",
            Column::ExecutionMs => "execution_ms",
            Column::Error => "error",
            Column::AppliedBy => "applied_by",
            Column::Transactional => "transactional",
            Column::Class => "class",
        }
    }

    /// Whether the column holds a timestamp.
    pub fn is_timestamp(self) -> bool {
        matches!(self, Column::StartedAt | Column::FinishedAt)
    }
}

/// The text of a row's INSERT or UPDATE around its bind parameters: `pieces[i]` comes before
/// the parameter of `columns[i]`, the last piece after them all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowSql {
    pieces: Vec<String>,
    columns: Vec<Column>,
}

impl RowSql {
    /// Inserts a row into `table` (quoted). `cast` names the SQL type a timestamp's text
    /// parameter is cast to, if any.
    pub fn insert(table: &str, cast: Option<&str>) -> Self {
        let names: Vec<&str> = Column::ALL.iter().map(|c| c.name()).collect();
        let mut sql = RowSql::starting(format!(
            "INSERT INTO {table} ({}) VALUES (",
            names.join(", ")
        ));
        for (index, column) in Column::ALL.into_iter().enumerate() {
            let separator = if index == 0 { "" } else { ", " };
            sql.parameter(separator, column, cast);
        }
        sql.end(")");
        sql
    }

    /// Sets every column of the row of a version in `table` (quoted).
    pub fn update(table: &str, cast: Option<&str>) -> Self {
        let mut sql = RowSql::starting(format!("UPDATE {table} SET "));
        for (index, column) in Column::ALL[1..].iter().enumerate() {
            let separator = if index == 0 { "" } else { ", " };
            sql.parameter(&format!("{separator}{} = ", column.name()), *column, cast);
        }
        sql.parameter(" WHERE version = ", Column::Version, None);
        sql.end("");
        sql
    }

    /// Sets every column of the row of a version in `table` (quoted), if its status is still
    /// `status`.
    pub fn update_if(table: &str, cast: Option<&str>, status: RecordStatus) -> Self {
        let mut sql = RowSql::update(table, cast);
        sql.end(&format!(" AND status = '{}'", status.as_str()));
        sql
    }

    fn starting(text: String) -> Self {
        RowSql {
            pieces: vec![text],
            columns: Vec::new(),
        }
    }

    /// Appends `text`, then the parameter of `column`, cast if it is a timestamp.
    fn parameter(&mut self, text: &str, column: Column, cast: Option<&str>) {
        let last = self.pieces.last_mut().expect("a piece");
        last.push_str(text);
        let cast = cast.filter(|_| column.is_timestamp());
        if cast.is_some() {
            last.push_str("CAST(");
        }
        self.columns.push(column);
        self.pieces.push(match cast {
            Some(sql_type) => format!(" AS {sql_type})"),
            None => String::new(),
        });
    }

    fn end(&mut self, text: &str) {
        self.pieces.last_mut().expect("a piece").push_str(text);
    }

    /// The statement with `placeholder(n)` (1-based) for each parameter.
    pub fn render(&self, placeholder: impl Fn(usize) -> String) -> String {
        let mut sql = self.pieces[0].clone();
        for (index, piece) in self.pieces[1..].iter().enumerate() {
            sql.push_str(&placeholder(index + 1));
            sql.push_str(piece);
        }
        sql
    }
}

/// One row's INSERT or UPDATE, ready to execute.
pub struct WriteRow<'a> {
    sql: &'a RowSql,
    record: &'a NewRecord<'a>,
    algorithm: &'static str,
    status: &'static str,
    transactional: i16,
}

impl<'a> WriteRow<'a> {
    /// `sql` with the values of `record`.
    pub fn new(sql: &'a RowSql, record: &'a NewRecord<'a>) -> Self {
        WriteRow {
            sql,
            record,
            algorithm: waterline_core::ALGORITHM,
            status: record.status.as_str(),
            transactional: i16::from(record.transactional),
        }
    }
}

impl QueryId for WriteRow<'_> {
    type QueryId = ();
    /// Cached by its SQL text, which differs by tracking table.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Conn> RunQueryDsl<Conn> for WriteRow<'_> {}

/// Walks the statement for `$backend`, binding each column's value where its parameter is.
macro_rules! write_row_for {
    ($feature:literal, $backend:ty, $uncached:literal) => {
        #[cfg(feature = $feature)]
        impl QueryFragment<$backend> for WriteRow<'_> {
            fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, $backend>) -> QueryResult<()> {
                if $uncached {
                    // A named prepared statement lives in one server session; through a pooler
                    // in transaction mode the next use may land in another ("prepared statement
                    // does not exist"). Unnamed, it is parsed and run in one round trip.
                    out.unsafe_to_cache_prepared();
                }
                let record = self.record;
                out.push_sql(&self.sql.pieces[0]);
                for (column, piece) in self.sql.columns.iter().zip(&self.sql.pieces[1..]) {
                    match column {
                        Column::Version => out.push_bind_param::<BigInt, _>(&record.version)?,
                        Column::Name => out.push_bind_param::<Text, _>(record.name)?,
                        Column::Checksum => out.push_bind_param::<Text, _>(&record.checksum)?,
                        Column::ChecksumAlgorithm => {
                            out.push_bind_param::<Text, _>(self.algorithm)?
                        }
                        Column::Status => out.push_bind_param::<Text, _>(self.status)?,
                        Column::StartedAt => out.push_bind_param::<Text, _>(&record.started_at)?,
                        Column::FinishedAt => {
                            out.push_bind_param::<Nullable<Text>, _>(&record.finished_at)?
                        }
                        Column::ExecutionMs => {
                            out.push_bind_param::<Nullable<BigInt>, _>(&record.execution_ms)?
                        }
                        Column::Error => out.push_bind_param::<Nullable<Text>, _>(&record.error)?,
                        Column::AppliedBy => out.push_bind_param::<Text, _>(record.applied_by)?,
                        Column::Transactional => {
                            out.push_bind_param::<SmallInt, _>(&self.transactional)?
                        }
                        Column::Class => out.push_bind_param::<Text, _>(record.class.as_str())?,
                    }
                    out.push_sql(piece);
                }
                Ok(())
            }
        }
    };
}

write_row_for!("postgres", diesel::pg::Pg, true);
write_row_for!("mysql", diesel::mysql::Mysql, false);
write_row_for!("sqlite", diesel::sqlite::Sqlite, false);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_insert_binds_every_column_in_order() {
        let sql = RowSql::insert("\"t\"", Some("TIMESTAMPTZ")).render(|n| format!("${n}"));
        assert_eq!(
            sql,
            "INSERT INTO \"t\" (version, name, checksum, checksum_algorithm, status, started_at, \
             finished_at, execution_ms, error, applied_by, transactional, class) VALUES ($1, $2, $3, \
             $4, $5, CAST($6 AS TIMESTAMPTZ), CAST($7 AS TIMESTAMPTZ), $8, $9, $10, $11, $12)"
        );
        let plain = RowSql::insert("`t`", None).render(|_| "?".to_owned());
        assert_eq!(plain.matches('?').count(), Column::ALL.len());
        assert!(!plain.contains("CAST"));
    }

    #[test]
    fn an_update_sets_every_column_of_its_version() {
        let sql = RowSql::update("\"t\"", Some("TIMESTAMPTZ"));
        assert_eq!(
            sql.render(|n| format!("${n}")),
            "UPDATE \"t\" SET name = $1, checksum = $2, checksum_algorithm = $3, status = $4, \
             started_at = CAST($5 AS TIMESTAMPTZ), finished_at = CAST($6 AS TIMESTAMPTZ), \
             execution_ms = $7, error = $8, applied_by = $9, transactional = $10, class = $11 \
             WHERE version = $12"
        );
        assert_eq!(sql.columns.last(), Some(&Column::Version));
    }
}
