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
    FolderMissing { folder: String },

    /// The path is a file, not a folder.
    #[error("`{folder}` is not a folder; pass the path of the folder that holds the migrations")]
    NotAFolder { folder: String },

    /// The folder holds nothing that is a migration.
    #[error("migrations folder `{folder}` holds no migrations; add one named like `001_create_users.sql`")]
    NoMigrations { folder: String },

    /// A file or directory could not be read.
    #[error("cannot read `{file}`: {reason}; check that it exists and is readable")]
    Unreadable { file: String, reason: String },

    /// A file name that is not UTF-8.
    #[error("file name `{file}` is not valid UTF-8; rename it to `<version>_<name>.sql` in ASCII")]
    NonUtf8FileName { file: String },

    /// A symbolic link that leads out of the folder.
    #[error(
        "`{file}` is a symlink to `{target}`, outside the migrations folder; copy the \
         migration into the folder instead"
    )]
    SymlinkOutside { file: String, target: String },

    /// No leading digits: `add_codec.sql`.
    #[error("invalid migration name `{file}`: no version prefix; {fix}")]
    NoVersion { file: String, fix: String },

    /// A version a tracking table cannot store.
    #[error(
        "invalid migration name `{file}`: version `{digits}` is larger than {MAX_VERSION}, the \
         largest a tracking table can store; use a smaller version"
    )]
    VersionTooLarge { file: String, digits: String },

    /// Fewer than three digits, with no wider version beside it.
    #[error(
        "invalid migration name `{file}`: version `{digits}` has fewer than {MIN_DIGITS} digits, \
         so name order would not be version order; {fix}"
    )]
    TooFewDigits {
        file: String,
        digits: String,
        fix: String,
    },

    /// Fewer digits than the other migrations of the folder.
    #[error(
        "invalid migration name `{file}`: version `{digits}` is not zero-padded to {width} \
         digits like `{example}`; {fix}"
    )]
    NotZeroPadded {
        file: String,
        digits: String,
        width: usize,
        example: String,
        fix: String,
    },

    /// More digits than the other migrations of the folder (padding zeros to remove).
    #[error(
        "invalid migration name `{file}`: version `{digits}` has more digits than the {width} \
         of `{example}`; {fix}"
    )]
    TooManyDigits {
        file: String,
        digits: String,
        width: usize,
        example: String,
        fix: String,
    },

    /// The version is followed by something other than `_`.
    #[error("invalid migration name `{file}`: the version must be followed by `_`, not `{found}`; {fix}")]
    BadSeparator {
        file: String,
        found: char,
        fix: String,
    },

    /// Uppercase letters in the name.
    #[error("invalid migration name `{file}`: wrong case, names are lowercase snake_case; {fix}")]
    WrongCase { file: String, fix: String },

    /// The name part breaks the snake_case rule.
    #[error("invalid migration name `{file}`: {}; {fix}", describe_fault(fault))]
    BadName {
        file: String,
        fault: NameFault,
        fix: String,
    },

    /// `.SQL`, `.Sql`, ...
    #[error("invalid migration file `{file}`: the extension must be lowercase `.sql`; {fix}")]
    UppercaseExtension { file: String, fix: String },

    /// Two or more migrations share a version.
    #[error(
        "duplicate migration version `{digits}` in {}: versions must be unique; renumber all \
         but one of them (the next free version is `{next_free}`)",
        list(files)
    )]
    DuplicateVersion {
        digits: String,
        files: Vec<String>,
        next_free: String,
    },

    /// A script that is not UTF-8.
    #[error("`{file}` is not valid UTF-8 (line {line}, column {column}); save it as UTF-8")]
    NotUtf8 {
        file: String,
        line: usize,
        column: usize,
    },

    /// A script over the size limit.
    #[error(
        "`{file}` is {} MiB, over the {} MiB a migration script may be; split it into several \
         migrations, or load bulk data another way",
        bytes / (1024 * 1024),
        crate::folder::MAX_SCRIPT_BYTES / (1024 * 1024)
    )]
    TooLarge { file: String, bytes: u64 },

    /// A NUL byte in a script.
    #[error(
        "`{file}` contains a NUL byte on line {line}, which databases reject in SQL; remove it"
    )]
    NulByte { file: String, line: usize },

    /// A forward script with no statement.
    #[error("migration `{file}` has no SQL: it is empty or holds only comments; write its SQL or delete it")]
    Empty { file: String },

    /// A `down.sql` with no statement.
    #[error(
        "`{file}` has no SQL: it is empty or holds only comments; write the SQL that undoes \
         the migration, or delete the file to make the migration irreversible"
    )]
    EmptyDown { file: String },

    /// A migration directory with no forward script.
    #[error(
        "migration directory `{dir}` has no `up.sql`; add `up.sql` with the migration's SQL, or \
         an `up.<backend>.sql` for each of postgres, mysql and sqlite"
    )]
    MissingUp { dir: String },

    /// Backend variants without a default script for the other backends.
    #[error(
        "migration directory `{dir}` has no `{direction}.sql`, so {} would have no {direction} \
         script; add `{direction}.sql`, or one `{direction}.<backend>.sql` for each of them",
        missing.join(" and ")
    )]
    MissingDefault {
        dir: String,
        direction: &'static str,
        missing: Vec<&'static str>,
    },

    /// A file in a migration directory that is not a script.
    #[error(
        "unknown file `{file}` in a migration directory, which holds only up.sql, down.sql and \
         their backend variants such as up.postgres.sql; {fix}"
    )]
    UnknownFile { file: String, fix: String },

    /// A `-- waterline:` directive waterline does not know.
    #[error(
        "unknown directive `{written}` in `{file}` line {line}; {}",
        directive_fix(suggestion)
    )]
    UnknownDirective {
        file: String,
        line: usize,
        written: String,
        suggestion: Option<&'static str>,
    },

    /// `-- waterline:allow(...)` without valid lint names.
    #[error(
        "invalid directive `{written}` in `{file}` line {line}: allow takes lint names in \
         kebab-case, as in `-- waterline:allow(drop-table)`"
    )]
    BadAllow {
        file: String,
        line: usize,
        written: String,
    },

    /// `-- waterline:allow(...)` naming a lint that does not exist.
    #[error(
        "unknown lint `{name}` in `{file}`; {}",
        suggestion.map(|s| format!("did you mean `{s}`?")).unwrap_or_else(|| format!("the lints are {}", crate::lint::RULES.iter().map(|r| format!("`{}`", r.name)).collect::<Vec<_>>().join(", ")))
    )]
    UnknownLint {
        file: String,
        name: String,
        suggestion: Option<&'static str>,
    },

    /// A lint finding that fails the build: an error rule not allowed by its file, or any
    /// rule in strict mode.
    #[error("{finding}")]
    Lint { finding: crate::lint::Finding },

    /// A directive after the first statement.
    #[error(
        "directive `{written}` in `{file}` line {line} comes after the first statement, where it \
         has no effect; move it to the top of the file"
    )]
    MisplacedDirective {
        file: String,
        line: usize,
        written: String,
    },
}

impl Problem {
    /// The file or folder the problem is about (the first one, for duplicates).
    pub fn file(&self) -> &str {
        use Problem::*;
        match self {
            FolderMissing { folder } | NotAFolder { folder } | NoMigrations { folder } => folder,
            DuplicateVersion { files, .. } => files.first().map_or("", String::as_str),
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
            | UppercaseExtension { file, .. }
            | NotUtf8 { file, .. }
            | NulByte { file, .. }
            | TooLarge { file, .. }
            | Empty { file }
            | EmptyDown { file }
            | UnknownFile { file, .. }
            | UnknownDirective { file, .. }
            | BadAllow { file, .. }
            | UnknownLint { file, .. }
            | MisplacedDirective { file, .. } => file,
            Lint { finding } => &finding.file,
        }
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
        None => "the directives are `-- waterline:no-transaction` and `-- waterline:allow(<lint>)`"
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
