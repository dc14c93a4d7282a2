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
}

impl DatabaseUrl {
    /// `postgres://` or `postgresql://`, `mysql://` or `mariadb://`, `sqlite://path`,
    /// `file:path` or a plain file path.
    pub fn parse(url: &str) -> DatabaseUrl {
        let (kind, connect) = if url.starts_with("postgres://") || url.starts_with("postgresql://")
        {
            (Kind::Postgres, url.to_owned())
        } else if url.starts_with("mysql://") {
            (Kind::Mysql, url.to_owned())
        } else if let Some(rest) = url.strip_prefix("mariadb://") {
            (Kind::Mysql, format!("mysql://{rest}"))
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            (Kind::Sqlite, path.to_owned())
        } else {
            (Kind::Sqlite, url.to_owned())
        };
        DatabaseUrl { kind, connect }
    }

    /// The URL with its password, if any, replaced by `***`.
    pub fn redacted(&self) -> String {
        redact(&self.connect)
    }

    /// The password, to scrub from any text shown.
    pub fn password(&self) -> Option<&str> {
        let (_, rest) = self.connect.split_once("://")?;
        let authority = rest.split(['/', '?']).next()?;
        let (credentials, _) = authority.rsplit_once('@')?;
        let (_, password) = credentials.split_once(':')?;
        (!password.is_empty()).then_some(password)
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
        write!(f, "DatabaseUrl({:?}, {})", self.kind, self.redacted())
    }
}

/// `scheme://user:***@host/...`: the password hidden, the rest as given.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
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
    fn chooses_the_backend_from_the_scheme() {
        assert_eq!(DatabaseUrl::parse("postgres://u@h/db").kind, Kind::Postgres);
        assert_eq!(
            DatabaseUrl::parse("postgresql://u@h/db").kind,
            Kind::Postgres
        );
        assert_eq!(DatabaseUrl::parse("mysql://u@h/db").kind, Kind::Mysql);
        let mariadb = DatabaseUrl::parse("mariadb://u@h/db");
        assert_eq!(
            (mariadb.kind, mariadb.connect.as_str()),
            (Kind::Mysql, "mysql://u@h/db")
        );
        let sqlite = DatabaseUrl::parse("sqlite://data/app.db");
        assert_eq!(
            (sqlite.kind, sqlite.connect.as_str()),
            (Kind::Sqlite, "data/app.db")
        );
        assert_eq!(DatabaseUrl::parse("streamvault.db").kind, Kind::Sqlite);
    }

    #[test]
    fn passwords_never_show() {
        let url =
            DatabaseUrl::parse("postgres://app:s3cr%3At@db.internal:5432/prod?sslmode=require");
        assert_eq!(
            url.redacted(),
            "postgres://app:***@db.internal:5432/prod?sslmode=require"
        );
        assert_eq!(url.password(), Some("s3cr%3At"));
        assert!(!format!("{url:?}").contains("s3cr"));
        assert_eq!(
            redact("mysql://root@127.0.0.1:3306/test"),
            "mysql://root@127.0.0.1:3306/test"
        );
        assert_eq!(redact("app.db"), "app.db");
    }
}
