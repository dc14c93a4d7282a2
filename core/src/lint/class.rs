//! Expand or contract: whether the binaries built before a migration still work on the
//! schema after it. An *expand* migration only adds (a table, a nullable column or one with
//! a default, an index, a constraint added `NOT VALID`, rows); a *contract* migration takes
//! away or changes what older code may use (a drop, a rename, a type change, `NOT NULL` on an
//! existing column, a validated constraint). Anything the analysis cannot read is a contract:
//! an old binary is refused rather than booted on a guess. `-- waterline:expand` or
//! `-- waterline:contract` at the top of an up script says it outright.

use sqlparser::ast::{
    AlterColumnOperation, AlterTable, AlterTableOperation, CreateTable, CreateView,
    Statement as Ast,
};

use super::parse::{self, Parsed, Statement};
use super::rules::adds_not_null_without_default;
use crate::model::{Backend, Class, Migration, Script};

/// The class of `migration`: what a directive of its up scripts says, else a contract when
/// any statement of any of them is one.
pub fn classify(migration: &Migration) -> Class {
    let up = migration.up();
    let scripts: Vec<&Script> = up
        .default_script()
        .into_iter()
        .chain(up.variants().iter().map(|v| v.script()))
        .collect();
    let declared: Vec<Class> = scripts
        .iter()
        .filter_map(|s| s.directives().class())
        .collect();
    if !declared.is_empty() {
        return if declared.contains(&Class::Contract) {
            Class::Contract
        } else {
            Class::Expand
        };
    }
    // What Rust code does cannot be read: a contract unless it says otherwise.
    if migration.is_rust() {
        return Class::Contract;
    }
    let contract = scripts.iter().any(|script| {
        parse::statements(script, &Backend::ALL)
            .iter()
            .any(|statement| statement_class(statement) == Class::Contract)
    });
    if contract {
        Class::Contract
    } else {
        Class::Expand
    }
}

/// The class of one statement.
fn statement_class(statement: &Statement) -> Class {
    let ast = match &statement.parsed {
        // Rows written or read: the schema older code uses is as it was.
        Parsed::Data => return Class::Expand,
        Parsed::Unreadable(_) => return Class::Contract,
        Parsed::Statement(ast) => ast,
    };
    let expand = match ast {
        Ast::CreateTable(CreateTable { or_replace, .. }) => !or_replace,
        Ast::CreateView(CreateView {
            or_replace,
            or_alter,
            ..
        }) => !or_replace && !or_alter,
        Ast::CreateIndex(_)
        | Ast::CreateSchema { .. }
        | Ast::CreateSequence { .. }
        | Ast::CreateType { .. }
        | Ast::CreateExtension(_)
        | Ast::Comment { .. }
        | Ast::Grant(_) => true,
        Ast::AlterTable(AlterTable { operations, .. }) => operations.iter().all(expands),
        _ => false,
    };
    if expand {
        Class::Expand
    } else {
        Class::Contract
    }
}

/// Whether an `ALTER TABLE` operation only adds to what older code may use.
fn expands(operation: &AlterTableOperation) -> bool {
    match operation {
        // A `NOT NULL` column without a default: older code that inserts rows without it fails.
        AlterTableOperation::AddColumn { column_def, .. } => {
            !adds_not_null_without_default(column_def)
        }
        AlterTableOperation::AddConstraint { not_valid, .. } => *not_valid,
        AlterTableOperation::AlterColumn { op, .. } => matches!(
            op,
            AlterColumnOperation::DropNotNull | AlterColumnOperation::SetDefault { .. }
        ),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::model::Class;

    fn class_of(up: &str) -> Class {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("001_x.sql"), up).unwrap();
        crate::read_folder(dir.path(), "migrations").unwrap()[0].class()
    }

    #[test]
    fn what_only_adds_is_expand() {
        for up in [
            "CREATE TABLE t (id INTEGER NOT NULL);",
            "ALTER TABLE t ADD COLUMN note TEXT;",
            "ALTER TABLE t ADD COLUMN n INTEGER NOT NULL DEFAULT 0;",
            "CREATE INDEX t_id ON t (id);",
            "ALTER TABLE t ADD CONSTRAINT t_fk FOREIGN KEY (u) REFERENCES u (id) NOT VALID;",
            "ALTER TABLE t ALTER COLUMN note DROP NOT NULL;",
            "INSERT INTO t (id) VALUES (1);\nUPDATE t SET note = 'x';",
            "CREATE VIEW v AS SELECT id FROM t;",
        ] {
            assert_eq!(class_of(up), Class::Expand, "{up}");
        }
    }

    #[test]
    fn what_takes_away_or_changes_is_contract() {
        for up in [
            "DROP TABLE t;",
            "ALTER TABLE t DROP COLUMN note;",
            "ALTER TABLE t RENAME COLUMN note TO body;",
            "ALTER TABLE t RENAME TO u;",
            "ALTER TABLE t ALTER COLUMN note SET NOT NULL;",
            "ALTER TABLE t ALTER COLUMN id TYPE BIGINT;",
            "ALTER TABLE t ADD COLUMN n INTEGER NOT NULL;",
            "ALTER TABLE t ADD CONSTRAINT t_fk FOREIGN KEY (u) REFERENCES u (id);",
            "CREATE OR REPLACE VIEW v AS SELECT 1 AS id;",
            "TRUNCATE t;",
            "CREATE TABLE t (id INTEGER);\nDROP INDEX old_index;",
        ] {
            assert_eq!(class_of(up), Class::Contract, "{up}");
        }
    }

    #[test]
    fn a_directive_says_it_outright() {
        assert_eq!(
            class_of("-- waterline:expand\nALTER TABLE t ALTER COLUMN id TYPE BIGINT;"),
            Class::Expand
        );
        assert_eq!(
            class_of("-- waterline:contract\nCREATE TABLE t (id INTEGER);"),
            Class::Contract
        );
    }
}
