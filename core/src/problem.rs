//! Everything that can be wrong with a migrations folder, each with a message that names the
//! file, says what is wrong and gives the fix. Paths are shown as the user wrote the folder
//! (`migrations/24_add_codec.sql`).

use std::fmt;

use crate::name::{NameFault, MAX_VERSION, MIN_DIGITS};

/// One rule a migrations folder breaks.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// The folder does not exist.
    #[error(
        "migrations folder `{folder}` does not exist; create it, or pass the folder's path \
         relative to Cargo.toml, as in `embed_migrations!(\"db/migrations\")`"
    )]
    FolderMissing {
        /// The folder as the user wrote it (the `label` given to
        /// [`read_folder`](crate::read_folder)), without a trailing `/`, e.g. `migrations` or
        /// `db/migrations`.
        folder: String,
    },

    /// The path is a file, not a folder.
    #[error("`{folder}` is not a folder; pass the path of the folder that holds the migrations")]
    NotAFolder {
        /// The path as the user wrote it (the `label` given to
        /// [`read_folder`](crate::read_folder)), without a trailing `/`, e.g. `migrations`.
        folder: String,
    },

    /// The folder holds nothing that is a migration.
    #[error("migrations folder `{folder}` holds no migrations; add one named like `001_create_users.sql`")]
    NoMigrations {
        /// The folder as the user wrote it (the `label` given to
        /// [`read_folder`](crate::read_folder)), without a trailing `/`, e.g. `migrations`.
        folder: String,
    },

    /// A file or directory could not be read.
    #[error("cannot read `{file}`: {reason}; check that it exists and is readable")]
    Unreadable {
        /// The folder, migration directory or script as shown to users, e.g.
        /// `migrations/024_add_codec/up.sql`, or `migrations` for the folder itself.
        file: String,
        /// Why, as the operating system said it, e.g. `Permission denied (os error 13)`, or
        /// `it is a broken symlink or cannot be opened` for an entry whose metadata cannot be read.
        reason: String,
    },

    /// A file name that is not UTF-8.
    #[error("file name `{file}` is not valid UTF-8; rename it to `<version>_<name>.sql` in ASCII")]
    NonUtf8FileName {
        /// The entry as shown to users, with U+FFFD (`�`) in place of each byte sequence that is
        /// not UTF-8, e.g. `migrations/024_caf�.sql`.
        file: String,
    },

    /// A symbolic link that leads out of the folder.
    #[error(
        "`{file}` is a symlink to `{target}`, outside the migrations folder; copy the \
         migration into the folder instead"
    )]
    SymlinkOutside {
        /// The symlink as shown to users, e.g. `migrations/024_add_codec.sql` or
        /// `migrations/024_add_codec/up.sql`.
        file: String,
        /// The absolute, canonical path the link resolves to, e.g.
        /// `/home/me/shared/024_add_codec.sql`: outside the migrations folder or, for a script,
        /// outside its migration directory.
        target: String,
    },

    /// No leading digits: `add_codec.sql`.
    #[error("invalid migration name `{file}`: no version prefix; {fix}")]
    NoVersion {
        /// The file or directory as shown to users, e.g. `migrations/add_codec.sql`.
        file: String,
        /// How to fix it, worded to end the message, e.g. "rename it to `025_add_codec.sql`": a
        /// version written last (`migration_024.sql`) moves to the front, else the next free
        /// version is used.
        fix: String,
    },

    /// A version a tracking table cannot store.
    #[error(
        "invalid migration name `{file}`: version `{digits}` is larger than {MAX_VERSION}, the \
         largest a tracking table can store; use a smaller version"
    )]
    VersionTooLarge {
        /// The file or directory as shown to users, e.g.
        /// `migrations/9223372036854775808_add_codec.sql`.
        file: String,
        /// The leading digits as written, e.g. `9223372036854775808`: a value over [`MAX_VERSION`].
        digits: String,
    },

    /// Fewer than three digits, with no wider version beside it.
    #[error(
        "invalid migration name `{file}`: version `{digits}` has fewer than {MIN_DIGITS} digits, \
         so name order would not be version order; {fix}"
    )]
    TooFewDigits {
        /// The file or directory as shown to users, e.g. `migrations/1_init.sql`.
        file: String,
        /// The version as written, e.g. `1` in `1_init.sql`.
        digits: String,
        /// How to fix it, worded to end the message, e.g. "rename it to `001_init.sql`".
        fix: String,
    },

    /// Fewer digits than the other migrations of the folder.
    #[error(
        "invalid migration name `{file}`: version `{digits}` is not zero-padded to {width} \
         digits like `{example}`; {fix}"
    )]
    NotZeroPadded {
        /// The file or directory as shown to users, e.g. `migrations/24_add_codec.sql`.
        file: String,
        /// The version as written, e.g. `24` in `24_add_codec.sql`.
        digits: String,
        /// The number of digits every version of the folder must have, e.g. `3`: the most common
        /// width, widened to fit every version and to at least [`MIN_DIGITS`].
        width: usize,
        /// The file or directory name of a migration whose version has `width` digits, e.g.
        /// `023_create_users.sql`.
        example: String,
        /// How to fix it, worded to end the message, e.g. "rename it to `024_add_codec.sql`".
        fix: String,
    },

    /// More digits than the other migrations of the folder (padding zeros to remove).
    #[error(
        "invalid migration name `{file}`: version `{digits}` has more digits than the {width} \
         of `{example}`; {fix}"
    )]
    TooManyDigits {
        /// The file or directory as shown to users, e.g. `migrations/0024_add_codec.sql`.
        file: String,
        /// The version as written, e.g. `0024` in `0024_add_codec.sql`.
        digits: String,
        /// The number of digits every version of the folder must have, e.g. `3`: the most common
        /// width, widened to fit every version and to at least [`MIN_DIGITS`].
        width: usize,
        /// The file or directory name of a migration whose version has `width` digits, e.g.
        /// `023_create_users.sql`.
        example: String,
        /// How to fix it, worded to end the message, e.g. "rename it to `024_add_codec.sql`".
        fix: String,
    },

    /// The version is followed by something other than `_`.
    #[error("invalid migration name `{file}`: the version must be followed by `_`, not `{found}`; {fix}")]
    BadSeparator {
        /// The file or directory as shown to users, e.g. `migrations/024-add-codec.sql`.
        file: String,
        /// The character after the version, e.g. `-` in `024-add-codec.sql`.
        found: char,
        /// How to fix it, worded to end the message, e.g. "rename it to `024_add_codec.sql`".
        fix: String,
    },

    /// Uppercase letters in the name.
    #[error("invalid migration name `{file}`: wrong case, names are lowercase snake_case; {fix}")]
    WrongCase {
        /// The file or directory as shown to users, e.g. `migrations/024_AddCodec.sql`.
        file: String,
        /// How to fix it, worded to end the message, e.g. "rename it to `024_add_codec.sql`".
        fix: String,
    },

    /// The name part breaks the snake_case rule.
    #[error("invalid migration name `{file}`: {}; {fix}", describe_fault(fault))]
    BadName {
        /// The file or directory as shown to users, e.g. `migrations/024_add-codec.sql`.
        file: String,
        /// The snake_case rule the name breaks; never [`NameFault::WrongCase`], which is
        /// [`Problem::WrongCase`].
        fault: NameFault,
        /// How to fix it, worded to end the message, e.g. "rename it to `024_add_codec.sql`", or a
        /// pattern such as `024_<name>` when no valid name can be made from the one written.
        fix: String,
    },

    /// `.SQL`, `.Sql`, ...
    #[error("invalid migration file `{file}`: the extension must be lowercase `.sql`; {fix}")]
    UppercaseExtension {
        /// The file or directory as shown to users, e.g. `migrations/024_add_codec.SQL`.
        file: String,
        /// How to fix it, worded to end the message, e.g. "rename it to `024_add_codec.sql`".
        fix: String,
    },

    /// Two or more migrations share a version.
    #[error(
        "duplicate migration version `{digits}` in {}: versions must be unique; renumber all \
         but one of them (the next free version is `{next_free}`)",
        list(files)
    )]
    DuplicateVersion {
        /// The shared version, zero-padded to the folder's width, e.g. `024`.
        digits: String,
        /// Every migration with that version, as shown to users and in name order, e.g.
        /// `migrations/024_add_codec.sql` and `migrations/024_add_users.sql`.
        files: Vec<String>,
        /// One more than the folder's largest version, zero-padded to its width, e.g. `031`.
        next_free: String,
    },

    /// A directory of a folder in diesel's layout whose name is not one of diesel's forms.
    #[error("invalid migration name `{file}`: {what}; {fix}")]
    DieselName {
        /// The directory as shown to users, e.g. `migrations/2017-13-01-000000_x`.
        file: String,
        /// What is wrong, e.g. "month 13 does not exist".
        what: String,
        /// How to fix it, worded to end the message, e.g. "rename it to
        /// `2017-08-31-230457_invitations`".
        fix: String,
    },

    /// Two directories of a folder in diesel's layout whose versions are one number.
    #[error(
        "{} have one version, `{version}`: diesel's `YYYYMMDDHHMMSS`, `YYYY-MM-DD-HHMMSS` and \
         `YYYY-MM-DD-HHMMSS-0000` spell the same time, and a tracking table keeps one row per \
         version; rename all but one of them (the next free name is `{next_free}`)",
        list(files)
    )]
    SameDieselVersion {
        /// The shared version as a number, `YYYYMMDDHHMMSSNNNN`.
        version: u64,
        /// Every directory with that version, as shown to users and in name order.
        files: Vec<String>,
        /// The last directory's name with the next free version, in diesel_cli 2.3's form,
        /// e.g. `2017-08-31-230457-0001_invitations`.
        next_free: String,
    },

    /// A `metadata.toml` that is not what diesel_migrations reads.
    #[error(
        "`{file}`: {what}; diesel_migrations reads one key: write `run_in_transaction = false` \
         to run the scripts outside a transaction, or delete the file to run them in one"
    )]
    BadMetadata {
        /// The file as shown to users, e.g. `migrations/2017-08-31-230457_x/metadata.toml`.
        file: String,
        /// What is wrong: an unknown key, a value that is not a boolean, or a TOML error.
        what: String,
    },

    /// A script that is not UTF-8.
    #[error("`{file}` is not valid UTF-8 (line {line}, column {column}); save it as UTF-8")]
    NotUtf8 {
        /// The script as shown to users, e.g. `migrations/024_add_codec.sql`.
        file: String,
        /// The 1-based line of the first byte that is not UTF-8.
        line: usize,
        /// The 1-based column of that byte, counted in bytes from the start of its line.
        column: usize,
    },

    /// A script over the size limit.
    #[error(
        "`{file}` is {} MiB, over the {} MiB a migration script may be; split it into several \
         migrations, or load bulk data another way",
        bytes / (1024 * 1024),
        crate::folder::MAX_SCRIPT_BYTES / (1024 * 1024)
    )]
    TooLarge {
        /// The script as shown to users, e.g. `migrations/024_load_codecs.sql`.
        file: String,
        /// The file's size in bytes, over [`MAX_SCRIPT_BYTES`](crate::folder::MAX_SCRIPT_BYTES) (16
        /// MiB).
        bytes: u64,
    },

    /// A NUL byte in a script.
    #[error(
        "`{file}` contains a NUL byte on line {line}, which databases reject in SQL; remove it"
    )]
    NulByte {
        /// The script as shown to users, e.g. `migrations/024_add_codec.sql`.
        file: String,
        /// The 1-based line of the first NUL byte.
        line: usize,
    },

    /// A forward script with no statement.
    #[error("migration `{file}` has no SQL: it is empty or holds only comments; write its SQL or delete it")]
    Empty {
        /// The forward script as shown to users, e.g. `migrations/024_add_codec.sql`,
        /// `migrations/024_add_codec/up.sql` or `migrations/024_add_codec/up.postgres.sql`.
        file: String,
    },

    /// A `down.sql` with no statement.
    #[error(
        "`{file}` has no SQL: it is empty or holds only comments; write the SQL that undoes \
         the migration, or delete the file to make the migration irreversible"
    )]
    EmptyDown {
        /// The backward script as shown to users, e.g. `migrations/024_add_codec/down.sql` or
        /// `migrations/024_add_codec/down.mysql.sql`.
        file: String,
    },

    /// A migration directory with no forward script.
    #[error(
        "migration directory `{dir}` has no `up.sql`; add `up.sql` with the migration's SQL, or \
         an `up.<backend>.sql` for each of postgres, mysql and sqlite"
    )]
    MissingUp {
        /// The migration directory as shown to users, e.g. `migrations/024_add_codec`.
        dir: String,
    },

    /// Backend variants without a default script for the other backends.
    #[error(
        "migration directory `{dir}` has no `{direction}.sql`, so {} would have no {direction} \
         script; add `{direction}.sql`, or one `{direction}.<backend>.sql` for each of them",
        missing.join(" and ")
    )]
    MissingDefault {
        /// The migration directory as shown to users, e.g. `migrations/024_add_codec`.
        dir: String,
        /// The direction that has only backend variants: `"up"` or `"down"`.
        direction: &'static str,
        /// The backends with no variant, named as in variant files and in the order of
        /// [`Backend::ALL`](crate::Backend::ALL), e.g. `["mysql", "sqlite"]`.
        missing: Vec<&'static str>,
    },

    /// A file in a migration directory that is not a script.
    #[error(
        "unknown file `{file}` in a migration directory, which holds only up.sql, down.sql and \
         their backend variants such as up.postgres.sql; {fix}"
    )]
    UnknownFile {
        /// The entry as shown to users, e.g. `migrations/024_add_codec/up.psql`; a subdirectory,
        /// such as `migrations/024_add_codec/data`, is one too.
        file: String,
        /// How to fix it, worded to end the message: "rename it to `up.sql`" with the script name
        /// closest to it (within three edits), else "move it out of the migrations folder".
        fix: String,
    },

    /// A `-- waterline:` directive waterline does not know.
    #[error(
        "unknown directive `{written}` in `{file}` line {line}; {}",
        directive_fix(suggestion)
    )]
    UnknownDirective {
        /// The script as shown to users, e.g. `migrations/024_add_codec.sql`.
        file: String,
        /// The 1-based line of the directive.
        line: usize,
        /// The directive as written, e.g. `-- waterline:no-transactions`.
        written: String,
        /// The directive closest to the one written (within three edits), in full, e.g.
        /// `-- waterline:no-transaction` or `-- waterline:allow(<lint>)`; `None` when none is that
        /// close.
        suggestion: Option<&'static str>,
    },

    /// `-- waterline:background` in a SQL script: only a migration written in Rust runs after
    /// start-up.
    #[error(
        "invalid directive `{written}` in `{file}` line {line}: only a migration written in \
         Rust can run in the background, where its batches commit one by one; write it as \
         `<version>_<name>.rs` with `// waterline:background`, or remove the directive"
    )]
    BackgroundInSql {
        /// The script as shown to users, e.g. `migrations/024_add_codec.sql`.
        file: String,
        /// The 1-based line of the directive.
        line: usize,
        /// The directive as written.
        written: String,
    },

    /// `-- waterline:statement-timeout(...)` without a duration.
    #[error(
        "invalid directive `{written}` in `{file}` line {line}: statement-timeout takes a \
         duration above zero, as in `-- waterline:statement-timeout(30s)` or `(2m)`"
    )]
    BadTimeout {
        /// The script as shown to users, e.g. `migrations/024_add_codec.sql`.
        file: String,
        /// The 1-based line of the directive.
        line: usize,
        /// The directive as written, e.g. `-- waterline:statement-timeout(30)`.
        written: String,
    },

    /// `-- waterline:allow(...)` without valid lint names.
    #[error(
        "invalid directive `{written}` in `{file}` line {line}: allow takes lint names in \
         kebab-case, as in `-- waterline:allow(drop-table)`"
    )]
    BadAllow {
        /// The script as shown to users, e.g. `migrations/024_add_codec.sql`.
        file: String,
        /// The 1-based line of the directive.
        line: usize,
        /// The directive as written, e.g. `-- waterline:allow(Drop_Table)`.
        written: String,
    },

    /// `-- waterline:allow(...)` naming a lint that does not exist.
    #[error(
        "unknown lint `{name}` in `{file}`; {}",
        suggestion.map(|s| format!("did you mean `{s}`?")).unwrap_or_else(|| format!("the lints are {}", crate::lint::RULES.iter().map(|r| format!("`{}`", r.name)).collect::<Vec<_>>().join(", ")))
    )]
    UnknownLint {
        /// The script whose `allow(...)` names the lint, e.g. `migrations/024_add_codec.sql`.
        file: String,
        /// The lint name as written, e.g. `drop-tables`.
        name: String,
        /// The rule name closest to it (within three edits), e.g. `drop-table`; `None` when none is
        /// that close.
        suggestion: Option<&'static str>,
    },

    /// A lint finding that fails the build: an error rule not allowed by its file, or any
    /// rule in strict mode.
    #[error("{finding}")]
    Lint {
        /// What was found: the rule, the script, the line and what the statement does.
        finding: crate::lint::Finding,
    },

    /// A directive after the first statement.
    #[error(
        "directive `{written}` in `{file}` line {line} comes after the first statement, where it \
         has no effect; move it to the top of the file"
    )]
    MisplacedDirective {
        /// The script as shown to users, e.g. `migrations/024_add_codec.sql`.
        file: String,
        /// The 1-based line of the directive, after the script's first statement.
        line: usize,
        /// The line as written, without its surrounding whitespace, e.g.
        /// `-- waterline:no-transaction`.
        written: String,
    },
}

impl Problem {
    /// The file or folder the problem is about (the first one, for duplicates).
    pub fn file(&self) -> &str {
        use Problem::*;
        match self {
            FolderMissing { folder } | NotAFolder { folder } | NoMigrations { folder } => folder,
            DuplicateVersion { files, .. } | SameDieselVersion { files, .. } => {
                files.first().map_or("", String::as_str)
            }
            MissingUp { dir } | MissingDefault { dir, .. } => dir,
            Unreadable { file, .. }
            | NonUtf8FileName { file }
            | SymlinkOutside { file, .. }
            | NoVersion { file, .. }
            | VersionTooLarge { file, .. }
            | TooFewDigits { file, .. }
            | NotZeroPadded { file, .. }
            | TooManyDigits { file, .. }
            | BadSeparator { file, .. }
            | WrongCase { file, .. }
            | BadName { file, .. }
            | DieselName { file, .. }
            | BadMetadata { file, .. }
            | UppercaseExtension { file, .. }
            | NotUtf8 { file, .. }
            | NulByte { file, .. }
            | TooLarge { file, .. }
            | Empty { file }
            | EmptyDown { file }
            | UnknownFile { file, .. }
            | UnknownDirective { file, .. }
            | BadAllow { file, .. }
            | BadTimeout { file, .. }
            | BackgroundInSql { file, .. }
            | UnknownLint { file, .. }
            | MisplacedDirective { file, .. } => file,
            Lint { finding } => &finding.file,
        }
    }
}

impl fmt::Display for NameFault {
    /// What the fault is, worded to follow a colon: "wrong case, names are lowercase
    /// snake_case".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&describe_fault(self))
    }
}

fn describe_fault(fault: &NameFault) -> String {
    match fault {
        NameFault::WrongCase => "wrong case, names are lowercase snake_case".to_owned(),
        NameFault::Empty => "no name after the version".to_owned(),
        NameFault::BadChar(' ') => {
            "a space is not allowed in a name (use a-z, 0-9 and `_`)".to_owned()
        }
        NameFault::BadChar(c) => format!("`{c}` is not allowed in a name (use a-z, 0-9 and `_`)"),
        NameFault::DoubleUnderscore => "a name cannot contain `__`".to_owned(),
        NameFault::TrailingUnderscore => "a name cannot end with `_`".to_owned(),
        NameFault::LeadingDigit => "a name must start with a letter".to_owned(),
    }
}

fn directive_fix(suggestion: &Option<&'static str>) -> String {
    match suggestion {
        Some(known) => format!("did you mean `{known}`?"),
        None => "the directives are `-- waterline:no-transaction`, `-- waterline:allow(<lint>)`, \
                 `-- waterline:expand`, `-- waterline:contract` and \
                 `-- waterline:statement-timeout(<duration>)`"
            .to_owned(),
    }
}

fn list(files: &[String]) -> String {
    let quoted: Vec<String> = files.iter().map(|file| format!("`{file}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => quoted.join(""),
    }
}

/// Every problem of a folder, in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    /// The problems, in file order.
    pub fn iter(&self) -> std::slice::Iter<'_, Problem> {
        self.0.iter()
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, problem) in self.0.iter().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

impl IntoIterator for Problems {
    type Item = Problem;
    type IntoIter = std::vec::IntoIter<Problem>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}
