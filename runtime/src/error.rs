//! The one error type of the runtime. Every message names the version, the file and the
//! tracking table where they apply, and says what to do next. An inner error's text appears
//! once: in the message, never again as a `source`.

use std::fmt;
use std::time::Duration;

use crate::stale::StaleEmbed;

/// A migration as named in errors: its version, name and file.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MigrationRef {
    /// The version, e.g. 24.
    pub version: u64,
    /// The version as written, e.g. `024`, or the bare number when the binary does not embed it.
    pub version_text: String,
    /// The name, e.g. `add_codec`.
    pub name: String,
    /// The file or directory, e.g. `migrations/024_add_codec.sql`; empty when not embedded.
    pub file: String,
}

impl fmt::Display for MigrationRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.file.is_empty() {
            true => write!(f, "{} `{}`", self.version_text, self.name),
            false => write!(f, "{} `{}`", self.version_text, self.file),
        }
    }
}

/// An applied migration whose file changed after it was applied.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Drift {
    /// The migration.
    pub migration: MigrationRef,
    /// The checksum recorded when it was applied.
    pub stored: String,
    /// The checksum of the embedded file.
    pub embedded: String,
}

/// Everything that can go wrong when migrating.
///
/// Every message says what happened, where (version, file, tracking table) and what to do
/// next; the database's own message appears once, in the text. Match on the variant to act on
/// a particular case, and use [`version`](Error::version) and
/// [`database_error`](Error::database_error) for the details:
///
/// ```
/// # #[cfg(feature = "sqlite")]
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use diesel::{Connection, SqliteConnection};
/// use waterline::Error;
///
/// static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!("../migrations");
///
/// let mut conn = SqliteConnection::establish(":memory:")?;
/// match MIGRATIONS.runner().table("bad name; DROP TABLE x").run_pending(&mut conn) {
///     Err(Error::InvalidTableName { name, .. }) => assert_eq!(name, "bad name; DROP TABLE x"),
///     other => panic!("expected InvalidTableName, got {other:?}"),
/// }
///
/// let error = MIGRATIONS.runner().target(999).run_pending(&mut conn).unwrap_err();
/// assert_eq!(error.version(), Some(999));
/// assert!(matches!(error, Error::UnknownVersion { .. }));
/// // "no migration with version 999 is embedded in this binary (embedded: ...); check the version"
/// eprintln!("error: {error}");
/// # Ok(())
/// # }
/// # #[cfg(not(feature = "sqlite"))]
/// # fn main() {}
/// ```
///
/// Its `Debug` is its message, as with `anyhow`: `fn main() -> Result<(), Box<dyn Error>>`
/// prints what happened and what to do, not the structure. Match on the variants for that.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The embedded migrations are not the ones on disk (debug builds; see
    /// [`Migrations::check_embed_is_current`](crate::Migrations::check_embed_is_current)).
    #[error(transparent)]
    StaleEmbed(#[from] StaleEmbed),

    /// The tracking table's name is not a plain identifier.
    #[error(
        "invalid tracking table name `{name}`: {reason}; use letters, digits and `_`, \
         optionally after a schema and `.`, as in `waterline_migrations` or `ops.migrations`"
    )]
    InvalidTableName {
        /// The name as given.
        name: String,
        /// What is wrong with it, e.g. "it contains `;`".
        reason: &'static str,
    },

    /// A version given to `target`, `mark_applied`, ... that the binary does not embed.
    #[error("no migration with version {version} is embedded in this binary (embedded: {embedded}); check the version")]
    UnknownVersion {
        /// The version asked for.
        version: u64,
        /// The versions the binary embeds, as a readable range or list.
        embedded: String,
    },

    /// The connection is inside a transaction, where locks and per-migration commits cannot work.
    #[error(
        "the connection is inside a transaction; run migrations on a connection with no open \
         transaction, before the application uses it"
    )]
    InTransaction,

    /// A database operation failed.
    #[error("could not {operation} (tracking table `{table}`): {message}")]
    Database {
        /// What the runner was doing, e.g. "read the tracking table".
        operation: &'static str,
        /// The tracking table.
        table: String,
        /// The database's message.
        message: String,
        /// The diesel error; also given by [`Error::database_error`].
        cause: Box<diesel::result::Error>,
    },

    /// The database refused an operation for lack of a privilege.
    #[error(
        "could not {operation} (tracking table `{table}`): {message}; the database role needs \
         {privilege}"
    )]
    PermissionDenied {
        /// What the runner was doing, e.g. "read the tracking table".
        operation: &'static str,
        /// The tracking table.
        table: String,
        /// The privilege the operation needs, e.g. "SELECT on `waterline_migrations`".
        privilege: String,
        /// The database's message.
        message: String,
        /// The diesel error; also given by [`Error::database_error`].
        cause: Box<diesel::result::Error>,
    },

    /// The tracking table was made by a newer release.
    #[error(
        "tracking table `{table}` has layout {found}, newer than the {supported} this release of \
         waterline knows; upgrade waterline"
    )]
    UnsupportedLayout {
        /// The tracking table.
        table: String,
        /// The layout the table records.
        found: i64,
        /// The newest layout this release reads and writes.
        supported: i64,
    },

    /// Another process held the migration lock for longer than the lock timeout.
    #[error(
        "could not take the migration lock of `{table}` within {}{}; another process is \
         migrating: wait for it, or raise `lock_timeout`",
        humantime::format_duration(*timeout),
        holder.as_ref().map(|h| format!(" (held by {h})")).unwrap_or_default()
    )]
    LockTimeout {
        /// The tracking table whose lock was asked for.
        table: String,
        /// How long the run waited.
        timeout: Duration,
        /// Who holds the lock, where the database can tell (PostgreSQL: process, application
        /// and address; MySQL: connection, user and host).
        holder: Option<String>,
    },

    /// Another session kept the tracking table locked (PostgreSQL `LOCK TABLE`, MySQL
    /// `LOCK TABLES` or a long transaction holding it) for longer than the lock timeout.
    #[error(
        "the tracking table `{table}` stayed locked by another session{} for {}, longer than the \
         lock timeout: the run waited to read it and ran nothing; end or wait for that session \
         (a `LOCK TABLE`, a long transaction), or raise `lock_timeout`",
        holder.as_ref().map(|h| format!(" (held by {h})")).unwrap_or_default(),
        humantime::format_duration(*timeout)
    )]
    TableLocked {
        /// The tracking table.
        table: String,
        /// How long the run waited.
        timeout: Duration,
        /// The sessions holding a lock on it, where the database can tell.
        holder: Option<String>,
    },

    /// The run's lease ran out and could not be renewed before the next migration: another
    /// process may hold it now. Migrations applied so far are applied and recorded; nothing
    /// more ran.
    #[error(
        "the migration lease of `{table}` ran out while this run held it (lease {}), so another \
         process may be migrating now; the migrations reported so far are applied and recorded, \
         and nothing more ran here; run again, and give the lease more time than the longest \
         migration takes",
        humantime::format_duration(*lease)
    )]
    LockLost {
        /// The tracking table whose lock it was.
        table: String,
        /// The length of the lease.
        lease: Duration,
    },

    /// A migration failed. Its changes were rolled back unless `rolled_back` is false.
    ///
    /// One rolled back left nothing behind: the next run applies it again, so a failure of the
    /// database (`transient`) heals by itself and a fixed file applies. One that ran outside a
    /// transaction may be partly applied, and waits for an operator.
    #[error("{}", failed_message(self))]
    MigrationFailed {
        /// The migration that failed.
        migration: Box<MigrationRef>,
        /// The tracking table.
        table: String,
        /// The database's message.
        message: String,
        /// Whether its changes were rolled back (it ran in a transaction).
        rolled_back: bool,
        /// The cause, when it was the database's rather than the file's, in a few words: "a
        /// lock timeout", "the connection to the database ending", ...
        transient: Option<&'static str>,
        /// Whether the failure was written to the tracking table. False when the connection
        /// was gone: the table then still shows what it showed before the migration started.
        recorded: bool,
        /// The diesel error; also given by [`Error::database_error`].
        cause: Box<diesel::result::Error>,
    },

    /// A migration written in Rust, in a set read at run time
    /// ([`Migrations::from_folder`](crate::Migrations)): its source is there, to compare
    /// checksums, but not its compiled code. Nothing of it ran.
    #[error(
        "migration {migration} is written in Rust, and this set was read from its folder at \
         run time, which cannot compile it; nothing of it ran; apply it with the app that \
         embeds the folder with `embed_migrations!` (its `migrate up`)"
    )]
    CodeNotEmbedded {
        /// The migration.
        migration: Box<MigrationRef>,
    },

    /// A resumable migration (written in Rust, outside a transaction) is held by another
    /// run whose heartbeat is live. Nothing of it ran here.
    #[error(
        "migration {migration} is being run by {holder}, whose hold in `{table}` is live; \
         nothing of it ran here; it goes on after that run, or is taken over here once that \
         run's heartbeat has stopped for {}",
        humantime::format_duration(*lease)
    )]
    HeldElsewhere {
        /// The migration.
        migration: Box<MigrationRef>,
        /// The table of holds.
        table: String,
        /// Who holds it.
        holder: String,
        /// How long a hold lasts without a heartbeat.
        lease: Duration,
    },

    /// Another run took over a resumable migration while this one ran it: this run's
    /// heartbeat had stopped for longer than the lease (a batch, or the code between two,
    /// took longer). The batch in progress was rolled back; the other run goes on from the
    /// last checkpoint, so no batch is applied twice.
    #[error(
        "migration {migration} was taken over by another run ({holder}) after this run's \
         heartbeat stopped for longer than its lease ({}); the batch in progress was rolled \
         back and the other run goes on from the last checkpoint; give batches less work, or \
         the runner a longer `heartbeat_lease`",
        humantime::format_duration(*lease)
    )]
    TakenOver {
        /// The migration.
        migration: Box<MigrationRef>,
        /// Who holds it now, if known.
        holder: String,
        /// How long a hold lasts without a heartbeat.
        lease: Duration,
    },

    /// Another process wrote the row of a migration this one was about to run: with the lock
    /// off, the row is the claim, and a migration is only ever run by the process that wrote
    /// it. Nothing of the migration ran in this process.
    #[error("{}", claimed_message(migration, table, holder, status))]
    Claimed {
        /// The migration.
        migration: Box<MigrationRef>,
        /// The tracking table.
        table: String,
        /// Who wrote the row, as its `applied_by` column says.
        holder: String,
        /// The row's status when this process read it: `running`, `applied` or `failed`.
        status: String,
    },

    /// Applied migrations whose files changed after they were applied.
    #[error("{}", drift_message(drifted, table))]
    ChecksumMismatch {
        /// Every applied migration whose file changed, in version order.
        drifted: Vec<Drift>,
        /// The tracking table.
        table: String,
    },

    /// The database records migrations this binary does not embed, and the runner's
    /// [`ahead`](crate::Runner::ahead) setting does not go on past them.
    #[error(
        "the database is ahead of this binary: `{table}` records {} as applied, which this binary \
         does not embed{}; deploy a binary that has them, or set `ignore_missing(true)` to go on",
        list(missing),
        contract_clause(missing, contract)
    )]
    MissingFromBinary {
        /// The recorded migrations the binary does not embed (name and version only).
        missing: Vec<MigrationRef>,
        /// Those of them that keep this binary from going on by default: contract migrations
        /// (they drop, rename or change what it may use), or rows recorded without a class.
        /// Empty when the runner refuses any migration it lacks.
        contract: Vec<MigrationRef>,
        /// The tracking table.
        table: String,
    },

    /// Pending migrations older than the newest applied one.
    #[error(
        "{} {} pending but older than {newest_applied}, the newest applied migration in \
         `{table}`; renumber {} after it, or set `allow_out_of_order(true)` to apply {} anyway",
        list(pending),
        if pending.len() == 1 { "is" } else { "are" },
        them(pending),
        them(pending)
    )]
    OutOfOrder {
        /// The pending migrations older than the newest applied one.
        pending: Vec<MigrationRef>,
        /// The newest applied migration, as shown in messages.
        newest_applied: String,
        /// The tracking table.
        table: String,
    },

    /// A migration that ran outside a transaction never finished, or failed part-way
    /// (applying it, or with `reverting`, reverting it).
    #[error("{}", unfinished_message(migration, table, what, detail.as_deref(), *reverting))]
    Unfinished {
        /// The migration.
        migration: Box<MigrationRef>,
        /// The tracking table.
        table: String,
        /// What happened, e.g. "was started at ... by web-1 (pid 42) and never finished".
        what: String,
        /// The database's message of a failure, when there was one.
        detail: Option<String>,
        /// Whether it was being reverted rather than applied.
        reverting: bool,
    },

    /// Reverting a migration failed. Its changes were rolled back unless `rolled_back` is false.
    #[error("{}", revert_failed_message(migration, table, message, *rolled_back))]
    RevertFailed {
        /// The migration being reverted.
        migration: Box<MigrationRef>,
        /// The tracking table.
        table: String,
        /// The database's message.
        message: String,
        /// Whether the revert's changes were rolled back (it ran in a transaction).
        rolled_back: bool,
        /// The diesel error; also given by [`Error::database_error`].
        cause: Box<diesel::result::Error>,
    },

    /// The pending migrations cannot run in one transaction (`single_transaction`).
    #[error(
        "cannot apply the pending migrations in one transaction{}: {reason}; run them without \
         `single_transaction`",
        migration.as_ref().map(|m| format!(": migration {m}")).unwrap_or_default()
    )]
    NotTogether {
        /// The migration that cannot join the transaction, when one is the reason.
        migration: Option<Box<MigrationRef>>,
        /// Why not, e.g. "MySQL commits DDL implicitly".
        reason: String,
    },

    /// A migration without a `down` script (or, in diesel's layout, with an empty one) cannot
    /// be reverted.
    #[error(
        "migration {migration} cannot be reverted: it has no down script, or one with no SQL; \
         write a `down.sql` that undoes it (a single-file migration becomes a directory with \
         `up.sql` and `down.sql`), or undo it by hand and `mark_unapplied({})`",
        migration.version
    )]
    Irreversible {
        /// The migration.
        migration: Box<MigrationRef>,
    },

    /// `apply_version` of an applied migration without `force`.
    #[error(
        "migration {migration} is already applied (recorded in `{table}`); run it again only if \
         it is safe to repeat, with force (`run {} --force`)",
        migration.version
    )]
    AlreadyApplied {
        /// The migration.
        migration: Box<MigrationRef>,
        /// The tracking table.
        table: String,
    },

    /// `mark_unapplied` or a revert of a version that is not recorded.
    #[error("migration {migration} is not recorded in `{table}`; nothing to do")]
    NotRecorded {
        /// The migration.
        migration: Box<MigrationRef>,
        /// The tracking table.
        table: String,
    },

    /// A migration gave way to the sessions holding its table locks, try after try, until
    /// [`Runner::lock_retry`](crate::Runner::lock_retry)'s budget was spent. Nothing of it
    /// was applied or recorded: the next run tries again.
    #[error(
        "migration {migration} could not get its table locks: {tries} tries over {}, each \
         waiting at most {} ms, gave way to {}; nothing of it was applied or recorded. End \
         those sessions or wait for them, and run again; or allow longer with \
         `lock_retry(timeout, budget)`",
        humantime::format_duration(std::time::Duration::from_secs(waited.as_secs())),
        timeout.as_millis(),
        if blockers.is_empty() { "sessions the database does not name".to_owned() } else { blockers.join("; ") }
    )]
    LockRetriesExhausted {
        /// The migration.
        migration: Box<MigrationRef>,
        /// How many tries it made.
        tries: u32,
        /// How long since its first try.
        waited: std::time::Duration,
        /// The lock timeout of each try.
        timeout: std::time::Duration,
        /// The sessions that held table locks in an open transaction, a line each.
        blockers: Vec<String>,
    },

    /// The run was asked to stop ([`Runner::stop_on`](crate::Runner::stop_on); the `migrate`
    /// command on SIGTERM or Ctrl-C), and stopped between migrations: what it applied is
    /// applied and recorded, the rest is pending, and the migration lock is released.
    #[error(
        "stopped on request: {} run and recorded{}; the migration lock is released, and \
         the next run goes on from there",
        match applied.len() { 1 => "1 migration".to_owned(), n => format!("{n} migrations") },
        match pending.len() { 0 => String::new(), _ => format!(", {} still pending", list(pending)) }
    )]
    Stopped {
        /// What the run applied before it stopped, in order.
        applied: Vec<crate::Ran>,
        /// What it had still to apply.
        pending: Vec<MigrationRef>,
    },

    /// `baseline_from_diesel` on a database without diesel's table.
    #[error(
        "`__diesel_schema_migrations` does not exist, so there is nothing to adopt; use \
         `baseline(version)` to record what the database already has"
    )]
    NoDieselTable,

    /// `__diesel_schema_migrations` records versions this binary does not embed: adopting the
    /// database would leave them unaccounted for, and their migrations' successors could run
    /// on a schema they do not expect.
    #[error(
        "`__diesel_schema_migrations` records {} this binary does not embed: {}; nothing was \
         run or recorded in `{table}`. Build the binary from the migrations folder that applied \
         them; if they were removed from it on purpose, delete their rows (`DELETE FROM \
         __diesel_schema_migrations WHERE version IN ({})`) and run again",
        if versions.len() == 1 { "a version" } else { "versions" },
        versions.join(", "),
        versions.iter().map(|v| format!("'{v}'")).collect::<Vec<_>>().join(", ")
    )]
    DieselVersionsNotEmbedded {
        /// Every such version, as diesel_migrations recorded it, e.g. `20170831230457`.
        versions: Vec<String>,
        /// The tracking table, as configured.
        table: String,
    },
}

impl Error {
    /// The database error behind [`Error::Database`] and [`Error::MigrationFailed`].
    pub fn database_error(&self) -> Option<&diesel::result::Error> {
        match self {
            Error::Database { cause, .. }
            | Error::PermissionDenied { cause, .. }
            | Error::MigrationFailed { cause, .. }
            | Error::RevertFailed { cause, .. } => Some(cause.as_ref()),
            _ => None,
        }
    }

    /// The version the error is about, when there is one.
    pub fn version(&self) -> Option<u64> {
        match self {
            Error::MigrationFailed { migration, .. }
            | Error::RevertFailed { migration, .. }
            | Error::Unfinished { migration, .. }
            | Error::Claimed { migration, .. }
            | Error::HeldElsewhere { migration, .. }
            | Error::CodeNotEmbedded { migration }
            | Error::TakenOver { migration, .. }
            | Error::Irreversible { migration }
            | Error::LockRetriesExhausted { migration, .. }
            | Error::NotRecorded { migration, .. }
            | Error::AlreadyApplied { migration, .. } => Some(migration.version),
            Error::UnknownVersion { version, .. } => Some(*version),
            Error::ChecksumMismatch { drifted, .. } => drifted.first().map(|d| d.migration.version),
            _ => None,
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

fn failed_message(error: &Error) -> String {
    let Error::MigrationFailed {
        migration,
        table,
        message,
        rolled_back,
        transient,
        recorded,
        ..
    } = error
    else {
        unreachable!("only for MigrationFailed")
    };
    let version = migration.version;
    let cause = transient
        .map(|t| format!("the cause was {t}, a condition of the database, not of the file; "))
        .unwrap_or_default();
    match (rolled_back, recorded) {
        (true, _) => {
            let next = match transient {
                Some(_) => "nothing was applied, and it runs again at the next start",
                None => "nothing was applied; fix the file, and it runs again at the next start",
            };
            let record = match recorded {
                true => format!("the failure is recorded in `{table}`"),
                false => format!("the failure could not be written to `{table}`"),
            };
            format!("migration {migration} failed and was rolled back: {message}; {cause}{next}; {record}")
        }
        (false, recorded) => {
            let record = match recorded {
                true => format!("it is recorded as failed in `{table}`"),
                false => format!(
                    "the failure could not be written to `{table}`, whose row for it still says \
                     `running`"
                ),
            };
            format!(
                "migration {migration} failed outside a transaction: {message}; {cause}{record} and \
                 it may be partly applied; check the schema, then `mark_applied({version})` if it \
                 is complete, or undo what it did and `mark_unapplied({version})`"
            )
        }
    }
}

fn claimed_message(migration: &MigrationRef, table: &str, holder: &str, status: &str) -> String {
    let version = migration.version;
    let stopped = match status {
        "running" => format!(
            "; should that process have stopped, the migration may be partly applied: check the \
             schema, then `mark_applied({version})` if it is complete, or undo what it did and \
             `mark_unapplied({version})`"
        ),
        _ => String::new(),
    };
    format!(
        "migration {migration} was claimed by another process ({holder}, now {status}) in \
         `{table}` while this one ran without the migration lock; nothing of it ran here; run \
         again once that process is done, or migrate with the lock on{stopped}"
    )
}

fn unfinished_message(
    migration: &MigrationRef,
    table: &str,
    what: &str,
    detail: Option<&str>,
    reverting: bool,
) -> String {
    let version = migration.version;
    let detail = detail.map(|d| format!(": {d}")).unwrap_or_default();
    let advice = match reverting {
        false => format!(
            "so it may be partly applied; check the schema, then record it with \
             `mark_applied({version})` if it is complete, or undo what it did and \
             `mark_unapplied({version})`"
        ),
        true => format!(
            "so it may be partly reverted; check the schema, then `mark_unapplied({version})` if \
             the revert is complete, or restore what it undid and `mark_applied({version})`"
        ),
    };
    format!("migration {migration} {what} (recorded in `{table}`){detail}, {advice}")
}

fn revert_failed_message(
    migration: &MigrationRef,
    table: &str,
    message: &str,
    rolled_back: bool,
) -> String {
    let version = migration.version;
    match rolled_back {
        true => format!(
            "reverting migration {migration} failed and was rolled back: {message}; it is still \
             applied in `{table}`; fix its down script and try again"
        ),
        false => format!(
            "reverting migration {migration} failed outside a transaction: {message}; it is \
             recorded as failed in `{table}` and may be partly reverted; check the schema, then \
             `mark_unapplied({version})` if the revert is complete, or restore what it undid and \
             `mark_applied({version})`"
        ),
    }
}

fn drift_message(drifted: &[Drift], table: &str) -> String {
    let fix = "or if the change is intended (a comment, say) accept it with `repair`";
    if let [one] = drifted {
        return format!(
            "applied migration {} changed since it was applied: `{table}` records checksum {}, \
             the embedded file has {}; restore the original file, {fix}",
            one.migration, one.stored, one.embedded
        );
    }
    let each: Vec<String> = drifted
        .iter()
        .map(|d| {
            format!(
                "{} (recorded {}, embedded {})",
                d.migration, d.stored, d.embedded
            )
        })
        .collect();
    format!(
        "applied migrations changed since they were applied: {}; checksums recorded in \
         `{table}`; restore the original files, {fix}",
        each.join(", ")
    )
}

/// The part of [`Error::MissingFromBinary`]'s message that names its contract migrations.
fn contract_clause(missing: &[MigrationRef], contract: &[MigrationRef]) -> String {
    let why = "drops, renames or changes what this binary may use, or was recorded without a class";
    match contract.len() {
        0 => String::new(),
        1 if missing.len() == 1 => format!(
            ", and it is a contract migration (it {why}), so this binary may not work on the schema"
        ),
        _ if missing.len() == contract.len() => format!(
            ", and each is a contract migration (it {why}), so this binary may not work on the schema"
        ),
        1 => format!(
            ", and {} is a contract migration (it drops, renames or changes what this binary may \
             use, or was recorded without a class), so this binary may not work on the schema",
            list(contract)
        ),
        _ => format!(
            ", and {} are contract migrations (they drop, rename or change what this binary may \
             use, or were recorded without a class), so this binary may not work on the schema",
            list(contract)
        ),
    }
}

fn list(migrations: &[MigrationRef]) -> String {
    let each: Vec<String> = migrations.iter().map(ToString::to_string).collect();
    let noun = if migrations.len() == 1 {
        "migration"
    } else {
        "migrations"
    };
    format!("{noun} {}", each.join(", "))
}

fn them(migrations: &[MigrationRef]) -> &'static str {
    if migrations.len() == 1 {
        "it"
    } else {
        "them"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn main_returning_a_boxed_error_shows_the_message_and_its_advice() {
        let error = Error::UnknownVersion {
            version: 999,
            embedded: "1 to 11".to_owned(),
        };
        let message = error.to_string();
        let boxed: Box<dyn std::error::Error> = Box::new(error);
        // What `fn main() -> Result<(), Box<dyn Error>>` prints after "Error: ".
        assert_eq!(format!("{boxed:?}"), message);
        assert!(message.ends_with("check the version"), "{message}");
    }
}
