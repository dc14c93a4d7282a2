//! The embedded migration set.

use std::borrow::Cow;
use std::path::Path;
use std::sync::OnceLock;

use waterline_core::{EmbeddedMigration, Migration};

use crate::stale::StaleEmbed;

/// The migrations embedded by [`embed_migrations!`](crate::embed_migrations), sorted by version.
///
/// Made to live in a `static`:
/// `static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!();`
#[derive(Debug)]
pub struct Migrations {
    /// The compact static data the macro emitted; empty for a set read at run time.
    embedded: &'static [EmbeddedMigration],
    /// Every migration in full: built from `embedded` on first use, or read at run time.
    migrations: OnceLock<Vec<Migration>>,
    folder: Cow<'static, str>,
    source_dir: Option<&'static str>,
    /// The folder's notices, as the macro emitted them.
    static_notices: &'static [&'static str],
    /// The folder's notices, for a set read at run time.
    read_notices: Vec<String>,
    /// The newest migration of applied history (`embed_migrations!(..., history = "...")`).
    history_until: Option<u64>,
    /// The code of the migrations written in Rust.
    #[cfg(feature = "runner")]
    code: &'static [crate::code::Code],
}

impl Migrations {
    /// The set as emitted by the macro. Not public API.
    #[doc(hidden)]
    pub const fn from_static(
        embedded: &'static [EmbeddedMigration],
        folder: &'static str,
        source_dir: Option<&'static str>,
        notices: &'static [&'static str],
        history_until: Option<u64>,
    ) -> Migrations {
        Migrations {
            embedded,
            migrations: OnceLock::new(),
            folder: Cow::Borrowed(folder),
            source_dir,
            static_notices: notices,
            read_notices: Vec::new(),
            history_until,
            #[cfg(feature = "runner")]
            code: &[],
        }
    }

    /// The set with the code of its migrations written in Rust. Not public API.
    #[cfg(feature = "runner")]
    #[doc(hidden)]
    pub const fn with_code(mut self, code: &'static [crate::code::Code]) -> Migrations {
        self.code = code;
        self
    }

    /// The code of the migrations written in Rust.
    #[cfg(feature = "runner")]
    pub(crate) fn code(&self) -> &'static [crate::code::Code] {
        self.code
    }

    /// Reads a migrations folder at run time, with the same rules as the macro.
    ///
    /// For tools and tests (feature `folder`). An application should embed its migrations with
    /// [`embed_migrations!`](crate::embed_migrations), which checks them at compile time and
    /// needs no files at run time.
    #[cfg(feature = "folder")]
    #[cfg_attr(docsrs, doc(cfg(feature = "folder")))]
    pub fn from_folder(
        dir: impl AsRef<Path>,
        label: &str,
    ) -> Result<Migrations, waterline_core::Problems> {
        let folder = waterline_core::folder::read(dir.as_ref(), label)?;
        Ok(Migrations {
            embedded: &[],
            migrations: OnceLock::from(folder.migrations),
            folder: Cow::Owned(label.to_owned()),
            source_dir: None,
            static_notices: &[],
            read_notices: folder.notices.into_iter().map(|n| n.message).collect(),
            history_until: None,
            #[cfg(feature = "runner")]
            code: &[],
        })
    }

    /// The newest migration of the applied history given to the macro with
    /// `history = "<version>"`: lint errors in it and in older migrations are advice.
    pub fn history_until(&self) -> Option<u64> {
        self.history_until
    }

    /// What the folder's reading noted without refusing it, such as files that are not
    /// migrations in diesel's layout and `down.sql` files with no SQL: `migrate lint` shows
    /// each as advice.
    pub fn notices(&self) -> impl Iterator<Item = &str> {
        let read = self.read_notices.iter().map(String::as_str);
        self.static_notices.iter().copied().chain(read)
    }

    /// Every migration, in version order.
    pub fn iter(&self) -> std::slice::Iter<'_, Migration> {
        self.as_slice().iter()
    }

    /// Every migration, in version order.
    pub fn as_slice(&self) -> &[Migration] {
        self.migrations.get_or_init(|| {
            let embedded = self.embedded.iter();
            embedded.map(EmbeddedMigration::to_migration).collect()
        })
    }

    /// The number of migrations.
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// Whether there are no migrations (never, for a set the macro built).
    pub fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }

    /// Each migration's version, the checksum of the up script `backend` runs, and whether it
    /// runs in the background, in version order, read from the compact embedded data when the
    /// full migrations have not been built: all a start-up with nothing to do needs.
    #[cfg(feature = "runner")]
    pub(crate) fn up_checksums(
        &self,
        backend: waterline_core::Backend,
    ) -> impl Iterator<Item = UpChecksum> + '_ {
        let (embedded, built): (&[EmbeddedMigration], &[Migration]) = match self.migrations.get() {
            Some(built) => (&[], built),
            None => (self.embedded, &[]),
        };
        let embedded = embedded.iter().map(move |e| UpChecksum {
            version: e.version(),
            checksum: e.up_checksum(backend),
            background: e.is_background(),
        });
        let built = built.iter().map(move |m| UpChecksum::of(m, backend));
        embedded.chain(built)
    }

    /// The migration with `version`, if embedded.
    pub fn get(&self, version: u64) -> Option<&Migration> {
        let migrations = self.as_slice();
        let index = migrations
            .binary_search_by_key(&version, Migration::version)
            .ok()?;
        Some(&migrations[index])
    }

    /// The folder as written in the macro call, such as `migrations`.
    pub fn folder(&self) -> &str {
        &self.folder
    }

    /// The folder the macro read, in debug builds while it is still there; `None` in release
    /// builds and for sets read with [`from_folder`](Self::from_folder).
    pub fn source_dir(&self) -> Option<&Path> {
        self.source_dir.map(Path::new).filter(|dir| dir.is_dir())
    }

    /// Checks that the embedded set is the one on disk, in debug builds.
    ///
    /// Cargo rebuilds a crate when an embedded file is edited or removed, but it notices an
    /// *added* file only with a `build.rs` that says `cargo:rerun-if-changed=migrations`.
    /// Without one, a new migration is silently missing from the binary. In a debug build,
    /// where the folder the macro read still exists, this reads it again and returns
    /// [`StaleEmbed`] naming every difference. In release builds, or when the folder is not
    /// there (a deployed binary), it does nothing.
    pub fn check_embed_is_current(&self) -> Result<(), StaleEmbed> {
        // Compiled in debug builds only, so release binaries carry no folder reader.
        #[cfg(debug_assertions)]
        if let Some(dir) = self.source_dir() {
            return self.compare_with(dir);
        }
        Ok(())
    }

    #[cfg(debug_assertions)]
    fn compare_with(&self, dir: &Path) -> Result<(), StaleEmbed> {
        let on_disk = waterline_core::read_folder(dir, &self.folder);
        StaleEmbed::compare(&self.folder, self.as_slice(), on_disk).map_or(Ok(()), Err)
    }
}

impl<'a> IntoIterator for &'a Migrations {
    type Item = &'a Migration;
    type IntoIter = std::slice::Iter<'a, Migration>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// What the no-op check needs of one embedded migration.
#[cfg(feature = "runner")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct UpChecksum {
    /// The version.
    pub version: u64,
    /// The checksum of the up script the backend runs, if there is one.
    pub checksum: Option<waterline_core::Checksum>,
    /// Whether it runs after start-up, from [`Runner::run_background`](crate::Runner::run_background).
    pub background: bool,
}

#[cfg(feature = "runner")]
impl UpChecksum {
    /// `migration`'s, on `backend`.
    pub fn of(migration: &Migration, backend: waterline_core::Backend) -> Self {
        let script = migration.up().for_backend(backend);
        UpChecksum {
            version: migration.version(),
            checksum: script.map(|script| script.checksum()),
            background: migration.is_background(),
        }
    }
}

#[cfg(all(test, feature = "runner"))]
mod tests {
    use waterline_core::{Backend, Checksum, Direction, Script};

    use super::*;

    static FULL: Migration = Migration::from_static(
        2,
        "002_b",
        4,
        Direction::from_static(
            Some(Script::from_static(
                "migrations/002_b/up.sql",
                "SELECT 2;",
                [2; 32],
                true,
                &[],
                &[],
            )),
            &[],
        ),
        Direction::from_static(None, &[]),
        waterline_core::Class::Contract,
    );

    static EMBEDDED: [EmbeddedMigration; 2] = [
        EmbeddedMigration::file(
            1,
            "migrations/001_a.sql\nSELECT 1;",
            20,
            [1; 32],
            waterline_core::Class::Expand,
        ),
        EmbeddedMigration::full(&FULL),
    ];

    #[test]
    fn up_checksums_come_from_the_compact_data_without_building_the_set() {
        let set = Migrations::from_static(&EMBEDDED, "migrations", None, &[], None);
        let compact: Vec<_> = set.up_checksums(Backend::Postgres).collect();
        assert!(set.migrations.get().is_none(), "nothing was built");
        let expected = [1, 2].map(|version| UpChecksum {
            version,
            checksum: Some(Checksum::from_bytes([version as u8; 32])),
            background: false,
        });
        assert_eq!(compact, expected);
        assert_eq!(set.len(), 2);
        assert_eq!(set.as_slice()[0].path(), "migrations/001_a.sql");
        assert_eq!(set.as_slice()[1], FULL);
        let built: Vec<_> = set.up_checksums(Backend::Postgres).collect();
        assert_eq!(built, expected);
    }
}
