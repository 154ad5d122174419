//! The Kafka pipeline's moving parts for the end-to-end tests: generated payments, gRPC
//! submission, the service processes on a broker, the store they write, the dead letters.

use super::kafka::Broker;
use super::services::ServiceProcess;
use bytes::Bytes;
use payments_bus::{Bus, BusRecord, headers};
use payments_generator::{GeneratorConfig, PaymentGenerator};
use payments_proto::v1 as pb;
use payments_store::{PageRequest, PaymentFilter, Store};
use pb::ingest_service_client::IngestServiceClient;
use prost::Message;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `n` distinct generated payments.
pub fn generated(n: u64, seed: u64) -> Vec<pb::Payment> {
    let generator = PaymentGenerator::new(GeneratorConfig {
        seed,
        ..Default::default()
    });
    (0..n).map(|i| generator.payment(i)).collect()
}

/// Submits `payments` to the IngestService at `ingest`, one stream per `chunk`; returns
/// the ids ingest acknowledged and how many chunks failed with an error status.
pub async fn submit(
    ingest: SocketAddr,
    payments: &[pb::Payment],
    chunk: usize,
) -> (Vec<String>, u64) {
    let channel = super::channel(ingest).await;
    let mut client = IngestServiceClient::new(channel).max_decoding_message_size(64 << 20);
    let (mut acknowledged, mut failed) = (Vec::new(), 0);
    for part in payments.chunks(chunk) {
        let requests: Vec<pb::SubmitPaymentsRequest> = part
            .iter()
            .map(|p| pb::SubmitPaymentsRequest {
                payment: Some(p.clone()),
                validation_mode: pb::ValidationMode::Strict as i32,
                payments: Vec::new(),
            })
            .collect();
        let mut request = tonic::Request::new(tokio_stream::iter(requests));
        request.set_timeout(Duration::from_secs(90));
        match client.submit_payments(request).await {
            Ok(summary) => {
                let summary = summary.into_inner();
                assert_eq!(summary.rejected, 0, "{:?}", summary.rejections.first());
                assert_eq!(summary.accepted, part.len() as u64);
                acknowledged.extend(part.iter().map(|p| p.payment_id.clone()));
            }
            Err(status) => {
                assert_ne!(
                    status.code(),
                    tonic::Code::DeadlineExceeded,
                    "ingest stayed silent for 90 s"
                );
                failed += 1;
            }
        }
    }
    (acknowledged, failed)
}

pub async fn open_store(path: &Path) -> Arc<dyn Store> {
    payments_store::open(&format!("sqlite://{}", path.display()))
        .await
        .expect("opening the store")
}

/// Waits until the store holds at least `expected` payments; returns the count.
pub async fn wait_stored(store: &dyn Store, expected: i64, within: Duration) -> i64 {
    let deadline = Instant::now() + within;
    loop {
        let count = store
            .stats(&PaymentFilter::default())
            .await
            .map(|s| s.total_count)
            .unwrap_or(0);
        if count >= expected || Instant::now() > deadline {
            return count;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every payment id in the store, by paging through all of it.
pub async fn stored_ids(store: &dyn Store) -> Vec<String> {
    let mut ids = Vec::new();
    let mut page = PageRequest {
        size: 1000,
        after: None,
    };
    loop {
        let got = store.list(&PaymentFilter::default(), &page).await.unwrap();
        ids.extend(got.payments.into_iter().map(|p| p.payment_id));
        match got.next {
            Some(next) => page.after = Some(next),
            None => return ids,
        }
    }
}

/// Asserts the store holds exactly the `acknowledged` payments, each once.
pub async fn assert_stored_once(store: &dyn Store, acknowledged: &[String]) {
    let ids = stored_ids(store).await;
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "a payment is stored twice");
    let missing: Vec<&String> = acknowledged
        .iter()
        .filter(|id| !unique.contains(id))
        .take(5)
        .collect();
    assert!(
        missing.is_empty(),
        "acknowledged but not stored: {missing:?}"
    );
}

/// The SQLite store of a test's directory, as a URL (`sqlite://DIR/payments.db`).
pub fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("payments.db").display())
}

pub async fn ingest_process(broker: &Broker, options: &str, dir: &Path) -> ServiceProcess {
    ServiceProcess::start(
        "payments-ingest",
        &["--bus", &broker.url(options)],
        &dir.join("ingest.log"),
    )
    .await
}

pub async fn processor_process(
    broker: &Broker,
    dir: &Path,
    log: &str,
    extra: &[&str],
) -> ServiceProcess {
    let sink = sqlite_url(dir);
    let url = broker.url("partitions=3");
    let mut args = vec![
        "--bus",
        &url,
        "--sink",
        &sink,
        "--batch-size",
        "500",
        "--instance-id",
        "processor-0",
    ];
    args.extend_from_slice(extra);
    ServiceProcess::start("payments-processor", &args, &dir.join(log)).await
}

/// A private Kafka broker, an ingest on it, and one processor writing every batch into every
/// sink at once: a fresh SQLite file and the shared PostgreSQL, FerretDB, Redis and HBase,
/// each in a database, key prefix or table named after the test.
pub struct EverySink {
    pub broker: Broker,
    pub dir: super::TestDir,
    pub sqlite: String,
    pub postgres: String,
    pub mongodb: String,
    pub redis: String,
    pub hbase: String,
    pub ingest: ServiceProcess,
    pub processor: ServiceProcess,
}

impl EverySink {
    /// The pipeline for test `name`, or `None` (after saying so) when a server is missing
    /// outside CI; in CI that fails the test.
    pub async fn start(name: &str) -> Option<Self> {
        let broker = Broker::start().await?;
        let postgres = super::servers::fresh_database(name).await?;
        let redis = super::servers::redis_url(name).await?;
        let mongodb = super::servers::mongodb_url(name).await?;
        let hbase = super::servers::hbase_url(name).await?;
        let dir = super::temp_dir(name);
        let sqlite = sqlite_url(&dir);
        let url = broker.url("partitions=3");
        let ingest = ingest_process(&broker, "partitions=3", &dir).await;
        let processor = ServiceProcess::start(
            "payments-processor",
            &[
                "--bus", &url, "--sink", &sqlite, "--sink", &postgres, "--sink", &mongodb,
                "--sink", &redis, "--sink", &hbase,
            ],
            &dir.join("processor.log"),
        )
        .await;
        Some(Self {
            broker,
            dir,
            sqlite,
            postgres,
            mongodb,
            redis,
            hbase,
            ingest,
            processor,
        })
    }
}

/// A standalone generator whose runs may reach `ingest` (its one allowed target).
pub async fn generator_for(ingest: &ServiceProcess, dir: &Path) -> ServiceProcess {
    let allowed = ingest.grpc.to_string();
    ServiceProcess::start(
        "payments-generator",
        &["--allow-ingest-target", &allowed],
        &dir.join("generator.log"),
    )
    .await
}

/// Starts a generator run of `spec` on the generator at `generator`; returns the client
/// and the run.
pub async fn start_run(
    generator: SocketAddr,
    spec: pb::RunSpec,
) -> (
    pb::generator_service_client::GeneratorServiceClient<tonic::transport::Channel>,
    pb::Run,
) {
    let mut runs =
        pb::generator_service_client::GeneratorServiceClient::new(super::channel(generator).await);
    let run = runs
        .start_run(pb::StartRunRequest { spec: Some(spec) })
        .await
        .unwrap()
        .into_inner()
        .run
        .unwrap();
    (runs, run)
}

/// Waits (up to a minute) until run `run_id` is no longer running; returns it as it ended.
pub async fn wait_run_finished(
    runs: &mut pb::generator_service_client::GeneratorServiceClient<tonic::transport::Channel>,
    run_id: &str,
) -> pb::Run {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let run = runs
            .get_run(pb::GetRunRequest {
                run_id: run_id.to_owned(),
            })
            .await
            .unwrap()
            .into_inner()
            .run
            .unwrap();
        if run.state() != pb::RunState::Running {
            return run;
        }
        assert!(Instant::now() < deadline, "run still running: {run:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Puts raw records on the payments topic, as any producer could.
pub async fn produce_raw(broker: &Broker, topic: &str, records: Vec<BusRecord>) {
    let bus = Bus::connect(&broker.url("partitions=3")).await.unwrap();
    bus.ensure_topics(&[topic]).await.unwrap();
    bus.producer().send_batch(topic, records).await.unwrap();
}

pub fn protobuf_record(payment: &pb::Payment) -> BusRecord {
    protobuf_bytes(&payment.payment_id, payment.encode_to_vec())
}

pub fn protobuf_bytes(key: &str, value: Vec<u8>) -> BusRecord {
    BusRecord {
        key: Bytes::from(key.to_owned()),
        value: Bytes::from(value),
        headers: vec![(
            headers::CONTENT_TYPE.into(),
            Bytes::from_static(headers::PROTOBUF.as_bytes()),
        )],
    }
}

pub fn dlq_lines(broker: &Broker, topic: &str) -> Vec<serde_json::Value> {
    let out = std::process::Command::new(super::paymentsctl())
        .args([
            "dlq",
            "list",
            "--json",
            "--bus",
            &broker.url(""),
            "--topic",
            topic,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
