//! Implementation detail of [waterline](https://docs.rs/waterline): the `embed_migrations!`
//! macro. Depend on `waterline`, which re-exports it; this crate's API is not stable on its own.

#![deny(missing_docs)]

mod expand;
mod rust_entry;

use proc_macro::TokenStream;

/// Embeds a migrations folder, checked by waterline's folder rules, as a `waterline::Migrations`.
///
/// `embed_migrations!()` reads `migrations/` beside `Cargo.toml`; `embed_migrations!("path")`
/// reads a path relative to `Cargo.toml`. Every problem of the folder, and every lint error, is
/// a compile error naming the file and the fix. `lint = strict` fails the build on lint advice
/// too; `lint = errors` is the default:
///
/// ```ignore
/// static MIGRATIONS: waterline::Migrations = waterline::embed_migrations!();
/// static STRICT: waterline::Migrations =
///     waterline::embed_migrations!("db/migrations", lint = strict);
/// ```
///
/// See [the `waterline` crate](https://docs.rs/waterline/latest/waterline/macro.embed_migrations.html)
/// for the folder rules, the lints and the `build.rs` line that makes cargo notice added files.
#[proc_macro]
pub fn embed_migrations(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as expand::Input);
    expand::expand(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
