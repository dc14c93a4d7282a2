//! The entry points of a migration written in Rust, checked before rustc compiles the file,
//! so that a missing or misnamed `up` is an error naming the file and the fix rather than a
//! type error inside the macro's output.

/// The signature every entry point has.
pub const SIGNATURE: &str =
    "pub fn up(step: &mut waterline::code::Step<'_>) -> waterline::code::Result";

/// What a migration's source defines.
pub struct Entries {
    /// Whether it defines `down`.
    pub down: bool,
}

/// Checks `source` (shown as `file`): a `pub fn up` taking one `&mut` argument and returning
/// a value, and `down` likewise if present. Source rustc cannot parse is left to rustc,
/// whose errors point into the file.
pub fn check(file: &str, source: &str) -> Result<Entries, Vec<String>> {
    let Ok(parsed) = syn::parse_file(source) else {
        return Ok(Entries { down: false });
    };
    let functions: Vec<&syn::ItemFn> = parsed
        .items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Fn(function) => Some(function),
            _ => None,
        })
        .collect();
    let mut errors = Vec::new();
    let find = |name: &str| functions.iter().find(|f| f.sig.ident == name).copied();
    match find("up") {
        Some(up) => errors.extend(signature_problem(file, up)),
        None => {
            let others: Vec<String> = functions
                .iter()
                .map(|f| format!("`fn {}`", f.sig.ident))
                .collect();
            let found = match others.is_empty() {
                true => String::new(),
                false => format!(" (it defines {})", others.join(", ")),
            };
            errors.push(format!(
                "`{file}` has no `up` function{found}: a migration written in Rust defines \
                 `{SIGNATURE}`, and may define `down` likewise"
            ));
        }
    }
    let down = find("down");
    if let Some(down) = down {
        errors.extend(signature_problem(file, down));
    }
    match errors.is_empty() {
        true => Ok(Entries {
            down: down.is_some(),
        }),
        false => Err(errors),
    }
}

/// What is wrong with the signature of `function`, if anything.
fn signature_problem(file: &str, function: &syn::ItemFn) -> Option<String> {
    let sig = &function.sig;
    let name = sig.ident.to_string();
    let fault = if !matches!(function.vis, syn::Visibility::Public(_)) {
        "is not `pub`"
    } else if sig.asyncness.is_some() {
        "is `async`; migrations run on a blocking diesel connection"
    } else if sig.generics.type_params().next().is_some() {
        "is generic"
    } else if sig.inputs.len() != 1 || !takes_mut_reference(sig) {
        "must take one argument, `step: &mut waterline::code::Step<'_>`"
    } else if matches!(sig.output, syn::ReturnType::Default) {
        "returns nothing; it must return `waterline::code::Result`"
    } else {
        return None;
    };
    let expected = SIGNATURE.replacen("fn up", &format!("fn {name}"), 1);
    Some(format!(
        "`fn {name}` in `{file}` {fault}; write it as `{expected}`"
    ))
}

fn takes_mut_reference(sig: &syn::Signature) -> bool {
    match sig.inputs.first() {
        Some(syn::FnArg::Typed(arg)) => matches!(
            &*arg.ty,
            syn::Type::Reference(reference) if reference.mutability.is_some()
        ),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misnamed_entry_point_names_the_file_what_it_found_and_the_fix() {
        let errors = check("migrations/012_fill.rs", "pub fn run_migration() {}").err();
        assert_eq!(
            errors.unwrap(),
            [
                "`migrations/012_fill.rs` has no `up` function (it defines `fn run_migration`): a \
              migration written in Rust defines `pub fn up(step: &mut waterline::code::Step<'_>) \
              -> waterline::code::Result`, and may define `down` likewise"
            ]
        );
    }

    #[test]
    fn a_wrong_signature_is_named() {
        let errors = check(
            "m/1_a.rs",
            "pub fn up(x: i32) -> R { }\nfn down(s: &mut S) -> R {}",
        )
        .err()
        .unwrap();
        assert_eq!(errors.len(), 2);
        assert!(errors[0].contains("`fn up` in `m/1_a.rs` must take one argument"));
        assert!(
            errors[1].contains("`fn down` in `m/1_a.rs` is not `pub`; write it as `pub fn down(")
        );
        let fine = check(
            "m/1_a.rs",
            "pub fn up(s: &mut Step<'_>) -> Result { Ok(()) }",
        );
        assert!(fine.is_ok_and(|entries| !entries.down));
    }
}
