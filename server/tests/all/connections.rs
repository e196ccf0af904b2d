//! Slow and idle clients cannot take `lotse serve` down: a request's headers have a deadline
//! (also between requests on a kept-alive connection), and beyond the connection limit a new
//! connection is closed at once, counted in /metrics, and the portal keeps answering.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Serve {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(header_timeout: u32, max: u32) -> Serve {
    serve_with(header_timeout, max, &[])
}

fn serve_with(header_timeout: u32, max: u32, env: &[(&str, &str)]) -> Serve {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_lotse"))
        .arg("serve")
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .env("LOTSE_DATA_DIR", dir.path().join("data"))
        .env("LOTSE_LISTEN", format!("127.0.0.1:{port}"))
        .env("LOTSE_HEADER_TIMEOUT_SECONDS", header_timeout.to_string())
        .env("LOTSE_MAX_CONNECTIONS", max.to_string())
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let s = Serve {
        child,
        port,
        _dir: dir,
    };
    let start = Instant::now();
    while get(s.port, "/healthz").is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "lotse serve did not come up"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    s
}

/// A whole GET on a fresh connection; `None` if the connection fails or is closed early.
fn get(port: u16, path: &str) -> Option<String> {
    let mut c = TcpStream::connect(("127.0.0.1", port)).ok()?;
    c.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        c,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    c.read_to_string(&mut out).ok()?;
    out.starts_with("HTTP/1.1").then_some(out)
}

/// How long until the server closes `c` (reads return 0), up to `limit`.
fn closed_within(c: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    c.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut buf = [0u8; 1024];
    while start.elapsed() < limit {
        match c.read(&mut buf) {
            Ok(0) => return Some(start.elapsed()),
            Ok(_) => {}
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut
                    || e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return Some(start.elapsed()),
        }
    }
    None
}

#[test]
fn a_client_that_sends_its_headers_too_slowly_is_cut_off() {
    let s = serve(1, 64);
    let mut slow = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\n").unwrap();
    // One more header line now and then, never the end of the headers.
    slow.write_all(b"X-Slow: 1\r\n").unwrap();
    let closed = closed_within(&mut slow, Duration::from_secs(8));
    assert!(closed.is_some(), "a half-sent request was kept open");
    // An idle kept-alive connection goes the same way.
    let mut idle = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert!(closed_within(&mut idle, Duration::from_secs(8)).is_some());
    assert!(get(s.port, "/healthz").is_some_and(|r| r.contains("200 OK")));
}

/// Waits until the server serves no connection but the one asking.
fn wait_idle(port: u16) {
    let start = Instant::now();
    while !get(port, "/metrics").is_some_and(|m| m.contains("\nlotse_connections_open 1\n")) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "connections stay open"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `n` connections, each with a request whose headers never end.
fn open_half_sent(port: u16, n: usize) -> Vec<(TcpStream, bool)> {
    (0..n)
        .map(|_| {
            let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
            let _ = c.write_all(b"GET /healthz HTTP/1.1\r\n");
            c.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
            (c, false)
        })
        .collect()
}

/// How many of `conns` the server closes: waits for six closes (or 20 s), then half a second
/// more so that a served connection closed as well would be seen too.
fn count_closed(conns: &mut [(TcpStream, bool)]) -> usize {
    let start = Instant::now();
    let mut buf = [0u8; 256];
    while start.elapsed() < Duration::from_secs(20)
        && conns.iter().filter(|(_, closed)| *closed).count() < 6
    {
        for (c, closed) in conns.iter_mut().filter(|(_, closed)| !*closed) {
            match c.read(&mut buf) {
                Ok(0) => *closed = true,
                // A read with a timeout is interrupted, not restarted, by a signal (other tests
                // of this process start and end child processes): not a close.
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut
                        || e.kind() == std::io::ErrorKind::Interrupted => {}
                _ => *closed = true,
            }
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    for (c, closed) in conns.iter_mut().filter(|(_, closed)| !*closed) {
        if let Ok(0) = c.read(&mut buf) {
            *closed = true;
        }
    }
    conns.iter().filter(|(_, closed)| *closed).count()
}

#[test]
fn beyond_the_connection_limit_new_connections_are_closed_and_counted() {
    // A header deadline far beyond the test, so that every close seen here is the limit's.
    let s = serve(60, 4);
    // Ten clients each open a connection with a half-sent request: four are served (and wait
    // for their headers), six are closed at once. The connection of the probe that saw the
    // server idle may still hold its place for a moment on a loaded machine (its end is
    // noticed asynchronously); then one more is closed, and the round is repeated.
    let mut rounds = Vec::new();
    let mut conns = Vec::new();
    for _ in 0..5 {
        wait_idle(s.port);
        conns = open_half_sent(s.port, 10);
        let closed = count_closed(&mut conns);
        rounds.push(closed);
        assert!(
            closed >= 6,
            "only {closed} of 10 connections closed against a limit of 4"
        );
        if closed == 6 {
            break;
        }
        drop(std::mem::take(&mut conns));
    }
    assert_eq!(
        rounds.last(),
        Some(&6),
        "closed per round against a limit of 4: {rounds:?}"
    );
    // The clients give up; the portal answers again and says what happened.
    drop(conns);
    let start = Instant::now();
    let metrics = loop {
        if let Some(m) = get(s.port, "/metrics") {
            break m;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no metrics after the clients left"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let refused = metrics
        .lines()
        .find(|l| l.starts_with("lotse_connections_refused_total"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.trim().parse::<f64>().ok())
        .unwrap();
    assert!(refused >= 6.0, "{metrics}");
}

#[test]
fn metrics_answer_only_the_configured_monitoring_addresses() {
    let s = serve_with(10, 64, &[("LOTSE_METRICS_ALLOW", "192.0.2.7")]);
    let refused = get(s.port, "/metrics").unwrap();
    assert!(refused.starts_with("HTTP/1.1 404"), "{refused}");
    assert!(!refused.contains("lotse_http_requests_total"));
    assert!(get(s.port, "/healthz").unwrap().contains("200 OK"));
    // Loopback is allowed by default (the limit test above reads them over TCP).
}
