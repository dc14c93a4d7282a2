//! The database named by a URL: which backend, how to show it without its password, and a
//! connection of whichever backend it is, usable by the runner.

use std::fmt;

use diesel::Connection;

use crate::runner::{Driver, MigrationConnection};

/// A backend, chosen from the URL's scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Postgres,
    Mysql,
    Sqlite,
}

impl Kind {
    fn label(self) -> (&'static str, &'static str) {
        match self {
            Kind::Postgres => ("PostgreSQL", "postgres"),
            Kind::Mysql => ("MySQL/MariaDB", "mysql"),
            Kind::Sqlite => ("SQLite", "sqlite"),
        }
    }
}

/// A database URL, parsed.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    kind: Kind,
    /// What the backend's driver is given.
    connect: String,
    /// The URL as shown: the password, wherever it sat, replaced by `***`.
    shown: String,
    /// The password, to scrub from any text a driver returns.
    password: Option<String>,
}

/// The forms `--database-url` accepts, for the error that refuses any other.
pub const ACCEPTED_FORMS: &str = "postgres://user:password@host:port/database (or \
    postgresql://, or a libpq keyword string such as `host=db dbname=app user=app`), \
    mysql://user:password@host:port/database (or mariadb://), sqlite://path, sqlite:path, \
    sqlite::memory:, or a path ending in .db, .sqlite or .sqlite3";

/// Query parameters and libpq keywords that carry a secret.
const SECRET_KEYS: [&str; 3] = ["password", "sslpassword", "passfile"];

impl DatabaseUrl {
    /// Parses `url`: a PostgreSQL or MySQL URL (with the `url` crate; a password holding `/`,
    /// `?`, `#` or `@` must be percent-encoded), a libpq keyword string, or a SQLite path in
    /// one of the documented forms. Anything else is refused, never guessed.
    pub fn parse(url: &str) -> Result<DatabaseUrl, String> {
        let url = url.trim();
        if let Some(rest) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            return Ok(DatabaseUrl::sqlite(rest));
        }
        if let Some((scheme, _)) = url.split_once("://") {
            let kind = match scheme.to_ascii_lowercase().as_str() {
                "postgres" | "postgresql" => Kind::Postgres,
                "mysql" | "mariadb" => Kind::Mysql,
                other => {
                    return Err(format!(
                        "`{other}://` is not a database URL waterline knows; use {ACCEPTED_FORMS}"
                    ))
                }
            };
            return DatabaseUrl::server(kind, url);
        }
        if is_keyword_string(url) {
            return Ok(DatabaseUrl::keywords(url));
        }
        let lower = url.to_ascii_lowercase();
        if [".db", ".sqlite", ".sqlite3"]
            .iter()
            .any(|end| lower.ends_with(end))
        {
            return Ok(DatabaseUrl::sqlite(url));
        }
        Err(format!(
            "the database URL is not in a form waterline accepts (it is not shown, as it may \
             hold a password); use {ACCEPTED_FORMS}"
        ))
    }

    fn sqlite(path: &str) -> DatabaseUrl {
        DatabaseUrl {
            kind: Kind::Sqlite,
            connect: path.to_owned(),
            shown: path.to_owned(),
            password: None,
        }
    }

    fn server(kind: Kind, text: &str) -> Result<DatabaseUrl, String> {
        let unparsable = |why: &str| {
            format!(
                "the database URL could not be parsed ({why}; it is not shown, as it may hold a \
                 password): a password holding `/`, `?`, `#` or `@` must be percent-encoded, \
                 e.g. `%2F` for `/`"
            )
        };
        let parsed = url::Url::parse(text).map_err(|e| unparsable(&e.to_string()))?;
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(unparsable("it names no host"));
        }
        // `app:12/er2@host`: an unencoded `/` cut a password short, and its end became the path.
        if parsed.path().contains('@') {
            return Err(unparsable("an `@` after the host"));
        }
        let mut password = parsed.password().map(percent_decoded);
        let mut shown = parsed.clone();
        if parsed.password().is_some() {
            let _ = shown.set_password(Some("***"));
        }
        let secret_in_query = parsed
            .query_pairs()
            .any(|(key, _)| SECRET_KEYS.contains(&key.as_ref()));
        if secret_in_query {
            let pairs: Vec<(String, String)> = parsed
                .query_pairs()
                .map(|(key, value)| {
                    if SECRET_KEYS.contains(&key.as_ref()) {
                        password.get_or_insert_with(|| value.to_string());
                        (key.to_string(), "***".to_owned())
                    } else {
                        (key.to_string(), value.to_string())
                    }
                })
                .collect();
            shown.query_pairs_mut().clear().extend_pairs(pairs);
        }
        let connect = match kind {
            // diesel's MySQL backend takes mysql:// only.
            Kind::Mysql if parsed.scheme() != "mysql" => {
                format!("mysql{}", &text[parsed.scheme().len()..])
            }
            _ => text.to_owned(),
        };
        Ok(DatabaseUrl {
            kind,
            connect,
            shown: shown.to_string(),
            password: password.filter(|p| !p.is_empty()),
        })
    }

    /// A libpq keyword string, for PostgreSQL: `host=db port=5432 dbname=app password=...`.
    fn keywords(text: &str) -> DatabaseUrl {
        let mut password = None;
        let shown: Vec<String> = keyword_pairs(text)
            .into_iter()
            .map(|(key, value)| match SECRET_KEYS.contains(&key.as_str()) {
                true => {
                    password.get_or_insert(value);
                    format!("{key}=***")
                }
                false => format!("{key}={value}"),
            })
            .collect();
        DatabaseUrl {
            kind: Kind::Postgres,
            connect: text.to_owned(),
            shown: shown.join(" "),
            password,
        }
    }

    /// The URL with its password, wherever it sat, replaced by `***`.
    pub fn redacted(&self) -> String {
        self.shown.clone()
    }

    /// The password, to scrub from any text shown.
    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// For commands that only read: a SQLite database is opened read-only, and one that does
    /// not exist is read as the empty database it would be (every migration pending), never
    /// created.
    pub fn read_only(mut self) -> DatabaseUrl {
        if self.kind != Kind::Sqlite || self.connect == ":memory:" {
            return self;
        }
        self.connect = match std::path::Path::new(&self.connect).exists() {
            true => format!("file:{}?mode=ro", self.connect),
            false => ":memory:".to_owned(),
        };
        self
    }

    /// `host:port` of a server URL, for messages (never the credentials).
    fn address(&self) -> String {
        let default_port = match self.kind {
            Kind::Postgres => 5432,
            Kind::Mysql => 3306,
            Kind::Sqlite => 0,
        };
        url::Url::parse(&self.connect)
            .ok()
            .map(|url| {
                let host = url.host_str().unwrap_or("localhost").to_owned();
                format!("{host}:{}", url.port().unwrap_or(default_port))
            })
            .unwrap_or_else(|| "the server".to_owned())
    }

    /// Connects within `timeout` (a server that accepts the connection and never answers is
    /// given up on), with an error naming the backend, the host and port, and, when the
    /// backend is not compiled in, the feature.
    pub fn connect_within(
        &self,
        timeout: std::time::Duration,
    ) -> Result<AnyConnection, ConnectFailure> {
        if self.kind == Kind::Sqlite {
            return self.connect();
        }
        let (name, _) = self.kind.label();
        let this = self.clone();
        let (sent, received) = std::sync::mpsc::channel();
        // A stuck connect cannot be cancelled through diesel: the thread is left to end with
        // the process, which is about to exit with this error.
        std::thread::spawn(move || {
            let _ = sent.send(this.connect());
        });
        received.recv_timeout(timeout).unwrap_or_else(|_| {
            Err(ConnectFailure::Unreachable(format!(
                "could not connect to {name} at `{}` within {}: {} accepted no connection or \
                 did not answer; check the host and port, that the server is running, and the \
                 network between (or raise `--connect-timeout`)",
                self.redacted(),
                humantime::format_duration(timeout),
                self.address(),
            )))
        })
    }

    /// Connects, with an error naming the backend and, when it is not compiled in, the feature.
    pub fn connect(&self) -> Result<AnyConnection, ConnectFailure> {
        let (name, feature) = self.kind.label();
        let shown = self.redacted();
        let failed = |error: diesel::ConnectionError| {
            let text = error.to_string();
            let text = self
                .password()
                .map_or(text.clone(), |password| text.replace(password, "***"));
            // libpq ends its messages with a newline, and may break lines inside them.
            let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
            ConnectFailure::Unreachable(format!("could not connect to {name} at `{shown}`: {text}; check the URL and that the server is running"))
        };
        let missing = || {
            ConnectFailure::NotCompiledIn(format!(
                "the database URL `{shown}` is for {name}, but this binary was built without \
                 waterline's `{feature}` feature; enable it, or use another URL"
            ))
        };
        match self.kind {
            #[cfg(feature = "postgres")]
            Kind::Postgres => diesel::PgConnection::establish(&self.connect)
                .map(AnyConnection::Postgres)
                .map_err(failed),
            #[cfg(feature = "mysql")]
            Kind::Mysql => diesel::MysqlConnection::establish(&self.connect)
                .map(AnyConnection::Mysql)
                .map_err(failed),
            #[cfg(feature = "sqlite")]
            Kind::Sqlite => diesel::SqliteConnection::establish(&self.connect)
                .map(AnyConnection::Sqlite)
                .map_err(failed),
            #[allow(unreachable_patterns)]
            _ => {
                let _ = failed;
                Err(missing())
            }
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({:?}, {})", self.kind, self.shown)
    }
}

/// `text` with its `%XX` escapes decoded, as a driver reads a password.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let hex = bytes
            .get(at + 1..at + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[at], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                at += 3;
            }
            (byte, _) => {
                out.push(byte);
                at += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether `text` is a libpq keyword string: `key=value` pairs, one of them a libpq keyword.
fn is_keyword_string(text: &str) -> bool {
    const KEYWORDS: [&str; 5] = ["host", "hostaddr", "dbname", "user", "port"];
    let pairs = keyword_pairs(text);
    !pairs.is_empty()
        && pairs
            .iter()
            .any(|(key, _)| KEYWORDS.contains(&key.as_str()))
}

/// The `key=value` pairs of a libpq keyword string (values may be single-quoted, with `\'`
/// and `\\` escapes); none when `text` is not made of such pairs.
fn keyword_pairs(text: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return pairs;
        }
        let key: String =
            std::iter::from_fn(|| chars.next_if(|c| *c != '=' && !c.is_whitespace())).collect();
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if key.is_empty() || chars.next() != Some('=') {
            return Vec::new();
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            loop {
                match chars.next() {
                    Some('\\') => value.extend(chars.next()),
                    Some('\'') => break,
                    Some(c) => value.push(c),
                    None => return Vec::new(),
                }
            }
        } else {
            value.extend(std::iter::from_fn(|| chars.next_if(|c| !c.is_whitespace())));
        }
        pairs.push((key, value));
    }
}

/// Why there is no connection.
#[derive(Debug)]
pub enum ConnectFailure {
    /// The URL is for a backend this binary was built without: a usage error.
    NotCompiledIn(String),
    /// The server could not be reached, did not answer, or refused the login.
    Unreachable(String),
}

/// A connection to whichever backend the URL named.
pub enum AnyConnection {
    #[cfg(feature = "postgres")]
    Postgres(diesel::PgConnection),
    #[cfg(feature = "mysql")]
    Mysql(diesel::MysqlConnection),
    #[cfg(feature = "sqlite")]
    Sqlite(diesel::SqliteConnection),
}

impl MigrationConnection for AnyConnection {
    fn with_driver<R>(&mut self, work: impl FnOnce(&mut dyn Driver) -> R) -> R {
        match self {
            #[cfg(feature = "postgres")]
            AnyConnection::Postgres(conn) => conn.with_driver(work),
            #[cfg(feature = "mysql")]
            AnyConnection::Mysql(conn) => conn.with_driver(work),
            #[cfg(feature = "sqlite")]
            AnyConnection::Sqlite(conn) => conn.with_driver(work),
            #[allow(unreachable_patterns)]
            _ => {
                let _ = work;
                unreachable!("no backend is compiled in, so no connection can exist")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chooses_the_backend_from_the_form() {
        let kind = |url: &str| DatabaseUrl::parse(url).unwrap().kind;
        assert_eq!(kind("postgres://u@h/db"), Kind::Postgres);
        assert_eq!(kind("postgresql://u@h/db"), Kind::Postgres);
        assert_eq!(
            kind("host=127.0.0.1 port=5432 user=app dbname=prod"),
            Kind::Postgres
        );
        assert_eq!(kind("mysql://u@h/db"), Kind::Mysql);
        let mariadb = DatabaseUrl::parse("mariadb://u@h/db").unwrap();
        assert_eq!(
            (mariadb.kind, mariadb.connect.as_str()),
            (Kind::Mysql, "mysql://u@h/db")
        );
        let sqlite = DatabaseUrl::parse("sqlite://data/app.db").unwrap();
        assert_eq!(
            (sqlite.kind, sqlite.connect.as_str()),
            (Kind::Sqlite, "data/app.db")
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite::memory:").unwrap().connect,
            ":memory:"
        );
        assert_eq!(kind("streamvault.db"), Kind::Sqlite);
        assert_eq!(kind("data/app.sqlite3"), Kind::Sqlite);
    }

    #[test]
    fn anything_else_is_refused_never_guessed() {
        for url in ["postgress://u@h/db", "streamvault", "redis://h", "host"] {
            let error = DatabaseUrl::parse(url).unwrap_err();
            assert!(error.contains("sqlite://path"), "{url}: {error}");
        }
        let error = DatabaseUrl::parse("postgress://app:hunter2@h/db").unwrap_err();
        assert!(!error.contains("hunter2"), "{error}");
    }

    #[test]
    fn passwords_never_show_wherever_they_sit() {
        let url =
            DatabaseUrl::parse("postgres://app:s3cr%3At@db.internal:5432/prod?sslmode=require")
                .unwrap();
        assert_eq!(
            url.redacted(),
            "postgres://app:***@db.internal:5432/prod?sslmode=require"
        );
        assert_eq!(url.password(), Some("s3cr:t"));
        assert!(!format!("{url:?}").contains("s3cr"));
        let query =
            DatabaseUrl::parse("postgres://db.internal/prod?password=hunter2&sslpassword=x2")
                .unwrap();
        assert_eq!(
            query.redacted(),
            "postgres://db.internal/prod?password=***&sslpassword=***"
        );
        assert_eq!(query.password(), Some("hunter2"));
        let keywords =
            DatabaseUrl::parse("host=127.0.0.1 user=app password='hun ter2' dbname=prod").unwrap();
        assert_eq!(
            keywords.redacted(),
            "host=127.0.0.1 user=app password=*** dbname=prod"
        );
        assert_eq!(keywords.password(), Some("hun ter2"));
        for unencoded in [
            "postgres://app:hunt/er2@host/db",
            "mysql://root:hunt/er2@host/db",
            "postgres://app:hunt?er2@host/db",
            "postgres://app:12/er2@host/db",
        ] {
            let error = DatabaseUrl::parse(unencoded).unwrap_err();
            assert!(
                !error.contains("er2") && error.contains("percent-encoded"),
                "{unencoded}: {error}"
            );
        }
        let plain = DatabaseUrl::parse("mysql://root@127.0.0.1:3306/test").unwrap();
        assert_eq!(
            (plain.redacted().as_str(), plain.password()),
            ("mysql://root@127.0.0.1:3306/test", None)
        );
    }
}
