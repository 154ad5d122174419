//! Service binaries as separate processes (`payments-ingest`, `payments-processor`), so
//! tests can kill and restart them.

use super::binary;
use super::kafka::signal;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A service binary running on ports it bound itself; killed when dropped.
pub struct ServiceProcess {
    child: Child,
    /// Its gRPC address.
    pub grpc: SocketAddr,
    /// Its HTTP address (/livez, /readyz, /metrics).
    pub http: SocketAddr,
    /// Whether its HTTP port speaks TLS (a service serving data with `--tls-cert`).
    pub https: bool,
}

impl ServiceProcess {
    /// Starts `name` with `args`, listening on ports the system picks, logging as JSON to
    /// `log`, and waits until /readyz answers 200.
    pub async fn start(name: &str, args: &[&str], log: &Path) -> Self {
        Self::start_with_env(name, args, &[], log).await
    }

    /// [`ServiceProcess::start`] with extra environment variables. The service binds port
    /// 0 for both listeners and its `listening` log line says which ports it got, so no
    /// port is picked in advance (and raced for).
    pub async fn start_with_env(
        name: &str,
        args: &[&str],
        env: &[(&str, &str)],
        log: &Path,
    ) -> Self {
        Self::start_in(name, args, env, None, log).await
    }

    /// [`ServiceProcess::start_with_env`] in working directory `dir` (the test's own when
    /// `None`), for a process that keeps its files where it runs.
    pub async fn start_in(
        name: &str,
        args: &[&str],
        env: &[(&str, &str)],
        dir: Option<&Path>,
        log: &Path,
    ) -> Self {
        let owned = |list: &[&str]| list.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>();
        let (name, args, log) = (name.to_owned(), owned(args), log.to_owned());
        let dir = dir.map(Path::to_owned);
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        // Starting waits on the process and its log: on the blocking pool, not the runtime.
        tokio::task::spawn_blocking(move || Self::launch(&name, &args, &env, dir.as_deref(), &log))
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
    }

    fn launch(
        name: &str,
        args: &[String],
        env: &[(String, String)],
        dir: Option<&Path>,
        log: &Path,
    ) -> Self {
        let log_file = std::fs::File::create(log).expect("creating the log file");
        let mut command = Command::new(binary(name));
        if let Some(dir) = dir {
            command.current_dir(dir);
        }
        let mut child = command
            .args(args)
            .args(["--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"])
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name}: {e}"));
        let deadline = Instant::now() + Duration::from_secs(60);
        let (grpc, http, https) = loop {
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "{name} exited ({status}) before it was ready:\n{}",
                    std::fs::read_to_string(log).unwrap_or_default()
                );
            }
            if let Some(addresses) = listening_addresses(log) {
                break addresses;
            }
            assert!(Instant::now() < deadline, "{name} not listening after 60 s");
            std::thread::sleep(Duration::from_millis(50));
        };
        let process = Self {
            child,
            grpc,
            http,
            https,
        };
        while process.http_status("/readyz") != Some(200) {
            assert!(Instant::now() < deadline, "{name} not ready after 60 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        process
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
        let (_, body) = self.http_get("/metrics", None);
        super::metric_in(&body, name)
    }

    /// `GET path` on its HTTP port (over TLS when it serves TLS), with `bearer` if given.
    pub fn http_get(&self, path: &str, bearer: Option<&str>) -> (u16, String) {
        let options = super::HttpOptions {
            https: self.https,
            bearer,
            client_identity: None,
        };
        super::http_with(self.http, "GET", path, None, options)
    }

    /// The status of `GET path`, or `None` while nothing listens.
    fn http_status(&self, path: &str) -> Option<u16> {
        std::net::TcpStream::connect(self.http).ok()?;
        Some(self.http_get(path, None).0)
    }
}

/// The gRPC and HTTP addresses of the app's `listening` log line (JSON), once logged, and
/// whether its HTTP port speaks TLS.
fn listening_addresses(log: &Path) -> Option<(SocketAddr, SocketAddr, bool)> {
    let text = std::fs::read_to_string(log).ok()?;
    text.lines().find_map(|line| {
        let event: serde_json::Value = serde_json::from_str(line).ok()?;
        let fields = &event["fields"];
        if fields["message"] != "listening" {
            return None;
        }
        let address = |key: &str| fields[key].as_str()?.parse().ok();
        let https = fields["http_tls"].as_bool().unwrap_or(false);
        Some((address("grpc_addr")?, address("http_addr")?, https))
    })
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
