//! The checksum contract: SHA-256 of a migration's forward SQL after normalisation.
//!
//! Normalisation removes a leading UTF-8 byte order mark and turns CRLF and lone CR line
//! endings into LF. Nothing else changes, so a checkout with Windows line endings and one
//! with Unix line endings give the same checksum. This algorithm is part of the public
//! contract: applied checksums are stored in databases and must never change meaning.

use std::borrow::Cow;
use std::fmt;

use sha2::{Digest, Sha256};

/// The tag stored beside every checksum, naming the algorithm that produced it.
pub const ALGORITHM: &str = "sha256-lf-v1";

/// The SHA-256 checksum of a normalised migration script.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Checksum([u8; 32]);

impl Checksum {
    /// Computes the checksum of `sql` after normalisation (see [`normalize`]).
    pub fn of(sql: &str) -> Checksum {
        Checksum(Sha256::digest(normalize(sql).as_bytes()).into())
    }

    /// Wraps digest bytes computed elsewhere (the macro emits them as a literal).
    pub const fn from_bytes(bytes: [u8; 32]) -> Checksum {
        Checksum(bytes)
    }

    /// Parses the 64-hex-digit form stored in a tracking table.
    pub fn from_hex(text: &str) -> Option<Checksum> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes).ok()?;
        Some(Checksum(bytes))
    }

    /// The raw digest.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The 64 lowercase hex digits stored in a tracking table.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Whether `text` is exactly this checksum's stored form ([`Checksum::to_hex`]), compared
    /// without allocating: the no-op start-up compares every applied checksum this way.
    pub fn matches_hex(&self, text: &[u8]) -> bool {
        let mut digits = [0u8; 64];
        hex::encode_to_slice(self.0, &mut digits).is_ok() && digits == text
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Checksum({self})")
    }
}

/// Removes a leading UTF-8 BOM and turns CRLF and lone CR into LF; borrows when nothing
/// needs changing.
pub fn normalize(sql: &str) -> Cow<'_, str> {
    let sql = sql.strip_prefix('\u{feff}').unwrap_or(sql);
    if !sql.contains('\r') {
        return Cow::Borrowed(sql);
    }
    Cow::Owned(sql.replace("\r\n", "\n").replace('\r', "\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The published test vectors (`waterline::guide::checksums`), computed independently with
    /// `printf '...' | sha256sum` on the normalised text. These must never change.
    const VECTORS: &[(&str, &str)] = &[
        (
            "",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        (
            "CREATE TABLE t (id INTEGER);\n",
            "cb7bba9473513daa6e6daf9337f9d5822cbc95cac71c944b6bf85958041038e1",
        ),
        (
            "CREATE TABLE t (id INTEGER);\r\n",
            "cb7bba9473513daa6e6daf9337f9d5822cbc95cac71c944b6bf85958041038e1",
        ),
        (
            "\u{feff}CREATE TABLE t (id INTEGER);\n",
            "cb7bba9473513daa6e6daf9337f9d5822cbc95cac71c944b6bf85958041038e1",
        ),
        (
            "SELECT 1;\rSELECT 2;\r",
            "82efb67f3010c6eb7ead02e4f6d9550633dbc1407f99aa487468e7b2567aebbc",
        ),
    ];

    #[test]
    fn published_vectors_are_pinned() {
        for (sql, expected) in VECTORS {
            assert_eq!(Checksum::of(sql).to_hex(), *expected, "checksum of {sql:?}");
        }
    }

    #[test]
    fn crlf_lone_cr_and_bom_equal_their_plain_twin() {
        let plain = Checksum::of("SELECT 1;\nSELECT 2;\n");
        assert_eq!(Checksum::of("SELECT 1;\r\nSELECT 2;\r\n"), plain);
        assert_eq!(Checksum::of("SELECT 1;\rSELECT 2;\r"), plain);
        assert_eq!(Checksum::of("\u{feff}SELECT 1;\nSELECT 2;\n"), plain);
    }

    #[test]
    fn only_a_leading_bom_is_removed() {
        assert_ne!(
            Checksum::of("SELECT '\u{feff}';"),
            Checksum::of("SELECT '';")
        );
        assert_eq!(normalize("a\u{feff}"), "a\u{feff}");
    }

    #[test]
    fn other_whitespace_is_significant() {
        assert_ne!(Checksum::of("SELECT 1;"), Checksum::of("SELECT 1; "));
        assert_ne!(Checksum::of("SELECT 1;\n"), Checksum::of("SELECT 1;\n\n"));
    }

    #[test]
    fn hex_round_trips() {
        let sum = Checksum::of("SELECT 1;");
        assert_eq!(Checksum::from_hex(&sum.to_hex()), Some(sum));
        assert_eq!(sum.to_hex().len(), 64);
        assert!(sum
            .to_hex()
            .chars()
            .all(|c| matches!(c, '0'..='9' | 'a'..='f')));
        assert_eq!(Checksum::from_hex("xyz"), None);
    }

    #[test]
    fn normalize_borrows_clean_input() {
        assert!(matches!(normalize("SELECT 1;\n"), Cow::Borrowed(_)));
    }

    #[test]
    fn matches_hex_is_exactly_the_stored_form() {
        let checksum = Checksum::of("SELECT 1;\n");
        let hex = checksum.to_hex();
        assert!(checksum.matches_hex(hex.as_bytes()));
        assert!(!checksum.matches_hex(hex.to_uppercase().as_bytes()));
        assert!(!checksum.matches_hex(&hex.as_bytes()[..63]));
        assert!(!checksum.matches_hex(b""));
        assert!(!Checksum::of("SELECT 2;\n").matches_hex(hex.as_bytes()));
    }
}
