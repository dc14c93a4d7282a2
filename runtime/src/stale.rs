//! Noticing a binary whose embedded migrations no longer match the folder it was built from.

use std::fmt;

use tidemark_core::{Migration, Problems};

/// The embedded migrations differ from the folder on disk: the build missed a change.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct StaleEmbed {
    folder: String,
    differences: Vec<Difference>,
    /// The folder's problems, when it no longer passes the rules.
    problems: Option<Problems>,
}

/// One way the folder differs from the embedded set.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Difference {
    /// On disk, not embedded: added after the build.
    Added(String),
    /// Embedded, not on disk: removed or renamed after the build.
    Removed(String),
    /// Both, with other content.
    Changed(String),
}

impl StaleEmbed {
    /// Compares the embedded set with the folder as read now; `None` when they agree.
    pub(crate) fn compare(
        folder: &str,
        embedded: &[Migration],
        on_disk: Result<Vec<Migration>, Problems>,
    ) -> Option<StaleEmbed> {
        let stale = |differences, problems| StaleEmbed {
            folder: folder.to_owned(),
            differences,
            problems,
        };
        let on_disk = match on_disk {
            Ok(on_disk) => on_disk,
            Err(problems) => return Some(stale(Vec::new(), Some(problems))),
        };
        let mut differences = Vec::new();
        for migration in &on_disk {
            match embedded.iter().find(|e| e.id() == migration.id()) {
                None => differences.push(Difference::Added(migration.id().to_owned())),
                Some(e) if e != migration => {
                    differences.push(Difference::Changed(migration.id().to_owned()))
                }
                Some(_) => {}
            }
        }
        for migration in embedded
            .iter()
            .filter(|e| !on_disk.iter().any(|d| d.id() == e.id()))
        {
            differences.push(Difference::Removed(migration.id().to_owned()));
        }
        (!differences.is_empty()).then(|| stale(differences, None))
    }

    /// The ids of migrations on disk that the binary does not embed.
    pub fn added(&self) -> impl Iterator<Item = &str> {
        self.differences.iter().filter_map(|d| match d {
            Difference::Added(id) => Some(id.as_str()),
            _ => None,
        })
    }
}

impl fmt::Display for StaleEmbed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let folder = &self.folder;
        write!(
            f,
            "the migrations embedded in this binary are not the ones in `{folder}`: "
        )?;
        if let Some(problems) = &self.problems {
            write!(
                f,
                "the folder changed since the build and now breaks the rules:\n{problems}\n"
            )?;
        }
        for (index, difference) in self.differences.iter().enumerate() {
            let separator = if index == 0 { "" } else { ", " };
            match difference {
                Difference::Added(id) => {
                    write!(f, "{separator}`{folder}/{id}` is on disk but not embedded")
                }
                Difference::Removed(id) => {
                    write!(f, "{separator}`{folder}/{id}` is embedded but not on disk")
                }
                Difference::Changed(id) => {
                    write!(f, "{separator}`{folder}/{id}` changed since the build")
                }
            }?;
        }
        write!(
            f,
            "; rebuild, and add a build.rs with `println!(\"cargo:rerun-if-changed={folder}\");` so \
             cargo rebuilds when a migration is added"
        )
    }
}
