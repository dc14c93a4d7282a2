//! A database server that accepts the connection and never answers: the `migrate` command
//! gives up after `--connect-timeout`, names the address, never the password, and exits with
//! the code of an unreachable database.

#![cfg(any(feature = "postgres", feature = "mysql"))]

use std::io::Read;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Listens on a port of its own, accepts every connection and never writes a byte.
fn silent_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    port
}

/// Runs `streamvault --database-url url --connect-timeout 2s status`; fails the test, rather
/// than hang, if it still runs after a minute.
fn status(url: &str) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_streamvault"))
        .env_remove("DATABASE_URL")
        .args(["--database-url", url, "--connect-timeout", "2s", "status"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut stderr)
                .unwrap();
            return (status.code().unwrap_or(-1), stderr);
        }
        if started.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("`status` against a silent server still waited after a minute");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn check(scheme: &str) {
    let port = silent_server();
    let (code, stderr) = status(&format!("{scheme}://app:hunter2@127.0.0.1:{port}/db"));
    assert_eq!(code, 4, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "127.0.0.1:{port} accepted no connection or did not answer"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("within 2s") && stderr.contains("--connect-timeout"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_gives_up_on_a_server_that_never_answers() {
    check("postgres");
}

#[cfg(feature = "mysql")]
#[test]
fn mysql_gives_up_on_a_server_that_never_answers() {
    check("mysql");
}

/// Runs `status` against a port nothing listens on: it fails at once (well before the
/// timeout) with the driver's own message, not the timeout's.
fn refused(scheme: &str, backend: &str) -> String {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let (code, stderr) = status(&format!("{scheme}://app:hunter2@127.0.0.1:{port}/db"));
    assert_eq!(code, 4, "{stderr}");
    assert!(
        stderr.contains(&format!("could not connect to {backend}")),
        "{stderr}"
    );
    assert!(
        !stderr.contains("did not answer") && !stderr.contains("within 2s"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("\n;") && !stderr.contains("hunter2"),
        "{stderr}"
    );
    stderr
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_with_nothing_listening_fails_at_once_with_its_own_message() {
    let stderr = refused("postgres", "PostgreSQL");
    assert!(stderr.contains("refused"), "{stderr}");
}

#[cfg(feature = "mysql")]
#[test]
fn mysql_with_nothing_listening_fails_at_once_with_its_own_message() {
    let stderr = refused("mysql", "MySQL/MariaDB");
    assert!(stderr.contains("Can't connect"), "{stderr}");
}
