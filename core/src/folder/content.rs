//! Reads the scripts of a migration: checks each file's text (UTF-8, no NUL, at least one
//! statement, valid directives) and the layout of migration directories.

use std::fs;
use std::path::Path;

use super::entries::{self, Candidate, Kind};
use super::layout::Layout;
use super::{metadata, Notice};
use crate::directive::{self, DirectiveFault};
use crate::model::{Backend, Direction, Directives, Script, Variant};
use crate::problem::Problem;
use crate::sql_text;

/// diesel_migrations' per-directory settings file.
const METADATA: &str = "metadata.toml";

/// Whether a script moves the schema forward or back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Up,
    Down,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Up => "up",
            Role::Down => "down",
        }
    }
}

/// The up and down scripts of a candidate, or `None` after recording its problems.
pub(super) fn read(
    candidate: &Candidate,
    layout: Layout,
    problems: &mut Vec<Problem>,
    notices: &mut Vec<Notice>,
) -> Option<(Direction, Direction)> {
    let mut reader = Reader {
        layout,
        no_transaction: false,
        problems,
        notices,
    };
    match candidate.kind {
        Kind::File if candidate.extension.as_deref() == Some(super::entries::RUST) => {
            let up = reader.rust_source(&candidate.path, &candidate.shown)?;
            Some((
                Direction::new(Some(up), Vec::new()),
                Direction::new(None, Vec::new()),
            ))
        }
        Kind::File => {
            let up = reader.script(&candidate.path, &candidate.shown, Role::Up)?;
            Some((
                Direction::new(Some(up), Vec::new()),
                Direction::new(None, Vec::new()),
            ))
        }
        Kind::Directory => reader.directory(candidate),
    }
}

/// Reads the scripts of one migration, by the rules of its folder's layout.
struct Reader<'a> {
    layout: Layout,
    /// Whether the directory's `metadata.toml` says its scripts run outside a transaction.
    no_transaction: bool,
    problems: &'a mut Vec<Problem>,
    notices: &'a mut Vec<Notice>,
}

/// The scripts found in a migration directory, by role.
#[derive(Default)]
struct Found {
    up: Slot,
    down: Slot,
    failed: bool,
    /// A `.rs` file was found: the directory is a Rust migration in the wrong form.
    rust: bool,
}

#[derive(Default)]
struct Slot {
    default: Option<Script>,
    variants: Vec<Variant>,
    seen: bool,
}

impl Reader<'_> {
    fn directory(&mut self, candidate: &Candidate) -> Option<(Direction, Direction)> {
        let problems = &mut *self.problems;
        let dir = &candidate.shown;
        let mut entries =
            match fs::read_dir(&candidate.path).and_then(|e| e.collect::<Result<Vec<_>, _>>()) {
                Ok(entries) => entries,
                Err(error) => {
                    problems.push(Problem::Unreadable {
                        file: dir.clone(),
                        reason: error.to_string(),
                    });
                    return None;
                }
            };
        entries.sort_by_key(fs::DirEntry::file_name);
        let root = candidate.path.canonicalize().ok()?;
        let metadata = candidate.path.join(METADATA);
        if self.layout == Layout::Diesel && metadata.is_file() {
            let shown = format!("{dir}/{METADATA}");
            self.no_transaction = metadata::no_transaction(&metadata, &shown, problems);
        }
        let mut found = Found::default();
        for entry in entries {
            let file_name = entry.file_name().to_string_lossy().into_owned();
            let diesel_metadata = self.layout == Layout::Diesel && file_name == METADATA;
            if !file_name.starts_with('.') && !diesel_metadata {
                self.entry(&entry.path(), &file_name, dir, &root, &mut found);
            }
        }
        // Its `.rs` file says what to do; that it has no `up.sql` is not news.
        if found.rust {
            return None;
        }
        let up = direction(found.up, dir, Role::Up, self.problems);
        let down = direction(found.down, dir, Role::Down, self.problems);
        match (up, down) {
            (Some(up), Some(down)) if !found.failed => Some((up, down)),
            _ => None,
        }
    }

    fn entry(&mut self, path: &Path, file_name: &str, dir: &str, root: &Path, found: &mut Found) {
        let problems = &mut *self.problems;
        let shown = format!("{dir}/{file_name}");
        if file_name.ends_with(".rs") {
            found.failed = true;
            found.rust = true;
            problems.push(Problem::UnknownFile {
                file: shown,
                fix: format!(
                    "a migration written in Rust is one file: put its `pub fn up` (and `pub fn \
                     down`) in `{dir}.rs` and remove the directory"
                ),
            });
            return;
        }
        let Some((role, backend)) = script_role(file_name).filter(|_| path.is_file()) else {
            found.failed = true;
            problems.push(Problem::UnknownFile {
                file: shown,
                fix: unknown_file_fix(file_name),
            });
            return;
        };
        if let Some(target) = entries::outside_target(path, root) {
            found.failed = true;
            problems.push(Problem::SymlinkOutside {
                file: shown,
                target: target.display().to_string(),
            });
            return;
        }
        let slot = match role {
            Role::Up => &mut found.up,
            Role::Down => &mut found.down,
        };
        slot.seen = true;
        match (self.read_script(path, &shown, role), backend) {
            (Read::Script(script), None) => slot.default = Some(script),
            (Read::Script(script), Some(backend)) => {
                slot.variants.push(Variant::new(backend, script))
            }
            // In diesel's layout an empty `down.sql` makes the migration irreversible.
            (Read::Irreversible, _) => slot.seen = false,
            (Read::Failed, _) => found.failed = true,
        }
    }
}

/// `up.sql` is (Up, None); `down.mysql.sql` is (Down, Some(Mysql)).
fn script_role(file_name: &str) -> Option<(Role, Option<Backend>)> {
    let stem = file_name.strip_suffix(".sql")?;
    let (role, backend) = match stem.split_once('.') {
        Some((role, backend)) => (role, Some(Backend::from_name(backend)?)),
        None => (stem, None),
    };
    match role {
        "up" => Some((Role::Up, backend)),
        "down" => Some((Role::Down, backend)),
        _ => None,
    }
}

fn known_script_names() -> impl Iterator<Item = String> {
    ["up", "down"].into_iter().flat_map(|role| {
        std::iter::once(format!("{role}.sql"))
            .chain(Backend::ALL.iter().map(move |b| format!("{role}.{b}.sql")))
    })
}

fn unknown_file_fix(file_name: &str) -> String {
    let lower = file_name.to_ascii_lowercase();
    let closest = known_script_names()
        .map(|known| (strsim::levenshtein(&lower, &known), known))
        .filter(|(distance, _)| *distance <= 3)
        .min();
    match closest {
        Some((_, known)) => format!("rename it to `{known}`"),
        None => "move it out of the migrations folder".to_owned(),
    }
}

/// Checks that a role has a script for every backend and builds its direction.
fn direction(slot: Slot, dir: &str, role: Role, problems: &mut Vec<Problem>) -> Option<Direction> {
    let covered = |backend| {
        slot.variants
            .iter()
            .any(|v: &Variant| v.backend() == backend)
    };
    let missing: Vec<&'static str> = Backend::ALL
        .into_iter()
        .filter(|b| !covered(*b))
        .map(Backend::as_str)
        .collect();
    match role {
        Role::Up if !slot.seen => {
            problems.push(Problem::MissingUp {
                dir: dir.to_owned(),
            });
            return None;
        }
        _ if slot.seen
            && slot.default.is_none()
            && !slot.variants.is_empty()
            && !missing.is_empty() =>
        {
            problems.push(Problem::MissingDefault {
                dir: dir.to_owned(),
                direction: role.as_str(),
                missing,
            });
            return None;
        }
        _ => {}
    }
    let mut variants = slot.variants;
    variants.sort_by_key(Variant::backend);
    Some(Direction::new(slot.default, variants))
}

/// What reading a script gave.
enum Read {
    Script(Script),
    /// An empty `down.sql` in diesel's layout: the migration cannot be reverted.
    Irreversible,
    Failed,
}

impl Reader<'_> {
    /// Reads and checks one script file.
    fn script(&mut self, path: &Path, shown: &str, role: Role) -> Option<Script> {
        match self.read_script(path, shown, role) {
            Read::Script(script) => Some(script),
            Read::Irreversible | Read::Failed => None,
        }
    }

    /// The source of a migration written in Rust, with its `// waterline:` directives. Its
    /// entry points are checked by `embed_migrations!`, which compiles it.
    fn rust_source(&mut self, path: &Path, shown: &str) -> Option<Script> {
        let text = self.text(path, shown)?;
        match directive::parse_rust(&text) {
            Ok(directives) => Some(Script::new_rust(shown.to_owned(), text, directives)),
            Err(errors) => {
                let problems = errors.into_iter().map(|e| directive_problem(shown, e));
                self.problems.extend(problems);
                None
            }
        }
    }

    /// The text of the file at `path`: at most [`MAX_SCRIPT_BYTES`](super::MAX_SCRIPT_BYTES),
    /// in UTF-8.
    fn text(&mut self, path: &Path, shown: &str) -> Option<String> {
        let problems = &mut *self.problems;
        if let Ok(meta) = fs::metadata(path) {
            if meta.len() > super::MAX_SCRIPT_BYTES {
                problems.push(Problem::TooLarge {
                    file: shown.to_owned(),
                    bytes: meta.len(),
                });
                return None;
            }
        }
        let bytes = match fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) => {
                problems.push(Problem::Unreadable {
                    file: shown.to_owned(),
                    reason: error.to_string(),
                });
                return None;
            }
        };
        match String::from_utf8(bytes) {
            Ok(text) => Some(text),
            Err(error) => {
                let (line, column) = position(error.as_bytes(), error.utf8_error().valid_up_to());
                problems.push(Problem::NotUtf8 {
                    file: shown.to_owned(),
                    line,
                    column,
                });
                None
            }
        }
    }

    fn read_script(&mut self, path: &Path, shown: &str, role: Role) -> Read {
        let Some(text) = self.text(path, shown) else {
            return Read::Failed;
        };
        let problems = &mut *self.problems;
        let before = problems.len();
        if let Some(offset) = text.find('\0') {
            problems.push(Problem::NulByte {
                file: shown.to_owned(),
                line: sql_text::line_at(&text, offset),
            });
        }
        let body = text.strip_prefix('\u{feff}').unwrap_or(&text);
        if sql_text::preamble(body).statement_start.is_none() {
            let file = shown.to_owned();
            match role {
                Role::Down if self.layout == Layout::Diesel && problems.len() == before => {
                    let message = format!(
                        "`{file}` has no SQL, so the migration is irreversible: `migrate down` \
                     refuses to revert it; write the SQL that undoes `up.sql` to make it \
                     revertible"
                    );
                    self.notices.push(Notice { file, message });
                    return Read::Irreversible;
                }
                Role::Up => problems.push(Problem::Empty { file }),
                Role::Down => problems.push(Problem::EmptyDown { file }),
            }
        }
        let directives = directive::parse(body).map_err(|errors| {
            problems.extend(
                errors
                    .into_iter()
                    .map(|error| directive_problem(shown, error)),
            );
        });
        if let Ok(directives) = &directives {
            problems.extend(unknown_lints(shown, directives));
        }
        match directives {
            Ok(directives) if problems.len() == before => {
                let directives = directives.or_no_transaction(self.no_transaction);
                Read::Script(Script::new(shown.to_owned(), text, directives))
            }
            _ => Read::Failed,
        }
    }
}

/// `-- waterline:allow(...)` names that are not lint rules, with the closest rule.
fn unknown_lints<'a>(
    shown: &'a str,
    directives: &'a Directives,
) -> impl Iterator<Item = Problem> + 'a {
    directives
        .allowed_lints()
        .filter(|name| !crate::lint::is_rule(name))
        .map(move |name| {
            let suggestion = crate::lint::RULES
                .iter()
                .map(|rule| (strsim::levenshtein(name, rule.name), rule.name))
                .filter(|(distance, _)| *distance <= 3)
                .min()
                .map(|(_, rule)| rule);
            Problem::UnknownLint {
                file: shown.to_owned(),
                name: name.to_owned(),
                suggestion,
            }
        })
}

fn directive_problem(shown: &str, error: directive::DirectiveError) -> Problem {
    let (file, line, written) = (shown.to_owned(), error.line, error.written);
    match error.fault {
        DirectiveFault::Unknown { suggestion } => Problem::UnknownDirective {
            file,
            line,
            written,
            suggestion,
        },
        DirectiveFault::BadAllow => Problem::BadAllow {
            file,
            line,
            written,
        },
        DirectiveFault::BadTimeout => Problem::BadTimeout {
            file,
            line,
            written,
        },
        DirectiveFault::BackgroundInSql => Problem::BackgroundInSql {
            file,
            line,
            written,
        },
        DirectiveFault::Misplaced => Problem::MisplacedDirective {
            file,
            line,
            written,
        },
    }
}

/// The 1-based line and column (in bytes) of `offset`.
fn position(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset];
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |at| at + 1);
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    (line, offset - line_start + 1)
}
