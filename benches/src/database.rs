//! A fresh database per measurement: a SQLite file, or a PostgreSQL or MariaDB database made
//! on the local server and dropped after.

use diesel::connection::SimpleConnection;
use diesel::Connection;

/// A backend measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// A SQLite file.
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MariaDB.
    Mysql,
}

impl Backend {
    /// How the backend is named in the results.
    pub fn label(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite file",
            Backend::Postgres => "PostgreSQL",
            Backend::Mysql => "MariaDB",
        }
    }

    /// The command-line client the SQL floors run with, if measured on this backend.
    pub fn cli(self) -> Option<&'static str> {
        match self {
            Backend::Sqlite => Some("sqlite3"),
            Backend::Postgres => Some("psql"),
            Backend::Mysql => None,
        }
    }
}

/// The servers' URLs (a database name at the end, used to create the others).
pub struct Servers {
    /// PostgreSQL's.
    pub postgres: String,
    /// MariaDB's.
    pub mysql: String,
}

impl Servers {
    /// `WATERLINE_BENCH_POSTGRES_URL` and `WATERLINE_BENCH_MYSQL_URL`, or the local servers'
    /// `test` databases.
    pub fn from_env() -> Servers {
        let url =
            |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
        Servers {
            postgres: url(
                "WATERLINE_BENCH_POSTGRES_URL",
                "postgres://postgres@127.0.0.1:5432/test",
            ),
            mysql: url(
                "WATERLINE_BENCH_MYSQL_URL",
                "mysql://root@127.0.0.1:3306/test",
            ),
        }
    }
}

/// A database of its own.
pub struct Database {
    pub backend: Backend,
    /// The URL, or the file path for SQLite.
    pub url: String,
    name: String,
    server: String,
    _dir: Option<tempfile::TempDir>,
}

impl Database {
    /// A fresh, empty database.
    pub fn fresh(backend: Backend, servers: &Servers, label: &str) -> Database {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let name = format!(
            "waterline_bench_{label}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = dir.path().join("bench.db").to_string_lossy().into_owned();
                Database {
                    backend,
                    url,
                    name,
                    server: String::new(),
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                // CHECKPOINT: every measurement starts with no dirty buffers left by the one
                // before.
                let create = format!("CREATE DATABASE \"{name}\"");
                on_admin::<diesel::PgConnection>(&servers.postgres, &[&create, "CHECKPOINT"]);
                Database::on_server(backend, &servers.postgres, name, "sslmode=disable")
            }
            Backend::Mysql => {
                on_admin::<diesel::MysqlConnection>(
                    &servers.mysql,
                    &[&format!("CREATE DATABASE `{name}`")],
                );
                Database::on_server(backend, &servers.mysql, name, "ssl_mode=disabled")
            }
        }
    }

    /// The database `name`, made on the server at `server`, with TLS off (`tls_off`): every
    /// client then speaks the plain protocol on loopback, and the round-trip proxy can read it.
    fn on_server(backend: Backend, server: &str, name: String, tls_off: &str) -> Database {
        let url = format!("{}/{name}?{tls_off}", server.rsplit_once('/').unwrap().0);
        Database {
            backend,
            url,
            name,
            server: server.to_owned(),
            _dir: None,
        }
    }

    /// The server's `host:port`, as written in the URL.
    pub fn address(&self) -> &str {
        let after_user = self
            .url
            .split_once('@')
            .map_or(self.url.as_str(), |(_, rest)| rest);
        after_user.split('/').next().unwrap_or(after_user)
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        match self.backend {
            Backend::Sqlite => {}
            Backend::Postgres => {
                if let Ok(mut admin) = diesel::PgConnection::establish(&self.server) {
                    let _ = admin.batch_execute(&format!(
                        "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                        self.name
                    ));
                }
            }
            Backend::Mysql => {
                if let Ok(mut admin) = diesel::MysqlConnection::establish(&self.server) {
                    let _ =
                        admin.batch_execute(&format!("DROP DATABASE IF EXISTS `{}`", self.name));
                }
            }
        }
    }
}

/// Runs `statements`, one by one, on a new connection to the server's admin database.
fn on_admin<C: Connection>(server: &str, statements: &[&str]) {
    let mut admin = C::establish(server).unwrap_or_else(|e| panic!("{server} answers: {e}"));
    for statement in statements {
        admin
            .batch_execute(statement)
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
}
