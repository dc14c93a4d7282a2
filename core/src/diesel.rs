//! Diesel's migration names: directories named `YYYYMMDDHHMMSS_name`, `YYYY-MM-DD-HHMMSS_name`
//! or `YYYY-MM-DD-HHMMSS-NNNN_name` (diesel_cli 2.3), and `00000000000000_diesel_initial_setup`.
//!
//! diesel_migrations takes the text before the first `_`, drops the dashes, and orders
//! migrations by that text. A tracking table stores a number, so each diesel version maps to
//! the 18-digit number `YYYYMMDDHHMMSSNNNN` (`NNNN` is `0000` when not written): number order is
//! diesel's text order for every pair of distinct numbers, and the two names diesel would
//! tell apart but that map to one number (`20170831230457_a` and `2017-08-31-230457-0000_b`)
//! are refused as one version written twice.

/// The number a diesel name's timestamp is multiplied by: room for the 4-digit `-NNNN` suffix.
const SUFFIX_SPAN: u64 = 10_000;

/// A diesel migration directory name split into its parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DieselName<'a> {
    /// The version as written: `2017-08-31-230457`, `20140925132250`,
    /// `2025-11-19-091444-0000` or `00000000000000`.
    pub written: &'a str,
    /// The version as a number: `YYYYMMDDHHMMSSNNNN`, 0 for the initial setup.
    pub version: u64,
    /// The name after the version's `_`, as diesel writes it (dashes allowed).
    pub name: &'a str,
}

/// Which part of a diesel timestamp is out of range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// The month, 01 to 12.
    Month,
    /// The day, 01 to the month's last.
    Day,
    /// The hour, 00 to 23.
    Hour,
    /// The minute, 00 to 59.
    Minute,
    /// The second, 00 to 59.
    Second,
}

impl Field {
    /// The field's name in a message: `month`.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Month => "month",
            Field::Day => "day",
            Field::Hour => "hour",
            Field::Minute => "minute",
            Field::Second => "second",
        }
    }
}

/// How a directory name fails diesel's grammar.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DieselNameError {
    /// The version is not one of diesel's forms: `2017-8-31-230457`, `201708312304`.
    NotATimestamp,
    /// A timestamp with a field out of range: month 13, hour 25, 31 April.
    Impossible {
        /// The field out of range.
        field: Field,
        /// Its value as written.
        value: u32,
    },
    /// Nothing after the version's `_`.
    NoName,
    /// A character diesel_cli never writes in a name; carries the first one.
    BadChar(char),
}

/// Splits a diesel directory name such as `2017-08-31-230457_invitations`.
pub fn parse(stem: &str) -> Result<DieselName<'_>, DieselNameError> {
    let (written, name) = stem.split_once('_').ok_or(DieselNameError::NotATimestamp)?;
    let version = version_of(written)?;
    if name.is_empty() {
        return Err(DieselNameError::NoName);
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-')))
    {
        return Err(DieselNameError::BadChar(bad));
    }
    Ok(DieselName {
        written,
        version,
        name,
    })
}

/// Whether `stem` is written in a form only diesel uses: a dashed timestamp or the initial
/// setup's zeros. A plain `YYYYMMDDHHMMSS_name` is not: it is a valid name of either form.
pub fn is_diesel_only(stem: &str) -> bool {
    let written = stem.split_once('_').map_or(stem, |(version, _)| version);
    is_dashed(written) || (written.len() == 14 && written.bytes().all(|b| b == b'0'))
}

/// Whether `stem` starts with a 14-digit version followed by `_`.
pub fn has_plain_timestamp(stem: &str) -> bool {
    stem.split_once('_')
        .is_some_and(|(written, _)| written.len() == 14 && all_digits(written))
}

/// The version diesel_migrations records for the version `written` in a name: its digits
/// without the dashes, as text (`2017-08-31-230457` is `20170831230457`).
pub fn recorded_version(written: &str) -> String {
    written.replace('-', "")
}

/// The name's number for the version `written` in one of diesel's forms.
fn version_of(written: &str) -> Result<u64, DieselNameError> {
    let (timestamp, suffix) = match written.len() {
        14 if all_digits(written) => (written.to_owned(), 0),
        17 if is_dashed(written) => (recorded_version(written), 0),
        22 if is_dashed(written) && written.as_bytes()[17] == b'-' => {
            let suffix = &written[18..];
            if !all_digits(suffix) {
                return Err(DieselNameError::NotATimestamp);
            }
            (
                recorded_version(&written[..17]),
                suffix.parse().expect("four digits"),
            )
        }
        _ => return Err(DieselNameError::NotATimestamp),
    };
    if !all_digits(&timestamp) {
        return Err(DieselNameError::NotATimestamp);
    }
    let value: u64 = timestamp.parse().expect("14 digits fit in u64");
    if value != 0 || suffix != 0 {
        check_timestamp(&timestamp)?;
    }
    Ok(value * SUFFIX_SPAN + suffix)
}

/// `YYYY-MM-DD-HHMMSS`, with or without a further `-NNNN`: dashes at 4, 7 and 10, digits
/// elsewhere in the first 17 characters.
fn is_dashed(written: &str) -> bool {
    let bytes = written.as_bytes();
    bytes.len() >= 17
        && bytes[..17].iter().enumerate().all(|(at, b)| match at {
            4 | 7 | 10 => *b == b'-',
            _ => b.is_ascii_digit(),
        })
}

fn all_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// Checks the fields of 14 digits `YYYYMMDDHHMMSS`.
fn check_timestamp(digits: &str) -> Result<(), DieselNameError> {
    let field = |range: std::ops::Range<usize>| -> u32 { digits[range].parse().expect("digits") };
    let (year, month, day) = (field(0..4), field(4..6), field(6..8));
    let (hour, minute, second) = (field(8..10), field(10..12), field(12..14));
    let impossible = |field, value| Err(DieselNameError::Impossible { field, value });
    if !(1..=12).contains(&month) {
        return impossible(Field::Month, month);
    }
    if day == 0 || day > days_in_month(year, month) {
        return impossible(Field::Day, day);
    }
    if hour > 23 {
        return impossible(Field::Hour, hour);
    }
    if minute > 59 {
        return impossible(Field::Minute, minute);
    }
    if second > 59 {
        return impossible(Field::Second, second);
    }
    Ok(())
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        _ => 31,
    }
}

/// A version number written in diesel_cli 2.3's form: `201708312304570001` is
/// `2017-08-31-230457-0001`, the version `new` writes and fixes propose.
pub fn written(version: u64) -> String {
    let digits = format!("{version:018}");
    format!(
        "{}-{}-{}-{}-{}",
        &digits[..4],
        &digits[4..6],
        &digits[6..8],
        &digits[8..14],
        &digits[14..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_three_forms_and_the_initial_setup() {
        let parsed = parse("2017-08-31-230457_invitations").unwrap();
        assert_eq!(
            (parsed.written, parsed.version, parsed.name),
            ("2017-08-31-230457", 201708312304570000, "invitations")
        );
        assert_eq!(
            parse("20140925132250_dumped_migration_8").unwrap().version,
            201409251322500000
        );
        assert_eq!(
            parse("2025-11-19-091444-0007_add_x").unwrap().version,
            202511190914440007
        );
        assert_eq!(
            parse("00000000000000_diesel_initial_setup")
                .unwrap()
                .version,
            0
        );
        assert_eq!(
            parse("2019-01-02-030405_make-unique-version-unique")
                .unwrap()
                .name,
            "make-unique-version-unique"
        );
    }

    #[test]
    fn number_order_is_diesels_text_order() {
        let names = [
            "00000000000000_a",
            "20140925132250_b",
            "2014-09-25-132251_c",
            "2025-11-19-091443-0001_d",
            "20251119091444_e",
            "2025-11-19-091444-0001_f",
        ];
        let mut by_text: Vec<&str> = names.to_vec();
        by_text.sort_by_key(|stem| recorded_version(parse(stem).unwrap().written));
        let mut by_number = names.to_vec();
        by_number.sort_by_key(|stem| parse(stem).unwrap().version);
        assert_eq!(by_text, by_number);
    }

    #[test]
    fn refuses_impossible_timestamps() {
        let fault = |stem| parse(stem).unwrap_err();
        let impossible = |field, value| DieselNameError::Impossible { field, value };
        assert_eq!(fault("2017-13-01-000000_x"), impossible(Field::Month, 13));
        assert_eq!(fault("2017-04-31-000000_x"), impossible(Field::Day, 31));
        assert_eq!(fault("2017-02-29-000000_x"), impossible(Field::Day, 29));
        assert!(parse("2016-02-29-000000_x").is_ok());
        assert_eq!(fault("2017-01-01-250000_x"), impossible(Field::Hour, 25));
        assert_eq!(fault("20170101006000_x"), impossible(Field::Minute, 60));
        assert_eq!(fault("00000000000001_x"), impossible(Field::Month, 0));
        assert_eq!(fault("2017-8-31-230457_x"), DieselNameError::NotATimestamp);
        assert_eq!(fault("201708312304_x"), DieselNameError::NotATimestamp);
        assert_eq!(
            fault("2017-08-31-230457-00_x"),
            DieselNameError::NotATimestamp
        );
        assert_eq!(fault("2017-08-31-230457_"), DieselNameError::NoName);
        assert_eq!(
            fault("2017-08-31-230457_a b"),
            DieselNameError::BadChar(' ')
        );
    }

    #[test]
    fn tells_diesel_only_names_from_shared_ones() {
        assert!(is_diesel_only("2017-08-31-230457_invitations"));
        assert!(is_diesel_only("00000000000000_diesel_initial_setup"));
        assert!(!is_diesel_only("20140925132250_dumped"));
        assert!(has_plain_timestamp("20140925132250_dumped"));
        assert!(!has_plain_timestamp("024_add_codec"));
    }

    #[test]
    fn a_number_is_written_in_diesel_clis_form_and_read_back() {
        assert_eq!(written(202611220102030000), "2026-11-22-010203-0000");
        assert_eq!(
            parse(&format!("{}_x", written(201708312304570001)))
                .unwrap()
                .version,
            201708312304570001
        );
    }
}
