//! Reads the folder with `waterline_core` and turns it into static data, or into one compile
//! error per problem.

use std::path::{Path, PathBuf};

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::parse::{Parse, ParseStream};
use syn::LitStr;
use waterline_core::{Backend, Direction, Directives, Migration, Problem, Script};

/// The default folder, relative to `CARGO_MANIFEST_DIR`.
const DEFAULT_FOLDER: &str = "migrations";

/// The macro's arguments: the folder's path, then `lint = strict` and `history = "<version>"`,
/// each optional, the settings in any order.
pub struct Input {
    path: Option<LitStr>,
    strict: bool,
    history: Option<LitStr>,
}

const USAGE: &str =
    "expected the folder's path, `lint = strict` and `history = \"<version>\"`, as in \
     `embed_migrations!(\"migrations\", lint = strict)`";

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let path = if input.peek(LitStr) {
            Some(input.parse::<LitStr>()?)
        } else {
            None
        };
        let mut parsed = Input {
            path,
            strict: false,
            history: None,
        };
        let mut first = parsed.path.is_none();
        while !input.is_empty() {
            if !first {
                input.parse::<syn::Token![,]>()?;
            }
            first = false;
            parsed.setting(input)?;
        }
        Ok(parsed)
    }
}

impl Input {
    /// One `key = value`: `lint = strict | errors` (advice fails the build too, or only
    /// errors, the default) or `history = "<version>"` (migrations up to it are history).
    fn setting(&mut self, input: ParseStream<'_>) -> syn::Result<()> {
        let key: syn::Ident = input
            .parse()
            .map_err(|e| syn::Error::new(e.span(), USAGE))?;
        if !input.peek(syn::Token![=]) {
            return Err(syn::Error::new(key.span(), USAGE));
        }
        input.parse::<syn::Token![=]>()?;
        match key.to_string().as_str() {
            "lint" => {
                let level: syn::Ident = input.parse()?;
                self.strict = match level.to_string().as_str() {
                    "strict" => true,
                    "errors" => false,
                    _ => {
                        return Err(syn::Error::new(
                            level.span(),
                            "expected `lint = strict` or `lint = errors`",
                        ))
                    }
                };
            }
            "history" => self.history = Some(input.parse()?),
            _ => return Err(syn::Error::new(key.span(), USAGE)),
        }
        Ok(())
    }
}

pub fn expand(input: Input) -> syn::Result<TokenStream> {
    let (label, span) = match &input.path {
        Some(lit) => (lit.value(), lit.span()),
        None => (DEFAULT_FOLDER.to_owned(), Span::call_site()),
    };
    let manifest_dir = manifest_dir(span)?;
    let folder = manifest_dir.join(&label);
    let (migrations, notices) = match waterline_core::folder::read(&folder, &label) {
        Ok(read) => (read.migrations, read.notices),
        Err(problems) => return Ok(compile_errors(problems, span)),
    };
    let history_until = match &input.history {
        None => None,
        Some(lit) => match waterline_core::model::find_version(&migrations, &lit.value()) {
            Some(migration) => Some(migration.version()),
            None => {
                let message = format!(
                    "`history = \"{}\"` names no migration of `{label}`; write the version of the \
                     newest migration already applied in production, as in its name",
                    lit.value()
                );
                return Err(syn::Error::new(lit.span(), message));
            }
        },
    };
    // Migrations up to `history` are applied history: editing one would change its checksum,
    // so what the lints find in them is advice, shown by `migrate lint`.
    let linted = match history_until {
        Some(until) => &migrations[migrations.partition_point(|m| m.version() <= until)..],
        None => &migrations[..],
    };
    let backends = compiled_backends();
    let failing: Vec<String> = waterline_core::lint::failing_for(linted, input.strict, &backends)
        .into_iter()
        .map(|finding| Problem::Lint { finding }.to_string())
        .chain(
            notices
                .iter()
                .filter(|_| input.strict)
                .map(|notice| format!("{} [strict]", notice.message)),
        )
        .collect();
    if !failing.is_empty() {
        return Ok(compile_errors(failing, span));
    }
    let notices: Vec<&str> = notices.iter().map(|n| n.message.as_str()).collect();
    let history = match history_until {
        Some(version) => quote!(::core::option::Option::Some(#version)),
        None => quote!(::core::option::Option::None),
    };
    let mut emitter = Emitter {
        manifest_dir: &manifest_dir,
        items: Vec::new(),
        code: Vec::new(),
        errors: Vec::new(),
    };
    let entries: Vec<TokenStream> = migrations
        .iter()
        .map(|migration| emitter.migration(migration))
        .collect();
    if !emitter.errors.is_empty() {
        return Ok(compile_errors(emitter.errors, span));
    }
    let items = emitter.items;
    let code = emitter.code;
    let with_code = match code.is_empty() {
        true => None,
        false => Some(quote!(.with_code(CODE))),
    };
    let code_const = (!code.is_empty())
        .then(|| quote!(const CODE: &[::waterline::__private::Code] = &[#(#code),*];));
    let source = folder
        .canonicalize()
        .unwrap_or(folder)
        .to_string_lossy()
        .into_owned();
    let label = label.trim_end_matches('/');
    // Every slice is the whole initializer of a `const`, the one place a reference to data
    // built by `const fn` calls is allowed in a `static`.
    Ok(quote! {{
        #(#items)*
        const MIGRATIONS: &[::waterline::__private::EmbeddedMigration] = &[#(#entries),*];
        #code_const
        ::waterline::__private::Migrations::from_static(
            MIGRATIONS,
            #label,
            if cfg!(debug_assertions) { ::core::option::Option::Some(#source) } else { ::core::option::Option::None },
            &[#(#notices),*],
            #history,
        )#with_code
    }})
}

/// The backends the app compiles waterline with (its features, forwarded to this crate), or
/// every backend when none is known.
fn compiled_backends() -> Vec<Backend> {
    Backend::compiled(
        cfg!(feature = "postgres"),
        cfg!(feature = "mysql"),
        cfg!(feature = "sqlite"),
    )
}

/// The crate's directory; `CARGO_MANIFEST_DIR_OVERRIDE` first, so that trybuild's ui tests,
/// which compile inside `target/`, can point the macro at their fixture folders.
fn manifest_dir(span: Span) -> syn::Result<PathBuf> {
    std::env::var_os("CARGO_MANIFEST_DIR_OVERRIDE")
        .or_else(|| std::env::var_os("CARGO_MANIFEST_DIR"))
        .map(PathBuf::from)
        .ok_or_else(|| {
            syn::Error::new(
                span,
                "`CARGO_MANIFEST_DIR` is not set; build this crate with cargo",
            )
        })
}

/// One error per problem, combined and emitted inside a block so rustc shows exactly them.
fn compile_errors<T: std::fmt::Display>(
    problems: impl IntoIterator<Item = T>,
    span: Span,
) -> TokenStream {
    let errors = problems
        .into_iter()
        .map(|problem| syn::Error::new(span, problem).into_compile_error());
    quote!({ #(#errors)* })
}

/// Builds the expression of each migration and the `const` items its slices live in.
struct Emitter<'a> {
    manifest_dir: &'a Path,
    items: Vec<TokenStream>,
    /// The `Code` of each migration written in Rust.
    code: Vec<TokenStream>,
    /// What is wrong with the entry points of migrations written in Rust.
    errors: Vec<String>,
}

impl Emitter<'_> {
    /// The compact form of a forward-only file without directives, the common case; any other
    /// migration in full, as a `const` of its own.
    fn migration(&mut self, migration: &Migration) -> TokenStream {
        let version = migration.version();
        if let Some(script) = plain_file(migration) {
            let path = script.path();
            let path_len = u32::try_from(path.len()).expect("a path shorter than 4 GiB");
            let absolute = self.absolute(script);
            let checksum = proc_macro2::Literal::byte_string(script.checksum().as_bytes());
            let class = class_tokens(migration.class());
            return quote! {
                ::waterline::__private::EmbeddedMigration::file(
                    #version,
                    ::core::concat!(#path, "\n", ::core::include_str!(#absolute)),
                    #path_len,
                    *#checksum,
                    #class,
                )
            };
        }
        if migration.is_rust() {
            self.rust_code(migration);
        }
        let id = migration.id();
        let name_start = id.len() - migration.name().len();
        let up = self.direction(migration.up());
        let down = self.direction(migration.down());
        let name = format_ident!("MIGRATION_{}", self.items.len());
        let class = class_tokens(migration.class());
        self.items.push(quote! {
            const #name: &::waterline::__private::Migration = &::waterline::__private::Migration::from_static(
                #version, #id, #name_start, #up, #down, #class,
            );
        });
        quote!(::waterline::__private::EmbeddedMigration::full(#name))
    }

    /// Compiles the file of a migration written in Rust as a module of the app (`#[path]`,
    /// which also makes cargo rebuild on an edit) and records its entry points; in a build
    /// without the runner, only checks and tracks it.
    fn rust_code(&mut self, migration: &Migration) {
        let script = migration
            .up()
            .default_script()
            .expect("a Rust migration has its source");
        let entries = match crate::rust_entry::check(script.path(), script.sql()) {
            Ok(entries) => entries,
            Err(errors) => {
                self.errors.extend(errors);
                return;
            }
        };
        let absolute = self.absolute(script);
        // Without the runner the app cannot run code, nor name `waterline::code`: the file is
        // only checked above and tracked, so that an edit still rebuilds.
        if !cfg!(feature = "runner") {
            self.items.push(quote! {
                const _: &str = ::core::include_str!(#absolute);
            });
            return;
        }
        let module = format_ident!("migration_{}", migration.version());
        let version = migration.version();
        let down = match entries.down {
            true => quote!(::core::option::Option::Some(#module::down)),
            false => quote!(::core::option::Option::None),
        };
        self.items.push(quote! {
            #[path = #absolute]
            mod #module;
        });
        self.code.push(quote! {
            ::waterline::__private::Code::new(#version, #module::up, #down)
        });
    }

    /// The absolute path of `script`, for `include_str!`.
    fn absolute(&self, script: &Script) -> String {
        self.manifest_dir
            .join(script.path())
            .to_string_lossy()
            .into_owned()
    }

    fn direction(&mut self, direction: &Direction) -> TokenStream {
        let default = match direction.default_script() {
            Some(script) => {
                let script = self.script(script);
                quote!(::core::option::Option::Some(#script))
            }
            None => quote!(::core::option::Option::None),
        };
        let variants: Vec<TokenStream> = direction
            .variants()
            .iter()
            .map(|variant| {
                let backend = match variant.backend() {
                    waterline_core::Backend::Postgres => quote!(Postgres),
                    waterline_core::Backend::Mysql => quote!(Mysql),
                    waterline_core::Backend::Sqlite => quote!(Sqlite),
                };
                let script = self.script(variant.script());
                quote!(::waterline::__private::Variant::new(::waterline::__private::Backend::#backend, #script))
            })
            .collect();
        if variants.is_empty() {
            // An empty slice is promoted as it is; only slices built by `const fn` calls need
            // a `const` of their own. Most migrations have no variants: fewer items to check.
            return quote!(::waterline::__private::Direction::from_static(#default, &[]));
        }
        let name = format_ident!("VARIANTS_{}", self.items.len());
        self.items.push(quote! {
            const #name: &[::waterline::__private::Variant] = &[#(#variants),*];
        });
        quote!(::waterline::__private::Direction::from_static(#default, #name))
    }

    /// A script as static data; `include_str!` of its absolute path makes an edit rebuild
    /// the crate.
    fn script(&self, script: &Script) -> TokenStream {
        let shown = script.path();
        let absolute = self.absolute(script);
        // One byte-string literal, not 32 integer literals: less for rustc to type-check.
        let checksum = proc_macro2::Literal::byte_string(script.checksum().as_bytes());
        let directives = script.directives();
        let no_transaction = directives.no_transaction();
        let allowed = directives.allowed_lints();
        let statements = script
            .statement_ranges()
            .iter()
            .map(|(start, end)| quote!((#start, #end)));
        let timeout = directives.statement_timeout().map(|timeout| {
            let millis = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
            quote!(.with_statement_timeout(#millis))
        });
        let rust = script.is_rust().then(|| {
            let background = directives.background();
            quote!(.rust(#background))
        });
        quote! {
            ::waterline::__private::Script::from_static(
                #shown,
                ::core::include_str!(#absolute),
                *#checksum,
                #no_transaction,
                &[#(::waterline::__private::Cow::Borrowed(#allowed)),*],
                &[#(#statements),*],
            )#timeout #rust
        }
    }
}

/// `class` as an expression.
fn class_tokens(class: waterline_core::Class) -> TokenStream {
    match class {
        waterline_core::Class::Expand => quote!(::waterline::__private::Class::Expand),
        waterline_core::Class::Contract => quote!(::waterline::__private::Class::Contract),
    }
}

/// The script of a migration that is one `.sql` file with no down script, no variants and no
/// directives: what [`EmbeddedMigration::file`] holds.
///
/// [`EmbeddedMigration::file`]: waterline_core::EmbeddedMigration::file
fn plain_file(migration: &Migration) -> Option<&Script> {
    let up = migration.up();
    let script = up.default_script()?;
    let single_file = script.path().ends_with(&format!("{}.sql", migration.id()));
    let plain = up.variants().is_empty()
        && migration.down().is_empty()
        && single_file
        && *script.directives() == Directives::default();
    plain.then_some(script)
}
