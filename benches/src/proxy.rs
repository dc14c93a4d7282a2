//! A loopback proxy in front of a database server that counts client round trips: on
//! PostgreSQL each simple `Query` and each `Sync` (the end of an extended-protocol exchange),
//! on MySQL/MariaDB each command the server answers.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The wire protocol the proxy reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// PostgreSQL's (without TLS).
    Postgres,
    /// MySQL's and MariaDB's (without TLS).
    Mysql,
}

/// The proxy's address and its counter.
pub struct Proxy {
    /// The loopback port it listens on.
    pub port: u16,
    count: Arc<AtomicUsize>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `upstream` (`host:port`).
    pub fn start(upstream: &str, protocol: Protocol) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let count = Arc::new(AtomicUsize::new(0));
        let counter = count.clone();
        let upstream = upstream.to_owned();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                // Forward each message at once: Nagle's delay would add ~40 ms per exchange.
                let _ = client
                    .set_nodelay(true)
                    .and_then(|()| server.set_nodelay(true));
                let (client_read, server_write) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                let counter = counter.clone();
                std::thread::spawn(move || match protocol {
                    Protocol::Postgres => forward_postgres(client_read, server_write, &counter),
                    Protocol::Mysql => forward_mysql(client_read, server_write, &counter),
                });
                std::thread::spawn(move || copy(server, client));
            }
        });
        Proxy { port, count }
    }

    /// Zeroes the counter.
    pub fn reset(&self) {
        self.count.store(0, Ordering::SeqCst);
    }

    /// The round trips since the last reset.
    pub fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

fn copy(mut from: TcpStream, mut to: TcpStream) {
    let _ = std::io::copy(&mut from, &mut to);
    let _ = to.shutdown(std::net::Shutdown::Both);
}

/// Copies client messages to the server, counting `Q` and `S`. The first message (startup or
/// SSL request) has no type byte.
fn forward_postgres(mut client: TcpStream, mut server: TcpStream, count: &AtomicUsize) {
    let mut started = false;
    loop {
        let mut header = [0u8; 5];
        let (kind, length) = if started {
            if client.read_exact(&mut header).is_err() {
                break;
            }
            (
                header[0],
                u32::from_be_bytes(header[1..5].try_into().unwrap()) as usize - 4,
            )
        } else {
            if client.read_exact(&mut header[..4]).is_err() {
                break;
            }
            (
                0,
                u32::from_be_bytes(header[..4].try_into().unwrap()) as usize - 4,
            )
        };
        let mut body = vec![0u8; length];
        if client.read_exact(&mut body).is_err() {
            break;
        }
        let head: &[u8] = if started { &header } else { &header[..4] };
        // An SSL or GSS request is answered and followed by the real startup message.
        let request = !started
            && body.len() == 4
            && matches!(
                u32::from_be_bytes(body[..4].try_into().unwrap()),
                80877103 | 80877104
            );
        started = started || !request;
        if matches!(kind, b'Q' | b'S') {
            count.fetch_add(1, Ordering::SeqCst);
        }
        if server
            .write_all(head)
            .and_then(|()| server.write_all(&body))
            .is_err()
        {
            break;
        }
    }
    let _ = server.shutdown(std::net::Shutdown::Both);
}

/// MySQL commands the server does not answer: `COM_QUIT`, `COM_STMT_SEND_LONG_DATA`,
/// `COM_STMT_CLOSE`.
const UNANSWERED: [u8; 3] = [0x01, 0x18, 0x19];

/// Copies client packets to the server, counting commands: packets with sequence number 0
/// (the handshake's packets have others) that the server answers.
fn forward_mysql(mut client: TcpStream, mut server: TcpStream, count: &AtomicUsize) {
    loop {
        let mut header = [0u8; 4];
        if client.read_exact(&mut header).is_err() {
            break;
        }
        let length = u32::from_le_bytes([header[0], header[1], header[2], 0]) as usize;
        let mut body = vec![0u8; length];
        if client.read_exact(&mut body).is_err() {
            break;
        }
        let command = body.first().copied().unwrap_or_default();
        if header[3] == 0 && !UNANSWERED.contains(&command) {
            if std::env::var_os("PROXY_DEBUG").is_some() {
                eprintln!(
                    "cmd {command:#x} len {length} {:?}",
                    String::from_utf8_lossy(&body[1..body.len().min(40)])
                );
            }
            count.fetch_add(1, Ordering::SeqCst);
        }
        if server
            .write_all(&header)
            .and_then(|()| server.write_all(&body))
            .is_err()
        {
            break;
        }
    }
    let _ = server.shutdown(std::net::Shutdown::Both);
}
