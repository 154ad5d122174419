//! Shared helpers of the end-to-end tests: a real stack on free ports with a fresh
//! database, an HTTP client, and the `paymentsctl` binary.

pub mod kafka;
pub mod otlp;
pub mod pipeline;
pub mod private_postgres;
pub mod servers;
pub mod services;

use paymentsctl::stack::{RunningStack, StackConfig};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// A fresh, empty directory for one test, removed when dropped, unless the test is
/// failing: then it is kept (and named on stderr) for its logs.
pub struct TestDir(Option<tempfile::TempDir>);

impl std::ops::Deref for TestDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        self.0.as_ref().map_or(Path::new(""), |dir| dir.path())
    }
}

impl AsRef<Path> for TestDir {
    fn as_ref(&self) -> &Path {
        self
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        if std::thread::panicking()
            && let Some(dir) = self.0.take()
        {
            eprintln!("test files kept in {}", dir.keep().display());
        }
    }
}

/// A fresh directory for the test `name`.
pub fn temp_dir(name: &str) -> TestDir {
    let dir = tempfile::Builder::new()
        .prefix(&format!("payments-e2e-{name}-"))
        .tempdir()
        .expect("creating a temp dir");
    TestDir(Some(dir))
}

/// The whole system in this process, on free ports, with a fresh SQLite file.
pub async fn start_stack(name: &str) -> (RunningStack, TestDir) {
    start_stack_on(name, "127.0.0.1:0").await
}

/// [`start_stack`] serving gRPC on `grpc_addr` (which its runs may name as their target).
pub async fn start_stack_on(name: &str, grpc_addr: &str) -> (RunningStack, TestDir) {
    let dir = temp_dir(name);
    let config = StackConfig {
        grpc_addr: grpc_addr.into(),
        http_addr: "127.0.0.1:0".into(),
        store: format!("sqlite://{}/payments.db", dir.display()),
        bus: format!("file://{}/payments-bus.db", dir.display()),
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

/// Sends `method path` to `addr` (with `body` as JSON, if any) and returns the status and
/// body, whatever the status.
pub fn http(addr: SocketAddr, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
    http_with(addr, method, path, body, HttpOptions::default())
}

/// How a test speaks to an HTTP port beyond plain HTTP.
#[derive(Debug, Clone, Copy, Default)]
pub struct HttpOptions<'a> {
    /// Over TLS, trusting any server certificate (the tests make their own).
    pub https: bool,
    /// An `authorization: Bearer` token to send.
    pub bearer: Option<&'a str>,
    /// A client certificate and its key (PEM) to present over TLS.
    pub client_identity: Option<(&'a [u8], &'a [u8])>,
}

/// [`http`] as `options` say: TLS, a bearer token, a client certificate.
pub fn http_with(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
    options: HttpOptions<'_>,
) -> (u16, String) {
    let mut tls = ureq::tls::TlsConfig::builder().disable_verification(true);
    if let Some((cert, key)) = options.client_identity {
        let chain: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(cert)
            .filter_map(|item| match item {
                Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                _ => None,
            })
            .collect();
        let key = ureq::tls::PrivateKey::from_pem(key).expect("a PEM private key");
        tls = tls.client_cert(Some(ureq::tls::ClientCert::new_with_certs(&chain, key)));
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .tls_config(tls.build())
        .build()
        .into();
    let scheme = if options.https { "https" } else { "http" };
    let mut request = ureq::http::Request::builder()
        .method(method)
        .uri(format!("{scheme}://{addr}{path}"))
        .header("content-type", "application/json");
    if let Some(token) = options.bearer {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let sent = match body {
        Some(body) => agent.run(request.body(body.to_owned()).expect("an HTTP request")),
        None => agent.run(request.body(()).expect("an HTTP request")),
    };
    let mut response = sent.unwrap_or_else(|e| panic!("{method} {scheme}://{addr}{path}: {e}"));
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .read_to_string()
        .unwrap_or_else(|e| panic!("reading the body of {method} {path}: {e}"));
    (status, text)
}

/// The raw answer (status line and headers lowercased as sent) to `request` at `addr`.
pub fn raw_http(addr: std::net::SocketAddr, request: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

/// The status of `GET path`, or `None` while nothing listens at `addr`.
pub fn http_status(addr: SocketAddr, path: &str) -> Option<u16> {
    std::net::TcpStream::connect(addr).ok()?;
    Some(http(addr, "GET", path, None).0)
}

/// The value of metric `name` on `addr`'s /metrics (0 when absent).
pub fn metric(addr: SocketAddr, name: &str) -> u64 {
    let (_, body) = http(addr, "GET", "/metrics", None);
    metric_in(&body, name)
}

/// The value of metric `name` in a Prometheus text `body` (0 when absent).
pub fn metric_in(body: &str, name: &str) -> u64 {
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

/// The seed's `POST /payments/time-range` over the UTC days `start` to `end` at `addr`: the
/// rows it answered, after checking it answered 200.
pub fn time_range_rows(addr: SocketAddr, start: &str, end: &str) -> Vec<serde_json::Value> {
    let body = format!(r#"{{"start_date":"{start}","end_date":"{end}"}}"#);
    let (status, text) = http(addr, "POST", "/payments/time-range", Some(&body));
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).expect("a JSON list of payments")
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
