//! The rules: each one's name, severity, why it matters and the fix. Known without a parser,
//! so `-- waterline:allow(<rule>)` is checked even where the lints do not run.

use super::{Rule, Severity};

/// A statement that cannot run inside a transaction, in a file that runs in one.
pub const NEEDS_NO_TRANSACTION: Rule = Rule {
    name: "needs-no-transaction",
    severity: Severity::Error,
    why:
        "it cannot run inside a transaction, and waterline runs this file in one, so the migration \
          always fails",
    fix: "add `-- waterline:no-transaction` at the top of the file",
};

/// A statement that cannot run inside a transaction, still in one in a no-transaction file.
pub const IMPLICIT_TRANSACTION: Rule = Rule {
    name: "implicit-transaction",
    severity: Severity::Error,
    why: "it cannot run inside a transaction, but here it still runs in one: between a BEGIN and \
          its COMMIT, or in a single batch because the file's statements could not be told apart",
    fix: "remove the BEGIN and COMMIT around it, or move it to a file of its own",
};

/// `ADD COLUMN ... NOT NULL` with no `DEFAULT` on an existing table.
pub const ADD_NOT_NULL_WITHOUT_DEFAULT: Rule = Rule {
    name: "add-not-null-without-default",
    severity: Severity::Error,
    why:
        "a NOT NULL column with no DEFAULT cannot be added to a table that has rows (and never on \
          SQLite), so this fails in production even if it passes on an empty test database",
    fix: "give the column a DEFAULT, or add it nullable, fill it, and set NOT NULL in a later \
          migration",
};

/// A statement that starts, ends or hands over a transaction (`BEGIN`, `COMMIT`, `END`,
/// `ABORT`, `ROLLBACK`, `PREPARE TRANSACTION`, MySQL's `XA ...`) in a file the runner wraps in a
/// transaction.
pub const TRANSACTION_CONTROL: Rule = Rule {
    name: "transaction-control",
    severity: Severity::Error,
    why: "waterline already runs this file in a transaction with its tracking row; starting, \
          ending or preparing a transaction here commits the migration without its record, or \
          records it without its changes",
    fix:
        "remove the statement, or add `-- waterline:no-transaction` to manage transactions yourself",
};

/// `COPY ... FROM STDIN` or psql's `\copy`, whose rows only psql sends.
pub const COPY_FROM_STDIN: Rule = Rule {
    name: "copy-from-stdin",
    severity: Severity::Error,
    why: "only psql sends the rows for it (the lines after it, or a file on the client), and \
          waterline sends the file through a database driver, so the rows never arrive: the \
          server waits for them or the statement fails",
    fix: "put the rows in INSERT statements, or COPY from a server-side file with \
          `COPY t FROM '/path'`, or load the data in application code",
};

/// A line starting with `\`: a command of the psql client, not SQL.
pub const PSQL_META_COMMAND: Rule = Rule {
    name: "psql-meta-command",
    severity: Severity::Error,
    why: "it is a command of the psql client, not SQL, and waterline sends the file through a \
          database driver, so the server gets it as SQL and the migration fails",
    fix: "remove it, or write in SQL what it does (for `\\i other.sql`, the statements of that \
          file)",
};

/// `ALTER TYPE ... ADD VALUE` in a file that runs in a transaction (PostgreSQL).
pub const ENUM_VALUE_IN_TRANSACTION: Rule = Rule {
    name: "enum-value-in-transaction",
    severity: Severity::Advice,
    why:
        "PostgreSQL 12 and later add an enum value inside a transaction, but the new value cannot \
          be used until the transaction commits, and PostgreSQL 11 refuses the statement in a \
          transaction altogether",
    fix: "use the new value only in a later migration; on PostgreSQL 11 add \
          `-- waterline:no-transaction` at the top of the file",
};

/// `DROP TABLE` in a forward migration.
pub const DROP_TABLE: Rule = Rule {
    name: "drop-table",
    severity: Severity::Advice,
    why: "its data is gone for good, and the code still deployed while the migration runs may read it",
    fix: "drop it in a later release, once no deployed code uses it and it is backed up",
};

/// `DROP COLUMN` in a forward migration.
pub const DROP_COLUMN: Rule = Rule {
    name: "drop-column",
    severity: Severity::Advice,
    why: "its data is gone for good, and the code still deployed while the migration runs may read it",
    fix: "stop using the column first, and drop it in a later release",
};

/// Renaming a table.
pub const RENAME_TABLE: Rule = Rule {
    name: "rename-table",
    severity: Severity::Advice,
    why: "code still deployed uses the old name and fails from the moment this commits",
    fix:
        "add the new table, move readers and writers to it, and drop the old one in a later release",
};

/// Renaming a column.
pub const RENAME_COLUMN: Rule = Rule {
    name: "rename-column",
    severity: Severity::Advice,
    why: "code still deployed uses the old name and fails from the moment this commits",
    fix: "add the new column, write both, move readers, and drop the old one in a later release",
};

/// `CREATE INDEX` without `CONCURRENTLY` on an existing PostgreSQL table.
pub const INDEX_WITHOUT_CONCURRENTLY: Rule = Rule {
    name: "index-without-concurrently",
    severity: Severity::Advice,
    why: "on PostgreSQL, CREATE INDEX blocks every write to the table until the index is built",
    fix: "use CREATE INDEX CONCURRENTLY, in a file with `-- waterline:no-transaction`",
};

/// A foreign key added to an existing PostgreSQL table without `NOT VALID`.
pub const FOREIGN_KEY_WITHOUT_NOT_VALID: Rule = Rule {
    name: "foreign-key-without-not-valid",
    severity: Severity::Advice,
    why:
        "on PostgreSQL, adding a foreign key checks every row while it blocks writes to both tables",
    fix: "add it NOT VALID, then VALIDATE CONSTRAINT in a later migration",
};

/// A `down.sql` that leaves something its `up.sql` created.
pub const DOWN_DOES_NOT_UNDO: Rule = Rule {
    name: "down-does-not-undo",
    severity: Severity::Advice,
    why: "reverting leaves it behind, so applying the migration again fails",
    fix: "drop it in down.sql",
};

/// DDL that fails when run twice, in a script MySQL runs.
pub const NON_IDEMPOTENT_DDL: Rule = Rule {
    name: "non-idempotent-ddl",
    severity: Severity::Advice,
    why:
        "MySQL commits DDL at once, so a migration that fails part-way keeps this, and running it \
          again after the fix fails here",
    fix: "write IF NOT EXISTS (CREATE) or IF EXISTS (DROP)",
};

/// Every rule, errors first.
pub const RULES: [Rule; 15] = [
    NEEDS_NO_TRANSACTION,
    IMPLICIT_TRANSACTION,
    ADD_NOT_NULL_WITHOUT_DEFAULT,
    TRANSACTION_CONTROL,
    COPY_FROM_STDIN,
    PSQL_META_COMMAND,
    ENUM_VALUE_IN_TRANSACTION,
    DROP_TABLE,
    DROP_COLUMN,
    RENAME_TABLE,
    RENAME_COLUMN,
    INDEX_WITHOUT_CONCURRENTLY,
    FOREIGN_KEY_WITHOUT_NOT_VALID,
    DOWN_DOES_NOT_UNDO,
    NON_IDEMPOTENT_DDL,
];
