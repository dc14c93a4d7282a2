//! Property tests: every valid name is accepted and parses back to its parts, and no input
//! makes a parser panic.

use proptest::prelude::*;
use waterline_core::{checksum, directive, name, read_folder, sql_text, Checksum};

/// `default` cases, times `WATERLINE_FUZZ_SCALE` when set (a longer hunt than CI's).
fn cases(default: u32) -> u32 {
    let scale = std::env::var("WATERLINE_FUZZ_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    default * scale
}

/// Lowercase snake_case names: `[a-z][a-z0-9]*(_[a-z0-9]+)*`.
fn valid_name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9]{0,8}(_[a-z0-9]{1,6}){0,4}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(2_000)))]

    #[test]
    fn valid_names_parse_back_to_their_parts(version in 0u64..=name::MAX_VERSION, width in 3usize..=19, name in valid_name()) {
        let digits = name::pad_version(version, width.max(name::significant_digits(version)));
        let stem = format!("{digits}_{name}");
        let parsed = name::parse_stem(&stem).unwrap();
        prop_assert_eq!(parsed.digits, digits.as_str());
        prop_assert_eq!(parsed.version, version);
        prop_assert_eq!(parsed.name, name.as_str());
        prop_assert!(name::is_valid_name(&name));
    }

    #[test]
    fn name_parsing_never_panics(stem in any::<String>()) {
        let _ = name::parse_stem(&stem);
        if let Some(suggestion) = name::suggest_name(&stem) {
            prop_assert!(name::is_valid_name(&suggestion));
        }
    }

    #[test]
    fn names_with_a_bad_character_are_rejected(prefix in valid_name(), bad in "[^a-z0-9_]", suffix in valid_name()) {
        let name = format!("{prefix}{bad}{suffix}");
        prop_assert!(!name::is_valid_name(&name));
    }

    #[test]
    fn directive_parsing_never_panics(sql in any::<String>()) {
        let _ = directive::parse(&sql);
    }

    #[test]
    fn directive_lines_are_found_anywhere_in_a_preamble(comments in prop::collection::vec("[ a-z]{0,10}", 0..4)) {
        let mut sql: String = comments.iter().map(|c| format!("-- {c}\n")).collect();
        sql.push_str("-- waterline:no-transaction\nSELECT 1;\n");
        prop_assert!(directive::parse(&sql).unwrap().no_transaction());
    }

    #[test]
    fn preamble_never_panics_and_points_at_a_char_boundary(sql in any::<String>()) {
        let preamble = sql_text::preamble(&sql);
        if let Some(start) = preamble.statement_start {
            prop_assert!(sql.is_char_boundary(start));
            // Databases skip ASCII whitespace only; anything else starts a statement.
            prop_assert!(!sql.as_bytes()[start].is_ascii_whitespace());
        }
    }

    #[test]
    fn normalised_text_has_no_carriage_return_and_is_stable(sql in any::<String>()) {
        let once = checksum::normalize(&sql).into_owned();
        prop_assert!(!once.contains('\r'));
        let twice = checksum::normalize(&once).into_owned();
        prop_assert_eq!(twice, once);
    }

    #[test]
    fn line_endings_and_bom_never_change_a_checksum(lines in prop::collection::vec("[^\r\n\u{feff}]{0,20}", 0..6)) {
        let lf = lines.join("\n");
        prop_assert_eq!(Checksum::of(&lines.join("\r\n")), Checksum::of(&lf));
        prop_assert_eq!(Checksum::of(&lines.join("\r")), Checksum::of(&lf));
        prop_assert_eq!(Checksum::of(&format!("\u{feff}{lf}")), Checksum::of(&lf));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(200)))]

    #[test]
    fn reading_any_folder_never_panics(files in prop::collection::vec(("[0-9a-zA-Z_. -]{1,16}", any::<Vec<u8>>()), 0..6)) {
        let dir = tempfile::tempdir().unwrap();
        for (file_name, content) in &files {
            if file_name != "." && file_name != ".." {
                let _ = std::fs::write(dir.path().join(file_name), content);
            }
        }
        let _ = read_folder(dir.path(), "migrations");
    }
}

/// Text made of SQL's words and punctuation, where the tokenizer and parser do real work.
fn sql_like() -> impl Strategy<Value = String> {
    let token = prop::sample::select(vec![
        "CREATE",
        "TABLE",
        "INDEX",
        "CONCURRENTLY",
        "ALTER",
        "ADD",
        "COLUMN",
        "NOT",
        "NULL",
        "DEFAULT",
        "DROP",
        "BEGIN",
        "COMMIT",
        "END",
        "ROLLBACK",
        "VACUUM",
        "TRIGGER",
        "ON",
        "t",
        "x",
        "(",
        ")",
        ";",
        ",",
        "'a;b'",
        "$$",
        "$$ ; $$",
        "--",
        "\n",
        "/*",
        "*/",
        "\"q\"",
        "`b`",
        "1",
        "=",
        "RENAME",
        "TO",
        "IF",
        "EXISTS",
    ]);
    prop::collection::vec(token, 0..40).prop_map(|tokens| tokens.join(" "))
}

fn lint_text(sql: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("001_x")).unwrap();
    std::fs::write(dir.path().join("001_x/up.sql"), format!("SELECT 1;\n{sql}")).unwrap();
    std::fs::write(
        dir.path().join("001_x/down.sql"),
        format!("SELECT 1;\n{sql}"),
    )
    .unwrap();
    if let Ok(migrations) = read_folder(dir.path(), "migrations") {
        let report = waterline_core::lint::lint(&migrations);
        // A build's quicker check (error rules only, unparsed when no word could trigger one)
        // fails exactly when the full lint does.
        for strict in [false, true] {
            let in_full: Vec<_> = report.failing(strict).cloned().collect();
            assert_eq!(waterline_core::lint::failing(&migrations, strict), in_full);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(1_000)))]

    #[test]
    fn splitting_any_text_never_panics_and_stays_in_bounds(sql in any::<String>()) {
        if let Some(ranges) = waterline_core::statements::split(&sql) {
            for range in ranges {
                prop_assert!(range.start <= range.end && range.end <= sql.len());
                prop_assert!(sql.is_char_boundary(range.start) && sql.is_char_boundary(range.end));
            }
        }
    }

    #[test]
    fn splitting_sql_like_text_never_panics(sql in sql_like()) {
        let _ = waterline_core::statements::split(&sql);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(300)))]

    #[test]
    fn linting_any_text_never_panics(sql in any::<String>()) {
        lint_text(&sql);
    }

    #[test]
    fn linting_sql_like_text_never_panics(sql in sql_like()) {
        lint_text(&sql);
    }
}
