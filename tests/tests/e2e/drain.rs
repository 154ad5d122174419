//! One drain for every role: `paymentsctl up` runs the generator, ingest, query and the
//! processor as one app on a real Kafka broker. SIGTERM under load (steady traffic, a
//! StartRun and a client submitting beside them) stops intake first, then the processor
//! stores what is on the topic and commits: the process exits 0, every acknowledged
//! payment is stored once, and Kafka's own consumer-groups tool shows no lag.

use crate::common;

use common::kafka::{Broker, kafka_tool, signal};
use common::pipeline::*;
use payments_generator::{GeneratorConfig, PaymentGenerator};
use payments_proto::v1 as pb;
use pb::generator_service_client::GeneratorServiceClient;
use pb::ingest_service_client::IngestServiceClient;
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};

/// Per partition of the payments topic, `(log end, lag)` of group
/// `payments-processor.sqlite` (the processor's SQLite sink) as `kafka-consumer-groups
/// --describe` prints them.
fn group_lag(broker: &Broker) -> Vec<(u64, u64)> {
    let out = kafka_tool(&[
        "kafka-consumer-groups",
        "--bootstrap-server",
        &broker.address(),
        "--describe",
        "--group",
        "payments-processor.sqlite",
    ]);
    out.lines()
        .filter_map(|line| {
            let columns: Vec<&str> = line.split_whitespace().collect();
            // GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG …
            (columns.len() >= 6 && columns[1] == "payment-transactions")
                .then(|| Some((columns[4].parse().ok()?, columns[5].parse().ok()?)))
                .flatten()
        })
        .collect()
}

/// The number after `label` in `text` (`ingest acknowledged 1234`).
fn number_after(text: &str, label: &str) -> u64 {
    text.split(label)
        .nth(1)
        .and_then(|rest| {
            rest.split(|c: char| !c.is_ascii_digit())
                .find(|w| !w.is_empty())
        })
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {label:?} in {text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_drains_every_role_in_order_storing_and_committing_all_acknowledged() {
    let Some(broker) = Broker::start().await else {
        return;
    };
    let dir = common::temp_dir("drain");
    let mut up = tokio::process::Command::new(common::paymentsctl())
        .args(["up", "--bus", &broker.url("partitions=3")])
        .args([
            "--store",
            &sqlite_url(&dir),
            "--rate",
            "2000",
            "--seed",
            "7",
        ])
        .args(["--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"])
        .args(["--shutdown-grace", "60"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.join("up.log")).unwrap())
        .spawn()
        .unwrap();
    // `up` prints where it listens (`  gRPC   127.0.0.1:PORT …`, `  HTTP   http://…`).
    let mut stdout = BufReader::new(up.stdout.take().unwrap()).lines();
    let (mut grpc, mut http) = (None, None);
    while grpc.is_none() || http.is_none() {
        let line = stdout.next_line().await.unwrap().expect("up exited early");
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("gRPC"), Some(addr)) => grpc = addr.parse::<SocketAddr>().ok(),
            (Some("HTTP"), Some(url)) => http = url.trim_start_matches("http://").parse().ok(),
            _ => {}
        }
    }
    let (grpc, http_addr) = (grpc.unwrap(), http.unwrap());
    let deadline = Instant::now() + Duration::from_secs(60);
    while common::http_status(http_addr, "/readyz") != Some(200) {
        assert!(Instant::now() < deadline, "up not ready after 60 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let channel = common::channel(grpc).await;

    // A traffic run beside the steady traffic, submitting through the same local ingest.
    GeneratorServiceClient::new(channel.clone())
        .start_run(pb::StartRunRequest {
            spec: Some(pb::RunSpec {
                rate: 1_000,
                seed: 8,
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    // A client submitting one payment at a time until ingest stops answering.
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let client = {
        let (mut ingest, acknowledged) = (IngestServiceClient::new(channel), acknowledged.clone());
        tokio::spawn(async move {
            let generator = PaymentGenerator::new(GeneratorConfig {
                seed: 9,
                ..Default::default()
            });
            // One at a time: generating them all first would hold a worker for seconds.
            for i in 0.. {
                let mut payment = generator.payment(i);
                payment.payment_id = format!("client-{}", payment.payment_id);
                let id = payment.payment_id.clone();
                let request = pb::SubmitPaymentRequest {
                    payment: Some(payment),
                    validation_mode: pb::ValidationMode::Strict as i32,
                };
                if ingest.submit_payment(request).await.is_err() {
                    return;
                }
                acknowledged.lock().unwrap().push(id);
            }
        })
    };

    // Under load: the processor is storing, and the client is being answered.
    let deadline = Instant::now() + Duration::from_secs(90);
    while common::metric(http_addr, "payments_processor_stored_total") < 3_000
        || acknowledged.lock().unwrap().len() < 50
    {
        assert!(Instant::now() < deadline, "nothing stored");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    signal(up.id().unwrap(), "-TERM");
    let status = tokio::time::timeout(Duration::from_secs(90), up.wait())
        .await
        .expect("up did not exit within 90 s of SIGTERM")
        .unwrap();
    let mut rest = Vec::new();
    while let Some(line) = stdout.next_line().await.unwrap() {
        rest.push(line);
    }
    let stdout = rest.join("\n");
    let log = std::fs::read_to_string(dir.join("up.log")).unwrap_or_default();
    assert!(status.success(), "{stdout}\n{log}");
    client.await.unwrap();

    // Intake stopped before the processor drained, and the processor left committed.
    let position = |needle: &str| {
        log.find(needle)
            .unwrap_or_else(|| panic!("{needle:?} not logged:\n{log}"))
    };
    let committed = position("consumer left its group with its offsets committed");
    assert!(position("traffic run stopped") < committed, "{log}");
    assert!(committed < position("processor drained"), "{log}");

    // Everything acknowledged (steady traffic, the run, the client) is stored, once.
    let client_acks = acknowledged.lock().unwrap().clone();
    assert!(!client_acks.is_empty(), "the client got no acknowledgement");
    let traffic = number_after(&stdout, "ingest acknowledged ");
    let runs = number_after(&stdout, "traffic runs acknowledged ");
    let total = traffic + runs + client_acks.len() as u64;
    let store = open_store(&dir.join("payments.db")).await;
    let stored = stored_ids(store.as_ref()).await.len() as u64;
    assert!(
        stored >= total,
        "stored {stored} of {total} acknowledged\n{stdout}"
    );
    assert_stored_once(store.as_ref(), &client_acks).await;

    // Kafka's view: the group committed the end of every partition, and the topic holds
    // exactly what is stored.
    let rows = group_lag(&broker);
    assert_eq!(rows.len(), 3, "{rows:?}");
    let end: u64 = rows.iter().map(|(end, _)| end).sum();
    let lag: u64 = rows.iter().map(|(_, lag)| lag).sum();
    assert_eq!(
        (end, lag),
        (stored, 0),
        "log end and lag per partition: {rows:?}"
    );
}
