//! The rules, and the checks that find them.

use std::collections::HashSet;

use sqlparser::ast::{
    AlterTable, AlterTableOperation, ColumnDef, ColumnOption, CreateIndex, CreateTable, DataType,
    ObjectName, ObjectType, Statement as Ast, TableConstraint,
};

use super::catalog::*;
use super::control::transaction_control;
use super::parse::{Parsed, Statement};
use super::{Context, Finding, Rule};
use crate::model::Backend;
use crate::sql_text;

/// Whether an error rule could fire on `sql`: each needs one of these words among a
/// statement's words (see [`sql_text::words`]), `add-not-null-without-default` needs both
/// `ALTER` and `NULL`, and `copy-from-stdin` and `psql-meta-command` a line starting with `\`.
/// False for most scripts, which then need not be parsed for a build.
pub fn may_break(sql: &str) -> bool {
    const ALONE: [&str; 15] = [
        // needs-no-transaction and implicit-transaction
        "CONCURRENTLY",
        "VALUE",
        "DATABASE",
        "SYSTEM",
        "TABLESPACE",
        "VACUUM",
        // transaction-control
        "BEGIN",
        "START",
        "COMMIT",
        "END",
        "ROLLBACK",
        "ABORT",
        "PREPARE",
        "XA",
        // copy-from-stdin
        "COPY",
    ];
    let (mut alter, mut null) = (false, false);
    for word in sql_text::words(sql) {
        if ALONE.contains(&word.as_ref()) {
            return true;
        }
        alter |= word == "ALTER";
        null |= word == "NULL";
        if alter && null {
            return true;
        }
    }
    starts_a_statement_with_a_backslash(sql)
}

/// Whether a `\` may begin a statement, as the splitter reads it: at the start of a line or
/// after a `;`, spaces aside (a psql meta-command). Errs towards true, inside a string too.
fn starts_a_statement_with_a_backslash(sql: &str) -> bool {
    sql.match_indices('\\').any(|(at, _)| {
        let before = sql[..at].trim_end_matches([' ', '\t', '\r']);
        before.is_empty() || before.ends_with(['\n', ';'])
    })
}

/// A table name as compared: lowercase, without quotes.
pub(super) fn key(name: &ObjectName) -> String {
    name.to_string().replace(['"', '`'], "").to_lowercase()
}

/// Runs every per-statement rule on one script.
pub fn check(ctx: &Context<'_>, statements: &[Statement]) -> Vec<Finding> {
    let created: HashSet<String> = statements
        .iter()
        .filter_map(|s| match &s.parsed {
            Parsed::Statement(Ast::CreateTable(CreateTable { name, .. })) => Some(key(name)),
            _ => None,
        })
        .collect();
    let located = !statements
        .iter()
        .any(|s| s.words.is_empty() && matches!(s.parsed, Parsed::Unreadable(_)));
    let mut findings = Vec::new();
    let mut explicit_transaction = false;
    for statement in statements {
        let finding = |rule: Rule, what: String| Finding {
            rule,
            file: ctx.script.path().to_owned(),
            line: statement.line,
            what,
        };
        if let Some(control) = transaction_control(&statement.words) {
            explicit_transaction = control.leaves_open;
            if ctx.in_transaction() {
                findings.push(finding(
                    TRANSACTION_CONTROL,
                    format!(
                        "`{}` in a file that runs in a transaction",
                        control.statement
                    ),
                ));
            }
        }
        if let Some((rule, what)) = client_only(statement) {
            findings.push(finding(rule, what));
        }
        if let Some(what) = needs_no_transaction(ctx, statement) {
            if ctx.in_transaction() {
                findings.push(finding(
                    NEEDS_NO_TRANSACTION,
                    format!("{what} in a file that runs in a transaction"),
                ));
            } else if ctx.runs_on(Backend::Postgres) && (explicit_transaction || !located) {
                findings.push(finding(
                    IMPLICIT_TRANSACTION,
                    format!("{what} inside a transaction"),
                ));
            }
        }
        let adds_enum_value = statement.starts_with(&["ALTER", "TYPE"])
            && statement.has_word("ADD")
            && statement.has_word("VALUE");
        if adds_enum_value && ctx.runs_on(Backend::Postgres) && ctx.in_transaction() {
            findings.push(finding(
                ENUM_VALUE_IN_TRANSACTION,
                "`ALTER TYPE ... ADD VALUE` in a file that runs in a transaction".to_owned(),
            ));
        }
        let Parsed::Statement(parsed) = &statement.parsed else {
            continue;
        };
        for (rule, what) in statement_rules(ctx, parsed, &created) {
            findings.push(finding(rule, what));
        }
    }
    findings
}

/// A statement only psql can run: `COPY ... FROM STDIN`, or a psql meta-command (a statement
/// starting with `\`, see [`crate::statements::split`]) other than the `\.` that ends
/// `COPY` rows.
fn client_only(statement: &Statement) -> Option<(Rule, String)> {
    let Some(command) = statement.text.strip_prefix('\\') else {
        return copies_from_stdin(statement)
            .then(|| (COPY_FROM_STDIN, "`COPY ... FROM STDIN`".to_owned()));
    };
    let name = command
        .split(char::is_whitespace)
        .next()
        .unwrap_or_default();
    match name {
        "." => None,
        copy if copy.eq_ignore_ascii_case("copy") => {
            Some((COPY_FROM_STDIN, "psql's `\\copy`".to_owned()))
        }
        _ => Some((PSQL_META_COMMAND, format!("psql's `\\{name}`"))),
    }
}

/// `COPY ... FROM STDIN`: `STDIN` unquoted right after `FROM` (`'stdin'` is a server file).
fn copies_from_stdin(statement: &Statement) -> bool {
    if !statement.starts_with(&["COPY"]) {
        return false;
    }
    let bare = |word: &str| {
        let word = word.trim_end_matches(|c: char| !c.is_alphanumeric());
        word.to_ascii_uppercase()
    };
    let words: Vec<String> = statement.text.split_whitespace().map(bare).collect();
    words.windows(2).any(|pair| pair == ["FROM", "STDIN"])
}

/// What the statement is, when it cannot run inside a transaction on a backend that runs it.
fn needs_no_transaction(ctx: &Context<'_>, s: &Statement) -> Option<String> {
    if ctx.runs_on(Backend::Postgres) {
        let postgres = [
            (
                s.starts_with(&["CREATE"]) && s.has_word("INDEX") && s.has_word("CONCURRENTLY"),
                "`CREATE INDEX CONCURRENTLY`",
            ),
            (
                s.starts_with(&["DROP", "INDEX", "CONCURRENTLY"]),
                "`DROP INDEX CONCURRENTLY`",
            ),
            (
                s.starts_with(&["REINDEX"]) && s.has_word("CONCURRENTLY"),
                "`REINDEX CONCURRENTLY`",
            ),
            (
                s.starts_with(&["CREATE", "DATABASE"]) || s.starts_with(&["DROP", "DATABASE"]),
                "`CREATE`/`DROP DATABASE`",
            ),
            (s.starts_with(&["ALTER", "SYSTEM"]), "`ALTER SYSTEM`"),
            (
                s.starts_with(&["CREATE", "TABLESPACE"]) || s.starts_with(&["DROP", "TABLESPACE"]),
                "`CREATE`/`DROP TABLESPACE`",
            ),
        ];
        if let Some((_, what)) = postgres.iter().find(|(hit, _)| *hit) {
            return Some((*what).to_owned());
        }
    }
    let vacuum_backend = ctx.runs_on(Backend::Postgres) || ctx.runs_on(Backend::Sqlite);
    (vacuum_backend && s.starts_with(&["VACUUM"])).then(|| "`VACUUM`".to_owned())
}

/// The rules read from a parsed statement.
fn statement_rules(
    ctx: &Context<'_>,
    parsed: &Ast,
    created: &HashSet<String>,
) -> Vec<(Rule, String)> {
    let mut found = Vec::new();
    let existing = |name: &ObjectName| !created.contains(&key(name));
    let postgres = ctx.runs_on(Backend::Postgres);
    match parsed {
        Ast::AlterTable(AlterTable {
            name, operations, ..
        }) => {
            for operation in operations {
                alter_rules(ctx, name, operation, existing(name), &mut found);
            }
        }
        Ast::CreateIndex(CreateIndex {
            concurrently: false,
            table_name,
            ..
        }) if postgres && !ctx.down && existing(table_name) => {
            found.push((
                INDEX_WITHOUT_CONCURRENTLY,
                format!("`CREATE INDEX` on existing table `{table_name}`"),
            ));
        }
        Ast::Drop {
            object_type: ObjectType::Table,
            names,
            if_exists,
            ..
        } => {
            let name = names
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            if !ctx.down && names.iter().any(existing) {
                found.push((DROP_TABLE, format!("`DROP TABLE {name}`")));
            }
            if ctx.runs_on(Backend::Mysql) && !if_exists {
                found.push((
                    NON_IDEMPOTENT_DDL,
                    format!("`DROP TABLE {name}` without IF EXISTS"),
                ));
            }
        }
        Ast::RenameTable(renames) if !ctx.down => {
            for rename in renames {
                found.push((
                    RENAME_TABLE,
                    format!("`RENAME TABLE {} TO {}`", rename.old_name, rename.new_name),
                ));
            }
        }
        Ast::CreateTable(CreateTable {
            name,
            if_not_exists: false,
            ..
        }) if ctx.runs_on(Backend::Mysql) => {
            found.push((
                NON_IDEMPOTENT_DDL,
                format!("`CREATE TABLE {name}` without IF NOT EXISTS"),
            ));
        }
        _ => {}
    }
    found
}

fn alter_rules(
    ctx: &Context<'_>,
    table: &ObjectName,
    operation: &AlterTableOperation,
    existing: bool,
    found: &mut Vec<(Rule, String)>,
) {
    match operation {
        AlterTableOperation::AddColumn { column_def, .. }
            if existing
                && adds_not_null_without_default(column_def)
                && (ctx.runs_on(Backend::Postgres) || ctx.runs_on(Backend::Sqlite)) =>
        {
            let what = format!(
                "`ADD COLUMN {} ... NOT NULL` with no DEFAULT on existing table `{table}`",
                column_def.name
            );
            found.push((ADD_NOT_NULL_WITHOUT_DEFAULT, what));
        }
        AlterTableOperation::DropColumn { column_names, .. } if !ctx.down => {
            let names = column_names
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            found.push((DROP_COLUMN, format!("`DROP COLUMN {names}` on `{table}`")));
        }
        AlterTableOperation::RenameColumn {
            old_column_name,
            new_column_name,
        } if !ctx.down => {
            found.push((
                RENAME_COLUMN,
                format!("`RENAME COLUMN {old_column_name} TO {new_column_name}` on `{table}`"),
            ));
        }
        AlterTableOperation::RenameTable { .. } if !ctx.down => {
            found.push((RENAME_TABLE, format!("renaming table `{table}`")));
        }
        AlterTableOperation::AddConstraint {
            constraint: TableConstraint::ForeignKey(_),
            not_valid: false,
        } if existing && ctx.runs_on(Backend::Postgres) && !ctx.down => {
            found.push((
                FOREIGN_KEY_WITHOUT_NOT_VALID,
                format!("a foreign key added to existing table `{table}`"),
            ));
        }
        _ => {}
    }
}

/// A column that is NOT NULL, has no DEFAULT, and gets no value any other way.
pub(super) fn adds_not_null_without_default(column: &ColumnDef) -> bool {
    let has =
        |test: fn(&ColumnOption) -> bool| column.options.iter().any(|option| test(&option.option));
    let serial =
        matches!(&column.data_type, DataType::Custom(name, _) if key(name).ends_with("serial"));
    has(|o| matches!(o, ColumnOption::NotNull))
        && !has(|o| {
            matches!(
                o,
                ColumnOption::Default(_)
                    | ColumnOption::Generated { .. }
                    | ColumnOption::Identity(_)
            )
        })
        && !serial
}
