//! Implementation detail of [waterline](https://docs.rs/waterline): the `embed_migrations!`
//! macro. Depend on `waterline`, which re-exports it; this crate's API is not stable on its own.

mod expand;

use proc_macro::TokenStream;

/// Embeds a migrations folder, checked by waterline's folder rules, as a `waterline::Migrations`.
///
/// `embed_migrations!()` reads `migrations/` beside `Cargo.toml`; `embed_migrations!("path")`
/// reads a path relative to `Cargo.toml`. Every problem of the folder is a compile error.
/// See the `waterline` crate for the rules and for the `build.rs` line that makes cargo notice
/// added files.
#[proc_macro]
pub fn embed_migrations(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as expand::Input);
    expand::expand(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
