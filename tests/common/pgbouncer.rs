//! A private PgBouncer in transaction pooling mode, in front of the test PostgreSQL server,
//! started on a port of its own and stopped by its own pid. PgBouncer refuses to run as root,
//! so a root test runs it as `nobody`.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A running PgBouncer; stopped when dropped.
pub struct PgBouncer {
    /// The port it listens on, at 127.0.0.1.
    pub port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

impl PgBouncer {
    /// Starts PgBouncer in transaction pooling mode, `pool_size` server connections per
    /// database, in front of the server of `server_url` (`postgres://user@host:port/db`).
    pub fn start(server_url: &str, pool_size: usize) -> PgBouncer {
        let binary = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"]
            .into_iter()
            .find(|path| Path::new(path).exists())
            .expect(
                "PgBouncer is needed by the PostgreSQL tests: install it (Debian: `apt-get install \
                 pgbouncer`; .ci/run does)",
            );
        let server = url::Url::parse(server_url).expect("a postgres:// URL");
        let user = match server.username() {
            "" => "postgres",
            user => user,
        };
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        std::fs::write(dir.path().join("users.txt"), format!("\"{user}\" \"\"\n")).unwrap();
        let config = format!(
            "[databases]\n\
             * = host={host} port={server_port} user={user}\n\
             [pgbouncer]\n\
             listen_addr = 127.0.0.1\n\
             listen_port = {port}\n\
             unix_socket_dir =\n\
             auth_type = trust\n\
             auth_file = {dir}/users.txt\n\
             pool_mode = transaction\n\
             default_pool_size = {pool_size}\n\
             max_client_conn = 500\n\
             ignore_startup_parameters = extra_float_digits,options\n\
             log_connections = 0\n\
             log_disconnections = 0\n\
             logfile = {dir}/pgbouncer.log\n",
            host = server.host_str().unwrap_or("127.0.0.1"),
            server_port = server.port().unwrap_or(5432),
            dir = dir.path().display(),
        );
        let ini = dir.path().join("pgbouncer.ini");
        std::fs::write(&ini, config).unwrap();
        let mut command = match is_root() {
            true => {
                // The files must be the unprivileged user's to read and write.
                let status = Command::new("chown")
                    .args(["-R", "nobody:nogroup"])
                    .arg(dir.path())
                    .status()
                    .unwrap();
                assert!(status.success(), "chown of PgBouncer's folder failed");
                let mut command = Command::new("setpriv");
                command.args([
                    "--reuid=nobody",
                    "--regid=nogroup",
                    "--clear-groups",
                    binary,
                ]);
                command
            }
            false => Command::new(binary),
        };
        let mut child = command
            .arg(&ini)
            // Its log goes to the file; a pipe nobody drains would stop it once full.
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_until_listening(&mut child, dir.path(), port);
        PgBouncer {
            port,
            child,
            _dir: dir,
        }
    }

    /// `url` with PgBouncer's address in place of the server's.
    pub fn url(&self, url: &str) -> String {
        let mut url = url::Url::parse(url).unwrap();
        url.set_port(Some(self.port)).unwrap();
        url.set_host(Some("127.0.0.1")).unwrap();
        url.to_string()
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn is_root() -> bool {
    let output = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&output.stdout).trim() == "0"
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Waits until PgBouncer's log says it listens on `port`, or fails with what it printed.
fn wait_until_listening(child: &mut Child, dir: &Path, port: u16) {
    let log = dir.join("pgbouncer.log");
    let listening = format!("listening on 127.0.0.1:{port}");
    loop {
        if let Ok(text) = std::fs::read_to_string(&log) {
            if text.contains(&listening) {
                return;
            }
        }
        if let Some(status) = child.try_wait().unwrap() {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            panic!("PgBouncer exited ({status}) before listening:\n{log}");
        }
        // A readiness poll: PgBouncer starts in milliseconds.
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}
