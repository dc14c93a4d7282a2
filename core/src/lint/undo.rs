//! `down-does-not-undo`: objects the default `up.sql` of a directory migration creates and its
//! `down.sql` leaves behind. A down undoes an object by dropping it, by dropping what holds it
//! (the table or materialized view of an index, a schema dropped with `CASCADE`), or by
//! dropping it under the name a rename gave it; up leaves nothing behind of a temporary table
//! or of a table it drops itself.

use std::collections::{HashMap, HashSet};

use sqlparser::ast::{
    AlterTable, AlterTableOperation, CreateIndex, CreateTable, ObjectName, ObjectType,
    RenameTableNameKind, Statement as Ast,
};

use super::catalog::DOWN_DOES_NOT_UNDO;
use super::parse::{self, Parsed, Statement};
use super::rules::key;
use super::Finding;
use crate::model::{Backend, Migration};

/// Objects the default `up.sql` creates and the default `down.sql` leaves.
pub fn down_does_not_undo(migration: &Migration) -> Vec<Finding> {
    let (Some(up), Some(down)) = (
        migration.up().default_script(),
        migration.down().default_script(),
    ) else {
        return Vec::new();
    };
    let backends = Backend::ALL;
    let undone = Undone::by(&parse::statements(down, &backends));
    let up_statements = parse::statements(up, &backends);
    let kept = Kept::by(&up_statements);
    let mut findings = Vec::new();
    for statement in &up_statements {
        let mut left = |what: String| {
            findings.push(Finding {
                rule: DOWN_DOES_NOT_UNDO,
                file: up.path().to_owned(),
                line: statement.line,
                what: format!("{what} created here is not dropped by `{}`", down.path()),
            });
        };
        let Parsed::Statement(ast) = &statement.parsed else {
            continue;
        };
        match ast {
            Ast::CreateTable(CreateTable {
                name, temporary, ..
            }) if !temporary && kept.table(name) && !undone.table(&kept.final_name(name)) => {
                left(format!("table `{name}`"));
            }
            Ast::CreateIndex(CreateIndex {
                name: Some(name),
                table_name,
                ..
            }) if kept.table(table_name)
                && !undone.index(name)
                && !undone.table(&kept.final_name(table_name)) =>
            {
                left(format!("index `{name}`"));
            }
            Ast::AlterTable(AlterTable {
                name, operations, ..
            }) if kept.table(name) && !undone.table(&kept.final_name(name)) => {
                for operation in operations {
                    if let AlterTableOperation::AddColumn { column_def, .. } = operation {
                        let column = column_def.name.value.to_lowercase();
                        if !undone.column(&kept.final_name(name), &column) {
                            left(format!("column `{}`", column_def.name));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    findings
}

/// What a `down.sql` drops.
#[derive(Default)]
struct Undone {
    /// Tables, views and materialized views: what goes with them goes too.
    tables: HashSet<String>,
    indexes: HashSet<String>,
    /// `table.column`.
    columns: HashSet<String>,
    /// Schemas dropped with `CASCADE`.
    schemas: HashSet<String>,
}

impl Undone {
    fn by(statements: &[Statement]) -> Undone {
        let mut undone = Undone::default();
        // Renames in the down, from the new name back to the name up gave it.
        let mut renamed_from: HashMap<String, String> = HashMap::new();
        let original = |renamed_from: &HashMap<String, String>, name: String| {
            renamed_from.get(&name).cloned().unwrap_or(name)
        };
        for statement in statements {
            match &statement.parsed {
                Parsed::Statement(Ast::Drop {
                    object_type,
                    names,
                    cascade,
                    ..
                }) => {
                    let names = names.iter().map(|n| original(&renamed_from, key(n)));
                    match object_type {
                        ObjectType::Table | ObjectType::View | ObjectType::MaterializedView => {
                            undone.tables.extend(names)
                        }
                        ObjectType::Index => undone.indexes.extend(names),
                        ObjectType::Schema if *cascade => undone.schemas.extend(names),
                        _ => {}
                    }
                }
                Parsed::Statement(Ast::AlterTable(AlterTable {
                    name, operations, ..
                })) => {
                    let table = original(&renamed_from, key(name));
                    for operation in operations {
                        match operation {
                            AlterTableOperation::DropColumn { column_names, .. } => {
                                undone.columns.extend(
                                    column_names
                                        .iter()
                                        .map(|c| format!("{table}.{}", c.value.to_lowercase())),
                                );
                            }
                            AlterTableOperation::RenameTable { table_name } => {
                                renamed_from.insert(new_name(table_name), table.clone());
                            }
                            _ => {}
                        }
                    }
                }
                Parsed::Unreadable(_) => undone.read_words(&statement.text),
                _ => {}
            }
        }
        undone
    }

    /// The drops of a statement the parser could not read, such as PostgreSQL's
    /// `DROP INDEX CONCURRENTLY`, from its words.
    fn read_words(&mut self, text: &str) {
        let tokens: Vec<&str> = text
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|t| !t.is_empty())
            .collect();
        let upper: Vec<String> = tokens.iter().map(|t| t.to_uppercase()).collect();
        let is = |at: usize, word: &str| upper.get(at).is_some_and(|w| w == word);
        if !is(0, "DROP") {
            return;
        }
        let (kind, mut at) = match () {
            _ if is(1, "INDEX") => ("index", 2),
            _ if is(1, "TABLE") | is(1, "VIEW") => ("table", 2),
            _ if is(1, "MATERIALIZED") && is(2, "VIEW") => ("table", 3),
            _ if is(1, "SCHEMA") => ("schema", 2),
            _ => return,
        };
        for optional in ["CONCURRENTLY", "IF", "EXISTS"] {
            if is(at, optional) {
                at += 1;
            }
        }
        let cascade = upper.iter().any(|w| w == "CASCADE");
        let names = tokens[at..]
            .iter()
            .zip(&upper[at..])
            .take_while(|(_, word)| !matches!(word.as_str(), "CASCADE" | "RESTRICT" | "ON"))
            .map(|(name, _)| name.replace(['"', '`'], "").to_lowercase());
        match kind {
            "index" => self.indexes.extend(names),
            "table" => self.tables.extend(names),
            _ if cascade => self.schemas.extend(names),
            _ => {}
        }
    }

    fn table(&self, table: &str) -> bool {
        self.tables.contains(table) || self.in_dropped_schema(table)
    }

    fn index(&self, index: &ObjectName) -> bool {
        let index = key(index);
        self.indexes.contains(&index) || self.in_dropped_schema(&index)
    }

    fn column(&self, table: &str, column: &str) -> bool {
        self.columns.contains(&format!("{table}.{column}"))
    }

    fn in_dropped_schema(&self, name: &str) -> bool {
        name.rsplit_once('.')
            .is_some_and(|(schema, _)| self.schemas.contains(schema))
    }
}

/// What an `up.sql` keeps of what it creates: not what it drops itself, and under the names
/// its renames give.
#[derive(Default)]
struct Kept {
    dropped: HashSet<String>,
    renamed_to: HashMap<String, String>,
}

impl Kept {
    fn by(statements: &[Statement]) -> Kept {
        let mut kept = Kept::default();
        for statement in statements {
            match &statement.parsed {
                Parsed::Statement(Ast::Drop {
                    object_type: ObjectType::Table,
                    names,
                    ..
                }) => kept.dropped.extend(names.iter().map(key)),
                Parsed::Statement(Ast::AlterTable(AlterTable {
                    name, operations, ..
                })) => {
                    for operation in operations {
                        if let AlterTableOperation::RenameTable { table_name } = operation {
                            kept.renamed_to.insert(key(name), new_name(table_name));
                        }
                    }
                }
                _ => {}
            }
        }
        kept
    }

    /// Whether up leaves the table `name` in place (it does not drop it itself).
    fn table(&self, name: &ObjectName) -> bool {
        !self.dropped.contains(&self.final_name(name))
    }

    /// The name the table `name` has when up is done.
    fn final_name(&self, name: &ObjectName) -> String {
        let mut name = key(name);
        let mut hops = 0;
        while let Some(next) = self.renamed_to.get(&name).filter(|_| hops < 16) {
            name = next.clone();
            hops += 1;
        }
        name
    }
}

fn new_name(kind: &RenameTableNameKind) -> String {
    match kind {
        RenameTableNameKind::As(name) | RenameTableNameKind::To(name) => key(name),
    }
}
