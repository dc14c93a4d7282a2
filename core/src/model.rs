//! The data model of a migration set, shared by the macro's static output and a folder read
//! at run time. Strings and slices are `Cow<'static, _>` so the same types hold borrowed
//! static data (in a `static`) and owned data (read from disk).

use std::borrow::Cow;
use std::fmt;

use crate::checksum::Checksum;

/// A database backend that can have its own variant of a migration script.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Backend {
    /// PostgreSQL; variant files are named `up.postgres.sql` / `down.postgres.sql`.
    Postgres,
    /// MySQL and MariaDB; variant files are named `up.mysql.sql` / `down.mysql.sql`.
    Mysql,
    /// SQLite; variant files are named `up.sqlite.sql` / `down.sqlite.sql`.
    Sqlite,
}

impl Backend {
    /// Every backend, in the order variants are listed.
    pub const ALL: [Backend; 3] = [Backend::Postgres, Backend::Mysql, Backend::Sqlite];

    /// The name used in variant file names (`up.<name>.sql`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Backend::Postgres => "postgres",
            Backend::Mysql => "mysql",
            Backend::Sqlite => "sqlite",
        }
    }

    /// The backends an app is built with, from whether each of its features is on
    /// (`postgres`, `mysql`, `sqlite`, in that order); every backend when none is, as when
    /// the crate that asks cannot know.
    pub fn compiled(postgres: bool, mysql: bool, sqlite: bool) -> Vec<Backend> {
        let compiled: Vec<Backend> = [
            (postgres, Backend::Postgres),
            (mysql, Backend::Mysql),
            (sqlite, Backend::Sqlite),
        ]
        .into_iter()
        .filter_map(|(on, backend)| on.then_some(backend))
        .collect();
        if compiled.is_empty() {
            Backend::ALL.to_vec()
        } else {
            compiled
        }
    }

    /// The backend whose variant files use `name`.
    pub fn from_name(name: &str) -> Option<Backend> {
        Backend::ALL.into_iter().find(|b| b.as_str() == name)
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether the binaries built before a migration still work on the schema after it; see
/// [`lint::classify`](crate::lint::classify).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Class {
    /// It only adds: a new table, a nullable column or one with a default, an index, a
    /// constraint added `NOT VALID`, rows. Older binaries keep working.
    Expand,
    /// It takes away or changes what older code may use: a drop, a rename, a type change,
    /// `NOT NULL` on an existing column; or the analysis could not tell.
    #[default]
    Contract,
}

impl Class {
    /// The class as the tracking table records it: `expand` or `contract`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Class::Expand => "expand",
            Class::Contract => "contract",
        }
    }

    /// The class `text` names, as [`as_str`](Self::as_str) writes it.
    pub fn parse(text: &str) -> Option<Class> {
        match text {
            "expand" => Some(Class::Expand),
            "contract" => Some(Class::Contract),
            _ => None,
        }
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `-- waterline:` directives at the top of one script.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Directives {
    no_transaction: bool,
    allowed_lints: Cow<'static, [Cow<'static, str>]>,
    class: Option<Class>,
    statement_timeout: Option<std::time::Duration>,
    background: bool,
}

impl Directives {
    /// Directives from static data (used by `embed_migrations!`).
    #[doc(hidden)]
    pub const fn from_static(no_transaction: bool, allowed: &'static [Cow<'static, str>]) -> Self {
        Directives {
            no_transaction,
            allowed_lints: Cow::Borrowed(allowed),
            class: None,
            statement_timeout: None,
            background: false,
        }
    }

    pub(crate) fn new(
        no_transaction: bool,
        allowed: Vec<String>,
        class: Option<Class>,
        statement_timeout: Option<std::time::Duration>,
    ) -> Self {
        let allowed: Vec<Cow<'static, str>> = allowed.into_iter().map(Cow::Owned).collect();
        Directives {
            no_transaction,
            allowed_lints: Cow::Owned(allowed),
            class,
            statement_timeout,
            background: false,
        }
    }

    /// These directives, run after start-up when `background`.
    pub(crate) fn in_background(mut self, background: bool) -> Self {
        self.background = background;
        self
    }

    /// Whether the migration runs after start-up, by `Runner::run_background`
    /// (`// waterline:background`, in a migration written in Rust only). Implies
    /// [`no_transaction`](Self::no_transaction).
    pub fn background(&self) -> bool {
        self.background
    }

    /// The longest any statement of the script may run (`-- waterline:statement-timeout(30s)`):
    /// PostgreSQL's `statement_timeout`, MariaDB's `max_statement_time`; SQLite has none.
    pub fn statement_timeout(&self) -> Option<std::time::Duration> {
        self.statement_timeout
    }

    /// The class the script declares with `-- waterline:expand` or `-- waterline:contract`.
    /// Read when the folder is; not kept in embedded data, where the migration's
    /// [`class`](Migration::class) is.
    pub fn class(&self) -> Option<Class> {
        self.class
    }

    /// These directives, outside a transaction too when `no_transaction` (diesel's
    /// `metadata.toml` with `run_in_transaction = false`).
    pub(crate) fn or_no_transaction(mut self, no_transaction: bool) -> Self {
        self.no_transaction |= no_transaction;
        self
    }

    /// Whether the script runs outside a transaction: it asked to
    /// (`-- waterline:no-transaction`), or its directory's diesel `metadata.toml` says so.
    pub fn no_transaction(&self) -> bool {
        self.no_transaction
    }

    /// The lints silenced with `-- waterline:allow(<lint>)`.
    pub fn allowed_lints(&self) -> impl Iterator<Item = &str> {
        self.allowed_lints.iter().map(|lint| lint.as_ref())
    }
}

/// One SQL file of a migration: its path, text, checksum and directives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Script {
    path: Cow<'static, str>,
    text: Cow<'static, str>,
    checksum: Checksum,
    directives: Directives,
    statements: Cow<'static, [(usize, usize)]>,
    rust: bool,
}

impl Script {
    /// A script from static data (used by `embed_migrations!`). The checksum and directives
    /// come as their parts: one `const fn` call per script is less for rustc to evaluate.
    #[doc(hidden)]
    pub const fn from_static(
        path: &'static str,
        text: &'static str,
        checksum: [u8; 32],
        no_transaction: bool,
        allowed_lints: &'static [Cow<'static, str>],
        statements: &'static [(usize, usize)],
    ) -> Self {
        Script {
            path: Cow::Borrowed(path),
            text: Cow::Borrowed(text),
            checksum: Checksum::from_bytes(checksum),
            directives: Directives::from_static(no_transaction, allowed_lints),
            statements: Cow::Borrowed(statements),
            rust: false,
        }
    }

    /// This script as the source of a migration written in Rust, run in the background when
    /// `background` (used by `embed_migrations!`).
    #[doc(hidden)]
    pub const fn rust(mut self, background: bool) -> Self {
        self.rust = true;
        self.directives.background = background;
        self
    }

    /// The source of a migration written in Rust, read from a folder: checksummed like SQL,
    /// never run as SQL.
    pub(crate) fn new_rust(path: String, text: String, directives: Directives) -> Self {
        let checksum = Checksum::of(&text);
        Script {
            path: Cow::Owned(path),
            text: Cow::Owned(text),
            checksum,
            directives,
            statements: Cow::Owned(Vec::new()),
            rust: true,
        }
    }

    /// Whether this is the source of a migration written in Rust (`012_backfill.rs`), whose
    /// `up` function the runner calls; its [`sql`](Self::sql) is the Rust source, checksummed
    /// as a script is, and never sent to a database.
    pub fn is_rust(&self) -> bool {
        self.rust
    }

    /// This script with a statement timeout, in milliseconds (used by `embed_migrations!`).
    #[doc(hidden)]
    pub const fn with_statement_timeout(mut self, millis: u64) -> Self {
        self.directives.statement_timeout = Some(std::time::Duration::from_millis(millis));
        self
    }

    /// Statements are located only for scripts that run outside a transaction, where each
    /// must be sent on its own, and for scripts that allow `transaction-control`, which
    /// [`ends_transactions`](Self::ends_transactions) reads; and only with the `sql` feature
    /// (see [`read_folder`]).
    ///
    /// [`read_folder`]: crate::read_folder
    pub(crate) fn new(path: String, text: String, directives: Directives) -> Self {
        let checksum = Checksum::of(&text);
        let located = directives.no_transaction() || crate::lint::control::allowed(&directives);
        let statements = match located {
            true => locate_statements(&text),
            false => Vec::new(),
        };
        Script {
            path: Cow::Owned(path),
            text: Cow::Owned(text),
            checksum,
            directives,
            statements: Cow::Owned(statements),
            rust: false,
        }
    }

    /// The file's path as shown to users, e.g. `migrations/024_add_codec/up.sql`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The SQL to execute: the file's text without a leading byte order mark.
    pub fn sql(&self) -> &str {
        self.text.strip_prefix('\u{feff}').unwrap_or(&self.text)
    }

    /// The checksum of the normalised text (see [`Checksum::of`]).
    pub fn checksum(&self) -> Checksum {
        self.checksum
    }

    /// The script's directives.
    pub fn directives(&self) -> &Directives {
        &self.directives
    }

    /// Whether the script starts, commits or rolls back a transaction of its own (`BEGIN` or
    /// `START TRANSACTION` ... `COMMIT`, a bare `COMMIT`, `END`, `ABORT`, `ROLLBACK` but not
    /// `ROLLBACK TO SAVEPOINT`, `PREPARE TRANSACTION`, `COMMIT AND CHAIN`, MySQL's `XA ...`),
    /// so the runner must not wrap it in the transaction that writes its tracking row.
    ///
    /// Only a script with `-- waterline:allow(transaction-control)` can: the lint refuses such
    /// statements in any other script at compile time, so for those this returns `false` at
    /// once. Otherwise each statement's first words are read, as the lint reads them; bodies of
    /// functions, procedures and triggers are part of the statement that creates them. When the
    /// statements could not be located (text the tokenizer cannot read, or no `sql` feature
    /// for a folder read at run time), a script with any statement counts as ending
    /// transactions.
    pub fn ends_transactions(&self) -> bool {
        crate::lint::control::ends_transactions(self)
    }

    /// The byte ranges behind [`statements`](Self::statements), for `embed_migrations!`.
    #[doc(hidden)]
    pub fn statement_ranges(&self) -> &[(usize, usize)] {
        &self.statements
    }

    /// The statements of a `no-transaction` script, each to be sent on its own (PostgreSQL
    /// runs a batch of several statements in an implicit transaction), and of a script with
    /// `-- waterline:allow(transaction-control)`, for a runner that runs it outside a
    /// transaction when it [ends transactions](Self::ends_transactions) itself. Empty for
    /// other scripts, and for text the tokenizer could not read: run [`sql`](Self::sql) as one
    /// batch.
    pub fn statements(&self) -> impl Iterator<Item = &str> {
        self.statements
            .iter()
            .map(|(start, end)| &self.text[*start..*end])
    }
}

/// The byte ranges of the statements of `text`; none when it cannot be tokenized.
#[cfg(feature = "sql")]
fn locate_statements(text: &str) -> Vec<(usize, usize)> {
    let ranges = crate::statements::split(text).unwrap_or_default();
    ranges.into_iter().map(|r| (r.start, r.end)).collect()
}

/// Without the SQL tokenizer, statements are not located.
#[cfg(not(feature = "sql"))]
fn locate_statements(_text: &str) -> Vec<(usize, usize)> {
    Vec::new()
}

/// A script written for one backend only (`up.postgres.sql`, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variant {
    backend: Backend,
    script: Script,
}

impl Variant {
    /// A variant of a script for `backend`.
    pub const fn new(backend: Backend, script: Script) -> Self {
        Variant { backend, script }
    }

    /// The backend this variant runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The variant's script.
    pub fn script(&self) -> &Script {
        &self.script
    }
}

/// The forward or backward direction of a migration: a default script and backend variants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Direction {
    default: Option<Script>,
    variants: Cow<'static, [Variant]>,
}

impl Direction {
    /// A direction from static data (used by `embed_migrations!`).
    #[doc(hidden)]
    pub const fn from_static(default: Option<Script>, variants: &'static [Variant]) -> Self {
        Direction {
            default,
            variants: Cow::Borrowed(variants),
        }
    }

    pub(crate) fn new(default: Option<Script>, variants: Vec<Variant>) -> Self {
        Direction {
            default,
            variants: Cow::Owned(variants),
        }
    }

    /// The script `backend` runs: its variant if there is one, else the default script.
    pub fn for_backend(&self, backend: Backend) -> Option<&Script> {
        self.variants
            .iter()
            .find(|variant| variant.backend == backend)
            .map(Variant::script)
            .or(self.default.as_ref())
    }

    /// The script for backends without a variant (`up.sql`, `down.sql` or the single file).
    pub fn default_script(&self) -> Option<&Script> {
        self.default.as_ref()
    }

    /// The backend variants, in the order of [`Backend::ALL`].
    pub fn variants(&self) -> &[Variant] {
        &self.variants
    }

    /// Whether the direction has no script at all (a migration without `down`).
    pub fn is_empty(&self) -> bool {
        self.default.is_none() && self.variants.is_empty()
    }
}

/// One migration: a version, a name and its forward and (optional) backward scripts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Migration {
    version: u64,
    id: Cow<'static, str>,
    name_start: usize,
    up: Direction,
    down: Direction,
    class: Class,
}

impl Migration {
    /// A migration from static data (used by `embed_migrations!`). `id` is the file or
    /// directory name without extension, e.g. `024_add_codec`.
    #[doc(hidden)]
    pub const fn from_static(
        version: u64,
        id: &'static str,
        name_start: usize,
        up: Direction,
        down: Direction,
        class: Class,
    ) -> Self {
        Migration {
            version,
            id: Cow::Borrowed(id),
            name_start,
            up,
            down,
            class,
        }
    }

    pub(crate) fn new(
        version: u64,
        id: String,
        name_start: usize,
        up: Direction,
        down: Direction,
    ) -> Self {
        let mut migration = Migration {
            version,
            id: Cow::Owned(id),
            name_start,
            up,
            down,
            class: Class::Contract,
        };
        migration.class = Self::class_of(&migration);
        migration
    }

    /// The class of a migration read from a folder: analysed with the `sql` feature; without
    /// it, only what a directive declares, else a contract.
    fn class_of(migration: &Migration) -> Class {
        #[cfg(feature = "sql")]
        return crate::lint::classify(migration);
        #[cfg(not(feature = "sql"))]
        return migration
            .up
            .default
            .as_ref()
            .and_then(|script| script.directives().class())
            .unwrap_or(Class::Contract);
    }

    /// Whether the binaries built before this migration still work after it:
    /// [`Class::Expand`], or [`Class::Contract`].
    pub fn class(&self) -> Class {
        self.class
    }

    /// The version, e.g. `24` for `024_add_codec.sql`.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The name after the version, e.g. `add_codec`.
    pub fn name(&self) -> &str {
        &self.id[self.name_start..]
    }

    /// The version as written, with its zero padding, e.g. `024`.
    pub fn version_text(&self) -> &str {
        &self.id[..self.name_start - 1]
    }

    /// The file or directory name without extension, e.g. `024_add_codec`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The migration's file or directory as shown to users: `migrations/024_add_codec.sql`
    /// or `migrations/024_add_codec`.
    pub fn path(&self) -> &str {
        let script = self
            .up
            .default
            .as_ref()
            .or(self.up.variants.first().map(Variant::script));
        let path = script.map_or("", Script::path);
        match path.rsplit_once('/') {
            Some((_, file)) if file.starts_with(self.id.as_ref()) => path,
            Some((dir, _)) => dir,
            None => path,
        }
    }

    /// Whether the migration is written in Rust: its up script is a `.rs` file.
    pub fn is_rust(&self) -> bool {
        self.up.default.as_ref().is_some_and(Script::is_rust)
    }

    /// Whether a run that stopped part-way through this migration may run it again from the
    /// top, to resume: a migration written in Rust outside a transaction, whose batches
    /// record checkpoints. A SQL script run outside a transaction is never run twice.
    pub fn is_resumable(&self) -> bool {
        self.up
            .default
            .as_ref()
            .is_some_and(|s| s.is_rust() && s.directives().no_transaction())
    }

    /// Whether the migration runs after start-up (`// waterline:background`).
    pub fn is_background(&self) -> bool {
        self.up
            .default
            .as_ref()
            .is_some_and(|s| s.directives().background())
    }

    /// The forward scripts.
    pub fn up(&self) -> &Direction {
        &self.up
    }

    /// The backward scripts; empty when the migration is irreversible.
    pub fn down(&self) -> &Direction {
        &self.down
    }
}

impl fmt::Display for Migration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id)
    }
}

/// The migration of `migrations` that `text` names: its version as a number (`24`), or as
/// written in its name (`024`, `2017-08-31-230457`), or as diesel_migrations records it
/// (`20170831230457`, the digits without dashes).
pub fn find_version<'m>(migrations: &'m [Migration], text: &str) -> Option<&'m Migration> {
    let number = text.parse::<u64>().ok();
    if let Some(found) = migrations.iter().find(|m| Some(m.version()) == number) {
        return Some(found);
    }
    let recorded = crate::diesel::recorded_version(text);
    migrations.iter().find(|m| {
        m.version_text() == text || crate::diesel::recorded_version(m.version_text()) == recorded
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(sql: &str) -> Script {
        let directives = crate::directive::parse(sql).unwrap();
        Script::new(
            "migrations/002_x.sql".to_owned(),
            sql.to_owned(),
            directives,
        )
    }

    const ALLOW: &str = "-- waterline:allow(transaction-control)\n";

    #[test]
    fn a_script_that_allows_transaction_control_and_ends_a_transaction() {
        for body in [
            "BEGIN;\nUPDATE t SET x = 1;\nCOMMIT;",
            "UPDATE t SET x = 1;\ncommit;",
            "START TRANSACTION;\nUPDATE t SET x = 1;\nEND;",
            "ABORT;",
            "ROLLBACK;",
            "PREPARE TRANSACTION 'x';",
            "COMMIT AND CHAIN;",
            "XA START 'x';",
        ] {
            assert!(
                script(&format!("{ALLOW}{body}")).ends_transactions(),
                "{body}"
            );
        }
    }

    #[test]
    fn scripts_that_end_no_transaction_of_their_own() {
        let quiet = [
            "SAVEPOINT a;\nUPDATE t SET x = 1;\nROLLBACK TO SAVEPOINT a;\nRELEASE a;",
            "CREATE TRIGGER s AFTER INSERT ON t BEGIN\n  UPDATE t SET x = 1;\nEND;",
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;",
            "INSERT INTO t VALUES ('COMMIT');",
            "",
        ];
        for body in quiet {
            assert!(
                !script(&format!("{ALLOW}{body}")).ends_transactions(),
                "{body}"
            );
        }
        // Without the allow the lint refuses such a file, so it is not read.
        assert!(!script("BEGIN;\nCOMMIT;").ends_transactions());
    }
}
