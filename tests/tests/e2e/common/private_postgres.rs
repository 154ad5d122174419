//! A PostgreSQL server of one test's own (`scripts/run-test-server postgres`: a throwaway
//! cluster in a temp folder, on a free port) for a test that stops its server: stopping the
//! shared one would fail every other test that uses it, FerretDB's included.

use super::in_ci;
use super::kafka::{free_port, scripts_dir, signal};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running private PostgreSQL; shut down when dropped.
pub struct PrivatePostgres {
    child: Option<Child>,
    port: u16,
    /// Holds the cluster's data (`data/`) and its `server.log`.
    dir: super::TestDir,
}

/// Whether PostgreSQL's server binaries are there; outside CI their absence skips the test
/// (after saying so), in CI (`CI=true`) it fails it.
fn postgres_installed() -> bool {
    let found = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .any(|version| version.path().join("bin/initdb").is_file());
    if !found {
        assert!(
            !in_ci(),
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); \
             scripts/install-test-tools installs it"
        );
        eprintln!("skipping: PostgreSQL is not installed (scripts/install-test-tools)");
    }
    found
}

impl PrivatePostgres {
    /// Creates a cluster and starts it, waiting until it takes connections; `None` (after
    /// saying so) when PostgreSQL is not installed, outside CI.
    pub async fn start(name: &str) -> Option<Self> {
        if !postgres_installed() {
            return None;
        }
        let dir = super::temp_dir(&format!("postgres-{name}"));
        // The server runs as user postgres, which must reach its data folder.
        std::fs::set_permissions(&*dir, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("opening the test folder to the postgres user");
        let mut server = Self {
            child: None,
            port: free_port(),
            dir,
        };
        server.resume().await;
        Some(server)
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Shuts the server down (PostgreSQL's fast shutdown: open sessions are ended, and new
    /// connections are refused) and waits until it has exited.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            signal(child.id(), "-INT");
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and data, and waits until it takes
    /// connections (up to 60 s).
    pub async fn resume(&mut self) {
        assert!(self.child.is_none(), "the private PostgreSQL is running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("server.log"))
            .expect("creating the server log");
        let log_err = log.try_clone().expect("cloning the server log");
        let mut child = Command::new(scripts_dir().join("run-test-server"))
            .args(["postgres", "--port", &self.port.to_string(), "--dir"])
            .arg(self.dir.join("data"))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .expect("starting scripts/run-test-server postgres");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "the private PostgreSQL exited with {status}; its log: {}",
                    self.dir.join("server.log").display()
                );
            }
            if sqlx::Connection::connect(&self.url())
                .await
                .is_ok_and(|_: sqlx::PgConnection| true)
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the private PostgreSQL did not take connections within 60 s; its log: {}",
                self.dir.join("server.log").display()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        self.child = Some(child);
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        self.stop();
    }
}
