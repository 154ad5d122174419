//! Shared helpers of the end-to-end tests: a real stack on free ports with a fresh
//! database, a tiny HTTP client, and the `paymentsctl` binary.

pub mod kafka;
pub mod otlp;
pub mod pipeline;
pub mod servers;
pub mod services;

use paymentsctl::stack::{RunningStack, StackConfig};
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;

/// A fresh, empty directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "payments-e2e-{name}-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("creating a temp dir");
    dir
}

/// The whole system in this process, on free ports, with a fresh SQLite file.
pub async fn start_stack(name: &str) -> (RunningStack, PathBuf) {
    let dir = temp_dir(name);
    let config = StackConfig {
        grpc_addr: "127.0.0.1:0".into(),
        http_addr: "127.0.0.1:0".into(),
        store: format!("sqlite://{}/payments.db", dir.display()),
        ..Default::default()
    };
    (
        RunningStack::start(config)
            .await
            .expect("starting the stack"),
        dir,
    )
}

/// A gRPC channel to `addr`.
pub async fn channel(addr: SocketAddr) -> tonic::transport::Channel {
    tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("connecting")
}

/// POSTs JSON (or GETs when `body` is `None`) over HTTP/1.1 and returns status and body.
pub fn http(addr: SocketAddr, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(addr).expect("connecting over HTTP");
    let body = body.unwrap_or("");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("writing the request");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("reading the response");
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, dechunk(&body))
}

/// The status of `GET path`, or `None` while nothing listens at `addr`.
pub fn http_status(addr: SocketAddr, path: &str) -> Option<u16> {
    std::net::TcpStream::connect(addr).ok()?;
    Some(http(addr, "GET", path, None).0)
}

/// The value of metric `name` on `addr`'s /metrics (0 when absent).
pub fn metric(addr: SocketAddr, name: &str) -> u64 {
    let (_, body) = http(addr, "GET", "/metrics", None);
    body.lines()
        .find_map(|line| {
            line.strip_prefix(name)?
                .strip_prefix(' ')?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

/// Decodes a `Transfer-Encoding: chunked` body (axum chunks streamed JSON).
fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    loop {
        let Some((size_line, after)) = rest.split_once("\r\n") else {
            return body.to_owned();
        };
        let Ok(size) = usize::from_str_radix(size_line.trim(), 16) else {
            return body.to_owned();
        };
        if size == 0 {
            return out;
        }
        out.push_str(&after[..size.min(after.len())]);
        rest = after.get(size + 2..).unwrap_or("");
    }
}

/// The `paymentsctl` binary of this build (built with the workspace).
pub fn paymentsctl() -> PathBuf {
    binary("paymentsctl")
}

/// The binary `name` of this build (`scripts/test-all` builds them all first).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let bin = dir.join(name);
    assert!(
        bin.exists(),
        "{} is missing: build it with `cargo build --workspace --bins`",
        bin.display()
    );
    bin
}

/// The seed system's fixture of 90 payments.
pub fn seed_fixture() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/seed-transactions.json"
    ))
}

/// The stdout of a command that must have exited 0; otherwise fails with its stdout and
/// stderr.
pub fn succeeded(output: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Whether tests run in CI, where a missing tool fails instead of skipping.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}
