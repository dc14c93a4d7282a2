//! Migration names: `<version>_<name>`, where the version is ASCII digits and the name is
//! lowercase snake_case (`[a-z][a-z0-9]*(_[a-z0-9]+)*`).

use heck::ToSnakeCase;

/// The largest version a tracking table can store (a signed 64-bit integer).
pub const MAX_VERSION: u64 = i64::MAX as u64;

/// The fewest digits a version may have, so that name order is version order.
pub const MIN_DIGITS: usize = 3;

/// A migration name split into its parts: `024_add_codec` is `024` and `add_codec`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedName<'a> {
    /// The version's digits as written, zero padding included.
    pub digits: &'a str,
    /// The version's value.
    pub version: u64,
    /// The lowercase snake_case name after the separator.
    pub name: &'a str,
}

/// What is wrong with the name part of a migration (the text after `<version>_`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameFault {
    /// Uppercase letters: `AddCodec`.
    WrongCase,
    /// Nothing after the version: `024_.sql`, `024.sql`.
    Empty,
    /// A character outside a-z, 0-9 and `_`, e.g. `-` in `add-codec` or `é` in `café`;
    /// carries the first one.
    BadChar(char),
    /// `__` anywhere, or a leading `_` (`024__x`).
    DoubleUnderscore,
    /// A trailing `_`: `add_codec_`.
    TrailingUnderscore,
    /// A digit first: `2fa`.
    LeadingDigit,
}

/// How a file or directory stem fails to be `<version>_<name>`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameError<'a> {
    /// No leading digits at all: `add_codec.sql`, `migration_024.sql`.
    NoVersion,
    /// More digits, or a larger value, than a tracking table can store.
    VersionTooLarge {
        /// The leading digits as written, e.g. `9223372036854775808`: a value over
        /// [`MAX_VERSION`].
        digits: &'a str,
    },
    /// The version is followed by something other than `_`: `024-add-codec`.
    BadSeparator {
        /// The version's digits as written, zero padding included, e.g. `024`.
        digits: &'a str,
        /// The version's value, e.g. `24`.
        version: u64,
        /// The character after the digits, e.g. `-`.
        found: char,
        /// The text after that character, e.g. `add-codec`.
        rest: &'a str,
    },
    /// The name part breaks the snake_case rule.
    BadName {
        /// The version's digits as written, zero padding included, e.g. `024`.
        digits: &'a str,
        /// The version's value, e.g. `24`.
        version: u64,
        /// The text after `<version>_`, e.g. `add-codec` in `024_add-codec`; empty for `024_`
        /// and `024`.
        name: &'a str,
        /// The first rule the name breaks, e.g. [`NameFault::BadChar`] for `add-codec`.
        fault: NameFault,
    },
}

/// Splits a stem such as `024_add_codec` into its version and name.
pub fn parse_stem(stem: &str) -> Result<ParsedName<'_>, NameError<'_>> {
    let digit_count = stem.bytes().take_while(u8::is_ascii_digit).count();
    if digit_count == 0 {
        return Err(NameError::NoVersion);
    }
    let (digits, after) = stem.split_at(digit_count);
    let version = match digits.parse::<u64>() {
        Ok(version) if version <= MAX_VERSION => version,
        _ => return Err(NameError::VersionTooLarge { digits }),
    };
    let mut chars = after.chars();
    let name = match chars.next() {
        None => "",
        Some('_') => chars.as_str(),
        Some(found) => {
            return Err(NameError::BadSeparator {
                digits,
                version,
                found,
                rest: chars.as_str(),
            })
        }
    };
    match name_fault(name) {
        None => Ok(ParsedName {
            digits,
            version,
            name,
        }),
        Some(fault) => Err(NameError::BadName {
            digits,
            version,
            name,
            fault,
        }),
    }
}

/// Whether `name` is lowercase snake_case: `[a-z][a-z0-9]*(_[a-z0-9]+)*`.
pub fn is_valid_name(name: &str) -> bool {
    name_fault(name).is_none()
}

/// The first rule `name` breaks, if any.
pub fn name_fault(name: &str) -> Option<NameFault> {
    if name.is_empty() {
        return Some(NameFault::Empty);
    }
    let only_word_chars = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if only_word_chars && name.chars().any(|c| c.is_ascii_uppercase()) {
        return Some(NameFault::WrongCase);
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !matches!(c, 'a'..='z' | '0'..='9' | '_'))
    {
        return Some(NameFault::BadChar(bad));
    }
    if name.starts_with('_') || name.contains("__") {
        return Some(NameFault::DoubleUnderscore);
    }
    if name.ends_with('_') {
        return Some(NameFault::TrailingUnderscore);
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        return Some(NameFault::LeadingDigit);
    }
    None
}

/// The snake_case spelling of `text`, when that spelling is a valid name:
/// `AddCodecPreferences` gives `add_codec_preferences`, `ä` gives nothing.
pub fn suggest_name(text: &str) -> Option<String> {
    let snake = text.to_snake_case();
    is_valid_name(&snake).then_some(snake)
}

/// The version digits of `version` zero-padded to `width`.
pub fn pad_version(version: u64, width: usize) -> String {
    format!("{version:0width$}")
}

/// The number of digits `version` needs without padding.
pub fn significant_digits(version: u64) -> usize {
    version.checked_ilog10().map_or(1, |log| log as usize + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(stem: &str) -> NameFault {
        match parse_stem(stem) {
            Err(NameError::BadName { fault, .. }) => fault,
            other => panic!("expected a bad name for {stem:?}, got {other:?}"),
        }
    }

    #[test]
    fn splits_valid_names() {
        let parsed = parse_stem("024_add_codec2").unwrap();
        assert_eq!(
            (parsed.digits, parsed.version, parsed.name),
            ("024", 24, "add_codec2")
        );
        assert_eq!(
            parse_stem("20250609160908_y").unwrap().version,
            20250609160908
        );
        assert_eq!(parse_stem("000_init").unwrap().version, 0);
    }

    #[test]
    fn no_version() {
        assert_eq!(
            parse_stem("add_codec_preferences"),
            Err(NameError::NoVersion)
        );
        assert_eq!(parse_stem("migration_024"), Err(NameError::NoVersion));
    }

    #[test]
    fn version_too_large() {
        assert!(parse_stem("9223372036854775807_max").is_ok());
        assert_eq!(
            parse_stem("9223372036854775808_x"),
            Err(NameError::VersionTooLarge {
                digits: "9223372036854775808"
            })
        );
        assert!(matches!(
            parse_stem("123456789012345678901234_x"),
            Err(NameError::VersionTooLarge { .. })
        ));
    }

    #[test]
    fn bad_separator() {
        assert_eq!(
            parse_stem("024-add-codec"),
            Err(NameError::BadSeparator {
                digits: "024",
                version: 24,
                found: '-',
                rest: "add-codec"
            })
        );
        assert!(matches!(
            parse_stem("024add"),
            Err(NameError::BadSeparator { found: 'a', .. })
        ));
    }

    #[test]
    fn each_fault_is_named() {
        assert_eq!(fault("024_AddCodecPreferences"), NameFault::WrongCase);
        assert_eq!(fault("024_add-codec"), NameFault::BadChar('-'));
        assert_eq!(fault("024_add codec"), NameFault::BadChar(' '));
        assert_eq!(fault("024_add__codec"), NameFault::DoubleUnderscore);
        assert_eq!(fault("024__codec"), NameFault::DoubleUnderscore);
        assert_eq!(fault("024_add_codec_"), NameFault::TrailingUnderscore);
        assert_eq!(fault("024_"), NameFault::Empty);
        assert_eq!(fault("024"), NameFault::Empty);
        assert_eq!(fault("024_ä"), NameFault::BadChar('ä'));
        assert_eq!(fault("024_2fa"), NameFault::LeadingDigit);
        assert_eq!(fault("024_add.codec"), NameFault::BadChar('.'));
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            suggest_name("AddCodecPreferences").as_deref(),
            Some("add_codec_preferences")
        );
        assert_eq!(suggest_name("add-codec").as_deref(), Some("add_codec"));
        assert_eq!(suggest_name("add codec").as_deref(), Some("add_codec"));
        assert_eq!(suggest_name("add__codec").as_deref(), Some("add_codec"));
        assert_eq!(suggest_name("add_codec_").as_deref(), Some("add_codec"));
        assert_eq!(suggest_name("HTTPProxy").as_deref(), Some("http_proxy"));
        assert_eq!(suggest_name("ä"), None);
        assert_eq!(suggest_name(""), None);
        assert_eq!(suggest_name("2fa"), None);
    }

    #[test]
    fn padding_and_digits() {
        assert_eq!(pad_version(24, 3), "024");
        assert_eq!(pad_version(20250522, 14), "00000020250522");
        assert_eq!(significant_digits(0), 1);
        assert_eq!(significant_digits(9), 1);
        assert_eq!(significant_digits(10), 2);
        assert_eq!(significant_digits(MAX_VERSION), 19);
    }
}
