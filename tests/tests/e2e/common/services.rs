//! Service binaries as separate processes (`payments-ingest`, `payments-processor`), so
//! tests can kill and restart them.

use super::binary;
use super::kafka::{free_port, signal};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A service binary running on free ports; killed when dropped.
pub struct ServiceProcess {
    child: Child,
    /// Its gRPC address.
    pub grpc: SocketAddr,
    /// Its HTTP address (/livez, /readyz, /metrics).
    pub http: SocketAddr,
}

impl ServiceProcess {
    /// Starts `name` with `args` plus free `--grpc-addr`/`--http-addr`, logging as JSON to
    /// `log`, and waits until /readyz answers 200.
    pub fn start(name: &str, args: &[&str], log: &Path) -> Self {
        Self::start_with_env(name, args, &[], log)
    }

    /// [`ServiceProcess::start`] with extra environment variables.
    pub fn start_with_env(name: &str, args: &[&str], env: &[(&str, &str)], log: &Path) -> Self {
        let grpc: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
        let http_addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
        let log_file = std::fs::File::create(log).expect("creating the log file");
        let child = Command::new(binary(name))
            .args(args)
            .args([
                "--grpc-addr",
                &grpc.to_string(),
                "--http-addr",
                &http_addr.to_string(),
            ])
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name}: {e}"));
        let mut process = Self {
            child,
            grpc,
            http: http_addr,
        };
        process.wait_ready(name, log);
        process
    }

    fn wait_ready(&mut self, name: &str, log: &Path) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "{name} exited ({status}) before it was ready:\n{}",
                    std::fs::read_to_string(log).unwrap_or_default()
                );
            }
            if super::http_status(self.http, "/readyz") == Some(200) {
                return;
            }
            assert!(Instant::now() < deadline, "{name} not ready after 60 s");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGKILL: no drain, no commit.
    pub fn kill_hard(mut self) {
        signal(self.child.id(), "-KILL");
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits for the exit; returns whether it exited 0.
    pub fn terminate(mut self) -> bool {
        signal(self.child.id(), "-TERM");
        self.child.wait().map(|s| s.success()).unwrap_or(false)
    }

    /// The value of metric `name` on /metrics (0 when absent).
    pub fn metric(&self, name: &str) -> u64 {
        super::metric(self.http, name)
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
