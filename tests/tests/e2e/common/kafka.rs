//! A real Kafka-protocol broker (Tansu) per test, on a free port, with its memory engine:
//! each test gets an empty cluster, and can pause and resume it.

use super::in_ci;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running Tansu broker; killed when dropped.
pub struct Broker {
    child: Child,
    port: u16,
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The `tansu` binary: `$PAYMENTS_TEST_TANSU`, `tansu` on PATH, or `~/.cargo/bin/tansu`.
fn tansu_binary() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("PAYMENTS_TEST_TANSU") {
        return Some(PathBuf::from(path));
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("tansu"))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| {
        let home = std::env::var_os("HOME")?;
        Some(PathBuf::from(home).join(".cargo/bin/tansu")).filter(|p| p.is_file())
    })
}

impl Broker {
    /// Starts a broker, or returns `None` (after saying so) when Tansu is not installed
    /// outside CI. In CI (`CI=true`) a missing Tansu fails the test.
    pub fn start() -> Option<Self> {
        let Some(binary) = tansu_binary() else {
            assert!(
                !in_ci(),
                "tansu is not installed; scripts/install-test-tools installs it"
            );
            eprintln!("skipping: tansu is not installed (scripts/install-test-tools)");
            return None;
        };
        let port = free_port();
        let url = format!("tcp://127.0.0.1:{port}");
        let child = Command::new(&binary)
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
                "--storage-engine",
                "memory://tansu/",
            ])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
        let broker = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "tansu did not listen on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(broker)
    }

    /// `kafka://127.0.0.1:PORT` with `options` (e.g. `partitions=4`) appended.
    pub fn url(&self, options: &str) -> String {
        if options.is_empty() {
            format!("kafka://127.0.0.1:{}", self.port)
        } else {
            format!("kafka://127.0.0.1:{}?{options}", self.port)
        }
    }

    /// `host:port` of the broker.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Freezes the broker process (SIGSTOP): connections stay open, nothing answers.
    pub fn pause(&self) {
        signal(self.child.id(), "-STOP");
    }

    /// Thaws a paused broker (SIGCONT).
    pub fn resume(&self) {
        signal(self.child.id(), "-CONT");
    }
}

/// Sends `sig` (e.g. `-KILL`) to process `pid`.
pub fn signal(pid: u32, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("running kill");
    assert!(status.success(), "kill {sig} {pid} failed");
}

impl Drop for Broker {
    fn drop(&mut self) {
        signal_quietly(self.child.id(), "-CONT");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn signal_quietly(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .args([sig, &pid.to_string()])
        .stderr(Stdio::null())
        .status();
}
