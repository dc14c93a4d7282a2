//! Errors in the words of the `migrate` command. The runtime's messages name the library's
//! calls (`mark_applied(3)`, `ignore_missing(true)`), which is what a library user writes; a
//! person at the command line needs the command or flag that does the same.

/// `message` with every library call it recommends replaced by its `migrate` equivalent.
pub fn for_cli(message: &str) -> String {
    let mut text = message.to_owned();
    for (call, form) in [
        ("mark_applied(", "migrate mark {} applied"),
        ("mark_unapplied(", "migrate mark {} unapplied"),
    ] {
        text = replace_calls(&text, call, form);
    }
    for (library, command) in [
        (
            "set `ignore_missing(true)` to go on",
            "run with `--ignore-missing` to go on",
        ),
        (
            "set `allow_out_of_order(true)` to apply",
            "run with `--allow-out-of-order` to apply",
        ),
        ("raise `lock_timeout`", "raise `--lock-timeout`"),
        ("with force (`run ", "with `migrate run "),
        (" --force`)", " --force`"),
        (
            "without `single_transaction`",
            "without `--single-transaction`",
        ),
        ("accept it with `repair`", "accept it with `migrate repair`"),
        (
            "use `baseline(version)`",
            "use `migrate baseline <version>`",
        ),
    ] {
        text = text.replace(library, command);
    }
    text
}

/// Replaces each `` `call(N)` `` in `text` by `` `form` `` with `N` in place of `{}`.
fn replace_calls(text: &str, call: &str, form: &str) -> String {
    let pattern = format!("`{call}");
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(&pattern) {
        let after = &rest[at + pattern.len()..];
        let Some(close) = after.find(")`") else { break };
        let argument = &after[..close];
        if argument.is_empty() || !argument.chars().all(|c| c.is_ascii_digit()) {
            out.push_str(&rest[..at + pattern.len()]);
            rest = after;
            continue;
        }
        out.push_str(&rest[..at]);
        out.push('`');
        out.push_str(&form.replace("{}", argument));
        out.push('`');
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_command_instead_of_the_call() {
        assert_eq!(
            for_cli("check the schema, then `mark_applied(3)` if it is complete, or undo what it did and `mark_unapplied(3)`"),
            "check the schema, then `migrate mark 3 applied` if it is complete, or undo what it did and `migrate mark 3 unapplied`"
        );
        assert_eq!(
            for_cli("deploy a binary that has them, or set `ignore_missing(true)` to go on"),
            "deploy a binary that has them, or run with `--ignore-missing` to go on"
        );
        assert_eq!(
            for_cli("renumber it after it, or set `allow_out_of_order(true)` to apply it anyway"),
            "renumber it after it, or run with `--allow-out-of-order` to apply it anyway"
        );
        assert_eq!(
            for_cli("wait for it, or raise `lock_timeout`"),
            "wait for it, or raise `--lock-timeout`"
        );
        assert_eq!(
            for_cli("it is safe to repeat, with force (`run 4 --force`)"),
            "it is safe to repeat, with `migrate run 4 --force`"
        );
        assert_eq!(
            for_cli("nothing to see `mark_applied(x)`"),
            "nothing to see `mark_applied(x)`"
        );
    }
}
