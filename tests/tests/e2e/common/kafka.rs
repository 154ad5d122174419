//! A private Apache Kafka broker per test (KRaft, one node, on free ports, in a folder of its
//! own), started through `scripts/run-test-server kafka`: each test gets an empty cluster
//! that it can freeze, kill and restart without disturbing the others.

use super::in_ci;
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running Kafka broker; killed when dropped.
pub struct Broker {
    child: Child,
    port: u16,
    controller_port: u16,
    /// Its data, config and `broker.log`; removed after the broker is killed.
    dir: super::TestDir,
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The repository's `scripts/` folder.
pub fn scripts_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts"))
}

/// The folder `scripts/install-test-tools` installs the test servers into.
pub fn servers_home() -> PathBuf {
    std::env::var_os("PAYMENTS_SERVERS_HOME")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/payments-servers"))
        })
        .unwrap_or_default()
}

/// Whether Kafka's jars are installed; outside CI a missing install skips the test (after
/// saying so), in CI (`CI=true`) it fails it.
fn kafka_installed() -> bool {
    if servers_home().join("kafka/libs/.installed").is_file() {
        return true;
    }
    assert!(
        !in_ci(),
        "Apache Kafka is not installed; scripts/install-test-tools installs it"
    );
    eprintln!("skipping: Apache Kafka is not installed (scripts/install-test-tools)");
    false
}

impl Broker {
    /// Starts a broker and waits until it answers a metadata request, or returns `None`
    /// (after saying so) when Kafka is not installed outside CI.
    pub async fn start() -> Option<Self> {
        if !kafka_installed() {
            return None;
        }
        let dir = super::temp_dir("kafka-broker");
        let (port, controller_port) = (free_port(), free_port());
        let mut broker = Self {
            child: spawn(port, controller_port, &dir),
            port,
            controller_port,
            dir,
        };
        broker.wait_ready().await;
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

    /// Kills the broker with SIGKILL (no shutdown, no final flush) and starts it again on the
    /// same ports and log, then waits until it answers.
    pub async fn kill_and_restart(&mut self) {
        signal(self.child.id(), "-KILL");
        let _ = self.child.wait();
        self.child = spawn(self.port, self.controller_port, &self.dir);
        self.wait_ready().await;
    }

    /// Waits (up to 90 s) until the broker answers a metadata request with itself in it.
    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(90);
        let client: std::sync::Arc<BaseConsumer> = std::sync::Arc::new(
            ClientConfig::new()
                .set("bootstrap.servers", self.address())
                .set("log_level", "0")
                .create()
                .expect("a Kafka client"),
        );
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the Kafka broker exited with {status}; its log: {}",
                    self.dir.join("broker.log").display()
                );
            }
            // librdkafka's metadata call blocks: it runs on the blocking pool.
            let asking = client.clone();
            let answered = tokio::task::spawn_blocking(move || {
                asking
                    .fetch_metadata(None, Duration::from_secs(2))
                    .is_ok_and(|m| !m.brokers().is_empty())
            })
            .await
            .unwrap_or(false);
            if answered {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the Kafka broker on {} did not answer within 90 s; its log: {}",
                self.port,
                self.dir.join("broker.log").display()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// Starts `run-test-server kafka` in `dir` (its data, config and `broker.log`); on a folder
/// that already has a log, the broker resumes from it.
fn spawn(port: u16, controller_port: u16, dir: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("broker.log"))
        .expect("creating the broker log");
    let log_err = log.try_clone().expect("cloning the broker log");
    Command::new(scripts_dir().join("run-test-server"))
        .args(["kafka", "--port", &port.to_string()])
        .args(["--controller-port", &controller_port.to_string()])
        .arg("--dir")
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .spawn()
        .expect("starting scripts/run-test-server kafka")
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

/// A test's own topics and consumer group on the shared Kafka broker that
/// `scripts/start-test-servers` starts (`PAYMENTS_TEST_KAFKA`, default `127.0.0.1:9092`).
pub struct SharedKafka {
    /// `host:port` of the broker.
    pub address: String,
    /// This test's payments topic.
    pub topic: String,
    /// This test's dead-letter topic.
    pub dead_letter_topic: String,
    /// This test's consumer group.
    pub group: String,
}

impl SharedKafka {
    /// Names of this test's own on the shared broker, or `None` (after saying so) when the
    /// broker does not answer outside CI; in CI that fails the test.
    pub fn for_test(name: &str) -> Option<Self> {
        let address =
            std::env::var("PAYMENTS_TEST_KAFKA").unwrap_or_else(|_| "127.0.0.1:9092".into());
        let client: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &address)
            .set("log_level", "0")
            .create()
            .expect("a Kafka client");
        if let Err(e) = client.fetch_metadata(None, Duration::from_secs(10)) {
            assert!(!in_ci(), "Kafka at {address} does not answer: {e}");
            eprintln!(
                "skipping: Kafka at {address} does not answer: {e} (scripts/start-test-servers)"
            );
            return None;
        }
        let unique = format!("e2e-{name}-{}-{}", std::process::id(), nanos());
        Some(Self {
            address,
            topic: format!("{unique}.payments"),
            dead_letter_topic: format!("{unique}.payments.dlq"),
            group: format!("{unique}.processor"),
        })
    }

    /// `kafka://ADDRESS` with `options` (e.g. `partitions=3`) appended.
    pub fn url(&self, options: &str) -> String {
        if options.is_empty() {
            format!("kafka://{}", self.address)
        } else {
            format!("kafka://{}?{options}", self.address)
        }
    }
}

fn nanos() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
}

/// Runs one of Kafka's own tools (`scripts/kafka-tool kafka-topics …`) and returns its
/// stdout; fails the test when it exits non-zero.
pub fn kafka_tool(args: &[&str]) -> String {
    let output = Command::new(scripts_dir().join("kafka-tool"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("running scripts/kafka-tool");
    super::succeeded(&output)
}
