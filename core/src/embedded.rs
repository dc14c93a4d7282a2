//! The compact form `embed_migrations!` writes into a binary. Most migrations are one `.sql`
//! file with no directives: for those the binary holds only a version, a path, the text and
//! the checksum, about a fifth of a full [`Migration`], which keeps binaries small and builds
//! quick at a thousand migrations. Every other migration is embedded in full.

use crate::checksum::Checksum;
use crate::model::{Backend, Class, Direction, Migration, Script};

/// One migration as `embed_migrations!` emits it. Not public API.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub enum EmbeddedMigration {
    /// A forward-only `<version>_<name>.sql` file without directives.
    File {
        /// The version.
        version: u64,
        /// The path as shown to users (e.g. `migrations/024_add_codec.sql`), a newline, and
        /// the file's text: one string, so one pointer (and one relocation) per migration.
        path_and_text: &'static str,
        /// The length of the path at the start of `path_and_text`.
        path_len: u32,
        /// The checksum of the normalised text.
        checksum: [u8; 32],
        /// Expand or contract, as the macro's analysis found.
        class: Class,
    },
    /// Any other migration, in full.
    Full(&'static Migration),
}

impl EmbeddedMigration {
    /// A forward-only file without directives. `path_and_text` is its path, which ends with
    /// `<version>_<name>.sql`, a newline and its text; `path_len` the length of the path.
    pub const fn file(
        version: u64,
        path_and_text: &'static str,
        path_len: u32,
        checksum: [u8; 32],
        class: Class,
    ) -> Self {
        EmbeddedMigration::File {
            version,
            path_and_text,
            path_len,
            checksum,
            class,
        }
    }

    /// A migration embedded in full.
    pub const fn full(migration: &'static Migration) -> Self {
        EmbeddedMigration::Full(migration)
    }

    /// The version.
    pub fn version(&self) -> u64 {
        match self {
            EmbeddedMigration::File { version, .. } => *version,
            EmbeddedMigration::Full(migration) => migration.version(),
        }
    }

    /// The checksum of the up script `backend` runs, if there is one.
    pub fn up_checksum(&self, backend: Backend) -> Option<Checksum> {
        match self {
            EmbeddedMigration::File { checksum, .. } => Some(Checksum::from_bytes(*checksum)),
            EmbeddedMigration::Full(migration) => {
                let script = migration.up().for_backend(backend)?;
                Some(script.checksum())
            }
        }
    }

    /// Whether the migration runs after start-up (`// waterline:background`): a plain file
    /// never does.
    pub fn is_background(&self) -> bool {
        match self {
            EmbeddedMigration::File { .. } => false,
            EmbeddedMigration::Full(migration) => migration.is_background(),
        }
    }

    /// The migration, borrowing the static data: nothing is copied but references.
    pub fn to_migration(&self) -> Migration {
        match *self {
            EmbeddedMigration::File {
                version,
                path_and_text,
                path_len,
                checksum,
                class,
            } => {
                let (path, text) = path_and_text.split_at(path_len as usize);
                let text = &text[1..];
                let file = path.rsplit_once('/').map_or(path, |(_, file)| file);
                let id = file.strip_suffix(".sql").unwrap_or(file);
                let name_start = id.find('_').map_or(id.len(), |at| at + 1);
                let script = Script::from_static(path, text, checksum, false, &[], &[]);
                Migration::from_static(
                    version,
                    id,
                    name_start,
                    Direction::from_static(Some(script), &[]),
                    Direction::from_static(None, &[]),
                    class,
                )
            }
            EmbeddedMigration::Full(migration) => migration.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_becomes_the_migration_read_from_disk() {
        let dir = tempfile::tempdir().unwrap();
        let sql = "CREATE TABLE t (id INTEGER);\r\n";
        std::fs::write(dir.path().join("024_add_codec.sql"), sql).unwrap();
        let read = crate::read_folder(dir.path(), "db/migrations").unwrap();
        let checksum = *Checksum::of(sql).as_bytes();
        let path = "db/migrations/024_add_codec.sql";
        let path_and_text: &'static str = Box::leak(format!("{path}\n{sql}").into_boxed_str());
        let embedded = EmbeddedMigration::file(
            24,
            path_and_text,
            path.len() as u32,
            checksum,
            Class::Expand,
        );
        assert_eq!(embedded.version(), 24);
        assert_eq!(
            embedded.up_checksum(Backend::Mysql),
            Some(Checksum::of(sql))
        );
        let migration = embedded.to_migration();
        assert_eq!(migration, read[0]);
        assert_eq!(migration.version_text(), "024");
        assert_eq!(migration.name(), "add_codec");
        assert_eq!(migration.path(), "db/migrations/024_add_codec.sql");
    }

    #[test]
    fn a_full_migration_is_itself() {
        static FULL: Migration = Migration::from_static(
            7,
            "007_x",
            4,
            Direction::from_static(None, &[]),
            Direction::from_static(None, &[]),
            Class::Contract,
        );
        let embedded = EmbeddedMigration::full(&FULL);
        assert_eq!(embedded.version(), 7);
        assert_eq!(embedded.to_migration(), FULL);
    }

    #[test]
    fn a_file_is_a_fraction_of_a_full_migration() {
        let (compact, full) = (
            std::mem::size_of::<EmbeddedMigration>(),
            std::mem::size_of::<Migration>(),
        );
        assert!(compact * 4 <= full, "{compact} bytes against {full}");
    }
}
