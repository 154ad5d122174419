//! The Kafka bus end to end against a real Kafka-protocol broker: Tansu, started per test
//! on a free port with its memory engine (so every test has an empty cluster of its own).
//! With `CI=true` a missing Tansu fails these tests; elsewhere they skip with a message.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bytes::Bytes;
use common::kafka::Broker;
use common::services::ServiceProcess;
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
fn generated(n: u64, seed: u64) -> Vec<pb::Payment> {
    let generator = PaymentGenerator::new(GeneratorConfig {
        seed,
        ..Default::default()
    });
    (0..n).map(|i| generator.payment(i)).collect()
}

/// Submits `payments` to the IngestService at `ingest`, one stream per `chunk`; returns
/// the ids ingest acknowledged and how many chunks failed with an error status.
async fn submit(ingest: SocketAddr, payments: &[pb::Payment], chunk: usize) -> (Vec<String>, u64) {
    let channel = common::channel(ingest).await;
    let mut client = IngestServiceClient::new(channel).max_decoding_message_size(64 << 20);
    let (mut acknowledged, mut failed) = (Vec::new(), 0);
    for part in payments.chunks(chunk) {
        let requests: Vec<pb::SubmitPaymentsRequest> = part
            .iter()
            .map(|p| pb::SubmitPaymentsRequest {
                payment: Some(p.clone()),
                validation_mode: pb::ValidationMode::Strict as i32,
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

async fn open_store(path: &Path) -> Arc<dyn Store> {
    payments_store::open(&format!("sqlite://{}", path.display()))
        .await
        .expect("opening the store")
}

/// Waits until the store holds at least `expected` payments; returns the count.
async fn wait_stored(store: &dyn Store, expected: i64, within: Duration) -> i64 {
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
async fn stored_ids(store: &dyn Store) -> Vec<String> {
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
async fn assert_stored_once(store: &dyn Store, acknowledged: &[String]) {
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

fn ingest_process(broker: &Broker, options: &str, dir: &Path) -> ServiceProcess {
    ServiceProcess::start(
        "payments-ingest",
        &["--bus", &broker.url(options)],
        &dir.join("ingest.log"),
    )
}

fn processor_process(broker: &Broker, dir: &Path, log: &str, extra: &[&str]) -> ServiceProcess {
    let sink = format!("sqlite://{}", dir.join("payments.db").display());
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
    ServiceProcess::start("payments-processor", &args, &dir.join(log))
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_kafka_is_a_clear_start_up_error() {
    let port = common::kafka::free_port();
    let err = Bus::connect(&format!("kafka://127.0.0.1:{port}?connect_timeout_ms=1000"))
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains(&format!("cannot reach Kafka at 127.0.0.1:{port}")),
        "{err}"
    );

    let out = std::process::Command::new(common::binary("payments-ingest"))
        .args([
            "--bus",
            &format!("kafka://127.0.0.1:{port}?connect_timeout_ms=1000"),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot reach Kafka"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bus_keeps_keys_and_headers_and_a_group_resumes_after_its_commit() {
    let Some(broker) = Broker::start() else {
        return;
    };
    let bus = Bus::connect(&broker.url("partitions=2")).await.unwrap();
    bus.ensure_topics(&["t"]).await.unwrap();
    let record = |i: u32| BusRecord {
        key: Bytes::from(format!("k{i}")),
        value: Bytes::from(format!("v{i}")),
        headers: vec![("h".into(), Bytes::from(format!("x{i}")))],
    };
    bus.producer()
        .send_batch("t", (0..10).map(record).collect())
        .await
        .unwrap();

    let mut consumer = bus.consumer("t", "g").unwrap();
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.len() < 10 && Instant::now() < deadline {
        let batch = consumer
            .poll(100, Duration::from_millis(500))
            .await
            .unwrap();
        consumer.commit(&batch).await.unwrap();
        seen.extend(batch);
    }
    assert_eq!(seen.len(), 10);
    let all = bus.read_topic("t", 1_000).await.unwrap();
    assert_eq!(all.len(), 10, "the topic reader sees every record");
    for d in &seen {
        let i = d.record.key.strip_prefix(b"k").unwrap();
        assert_eq!(d.record.value.strip_prefix(b"v").unwrap(), i);
        assert_eq!(
            d.record
                .header("h")
                .unwrap()
                .as_bytes()
                .strip_prefix(b"x")
                .unwrap(),
            i
        );
    }
    consumer.close().await.unwrap();
    drop(consumer);

    bus.producer()
        .send_batch("t", (10..15).map(record).collect())
        .await
        .unwrap();
    let mut next = bus.consumer("t", "g").unwrap();
    let mut again = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while again.len() < 5 && Instant::now() < deadline {
        again.extend(next.poll(100, Duration::from_millis(500)).await.unwrap());
    }
    let keys: HashSet<String> = again
        .iter()
        .map(|d| String::from_utf8_lossy(&d.record.key).into_owned())
        .collect();
    let expected: HashSet<String> = (10..15).map(|i| format!("k{i}")).collect();
    assert_eq!(
        keys, expected,
        "the group must resume after its committed offsets"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn hundred_thousand_payments_through_ingest_reach_the_store_exactly_once() {
    let Some(broker) = Broker::start() else {
        return;
    };
    let dir = common::temp_dir("kafka-100k");
    let stack = paymentsctl::stack::RunningStack::start(paymentsctl::stack::StackConfig {
        grpc_addr: "127.0.0.1:0".into(),
        http_addr: "127.0.0.1:0".into(),
        bus: broker.url("partitions=3"),
        store: format!("sqlite://{}", dir.join("payments.db").display()),
        ..Default::default()
    })
    .await
    .unwrap();
    let payments = generated(100_000, 7);
    let (acknowledged, failed) = submit(stack.grpc_addr, &payments, 10_000).await;
    assert_eq!((acknowledged.len(), failed), (100_000, 0));
    let store = open_store(&dir.join("payments.db")).await;
    let count = wait_stored(store.as_ref(), 100_000, Duration::from_secs(300)).await;
    assert_eq!(count, 100_000);
    assert_stored_once(store.as_ref(), &acknowledged).await;
    stack.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn processor_killed_mid_stream_then_restarted_stores_every_acknowledged_payment_once() {
    let Some(broker) = Broker::start() else {
        return;
    };
    let dir = common::temp_dir("kafka-sigkill");
    let ingest = ingest_process(&broker, "partitions=3", &dir);
    let processor = processor_process(&broker, &dir, "processor-1.log", &[]);
    let payments = generated(30_000, 11);
    let ingest_addr = ingest.grpc;
    let submitter = tokio::spawn(async move { submit(ingest_addr, &payments, 1_000).await });

    let deadline = Instant::now() + Duration::from_secs(120);
    while processor.metric("payments_processor_stored_total") < 3_000 {
        assert!(Instant::now() < deadline, "the processor stored nothing");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    processor.kill_hard();
    let restarted = processor_process(&broker, &dir, "processor-2.log", &[]);

    let (acknowledged, failed) = submitter.await.unwrap();
    assert_eq!((acknowledged.len(), failed), (30_000, 0));
    let store = open_store(&dir.join("payments.db")).await;
    let count = wait_stored(store.as_ref(), 30_000, Duration::from_secs(180)).await;
    assert_eq!(count, 30_000);
    assert_stored_once(store.as_ref(), &acknowledged).await;
    assert!(
        restarted.terminate(),
        "the restarted processor did not exit cleanly"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn broker_paused_for_ten_seconds_loses_no_acknowledged_payment() {
    let Some(broker) = Broker::start() else {
        return;
    };
    let dir = common::temp_dir("kafka-pause");
    let ingest = ingest_process(&broker, "partitions=3", &dir);
    let _processor = processor_process(&broker, &dir, "processor.log", &[]);
    let payments = generated(20_000, 13);
    let ingest_addr = ingest.grpc;
    let submitter = tokio::spawn(async move {
        let mut all = (Vec::new(), 0);
        for part in payments.chunks(500) {
            let (ok, failed) = submit(ingest_addr, part, 500).await;
            all.0.extend(ok);
            all.1 += failed;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        all
    });
    tokio::time::sleep(Duration::from_secs(2)).await;
    broker.pause();
    tokio::time::sleep(Duration::from_secs(10)).await;
    broker.resume();
    let (acknowledged, failed) = submitter.await.unwrap();
    eprintln!(
        "{} acknowledged, {failed} streams failed with an error",
        acknowledged.len()
    );
    assert!(
        acknowledged.len() >= 10_000,
        "too few acknowledged: {}",
        acknowledged.len()
    );
    let store = open_store(&dir.join("payments.db")).await;
    let count = wait_stored(
        store.as_ref(),
        acknowledged.len() as i64,
        Duration::from_secs(180),
    )
    .await;
    assert!(count >= acknowledged.len() as i64);
    assert_stored_once(store.as_ref(), &acknowledged).await;
}

/// Puts raw records on the payments topic, as any producer could.
async fn produce_raw(broker: &Broker, topic: &str, records: Vec<BusRecord>) {
    let bus = Bus::connect(&broker.url("partitions=3")).await.unwrap();
    bus.ensure_topics(&[topic]).await.unwrap();
    bus.producer().send_batch(topic, records).await.unwrap();
}

fn protobuf_record(payment: &pb::Payment) -> BusRecord {
    protobuf_bytes(&payment.payment_id, payment.encode_to_vec())
}

fn protobuf_bytes(key: &str, value: Vec<u8>) -> BusRecord {
    BusRecord {
        key: Bytes::from(key.to_owned()),
        value: Bytes::from(value),
        headers: vec![(
            headers::CONTENT_TYPE.into(),
            Bytes::from_static(headers::PROTOBUF.as_bytes()),
        )],
    }
}

fn dlq_lines(broker: &Broker, topic: &str) -> Vec<serde_json::Value> {
    let out = std::process::Command::new(common::paymentsctl())
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

#[tokio::test(flavor = "multi_thread")]
async fn garbage_truncated_and_invalid_records_are_dead_lettered_and_the_good_ones_stored() {
    let Some(broker) = Broker::start() else {
        return;
    };
    let dir = common::temp_dir("kafka-dlq");
    let processor = processor_process(&broker, &dir, "processor.log", &[]);
    let good = generated(4, 17);
    let mut truncated = good[3].encode_to_vec();
    truncated.truncate(truncated.len() / 2);
    let mut invalid = good[3].clone();
    invalid.payment_id = "INVALID-1".into();
    if let Some(amount) = invalid.amount.as_mut() {
        amount.minor_units = -5;
    }
    let topic = payments_bus::PAYMENTS_TOPIC;
    produce_raw(
        &broker,
        topic,
        vec![
            protobuf_record(&good[0]),
            protobuf_bytes("GARBAGE", vec![0xff, 0x00, 0x13, 0x37]),
            protobuf_record(&good[1]),
            protobuf_bytes("TRUNCATED", truncated),
            protobuf_record(&invalid),
            protobuf_record(&good[2]),
        ],
    )
    .await;
    let store = open_store(&dir.join("payments.db")).await;
    assert_eq!(
        wait_stored(store.as_ref(), 3, Duration::from_secs(60)).await,
        3
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while processor.metric("payments_processor_dead_lettered_total") < 3 {
        assert!(Instant::now() < deadline, "dead letters not counted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let letters = dlq_lines(&broker, payments_bus::DEAD_LETTER_TOPIC);
    assert_eq!(letters.len(), 3, "{letters:?}");
    let by_key = |key: &str| {
        letters
            .iter()
            .find(|l| l["key"] == key)
            .unwrap_or_else(|| panic!("{key} not dead-lettered: {letters:?}"))
    };
    assert_eq!(by_key("GARBAGE")["stage"], "decode");
    assert!(
        by_key("GARBAGE")["reason"]
            .as_str()
            .unwrap()
            .contains("not a payments.v1.Payment protobuf")
    );
    assert_eq!(by_key("TRUNCATED")["stage"], "decode");
    let invalid_letter = by_key("INVALID-1");
    assert_eq!(invalid_letter["stage"], "validate");
    assert!(
        invalid_letter["reason"]
            .as_str()
            .unwrap()
            .contains("amount.minor_units"),
        "{invalid_letter}"
    );
    assert!(
        invalid_letter["source"]
            .as_str()
            .unwrap()
            .starts_with("payment-transactions/")
    );
    assert!(!invalid_letter["time"].as_str().unwrap().is_empty());
    for p in &good[..3] {
        assert!(store.get(&p.payment_id).await.unwrap().is_some());
    }
    // Still running: the next good record is stored too.
    produce_raw(&broker, topic, vec![protobuf_record(&good[3])]).await;
    assert_eq!(
        wait_stored(store.as_ref(), 4, Duration::from_secs(60)).await,
        4
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_json_from_a_plain_kafka_client_is_stored_leniently_or_dead_lettered_strictly() {
    use rdkafka::producer::{FutureProducer, FutureRecord};
    let Some(broker) = Broker::start() else {
        return;
    };
    let dir = common::temp_dir("kafka-legacy");
    let seed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(common::seed_fixture()).unwrap()).unwrap();
    let transactions = seed["transactions"].as_array().unwrap().clone();
    assert_eq!(transactions.len(), 90);
    // Two topics, as the seed's kafka-python producer writes them: JSON value, key, no headers.
    let bus = Bus::connect(&broker.url("partitions=3")).await.unwrap();
    bus.ensure_topics(&["legacy-lenient", "legacy-strict", "legacy-strict.dlq"])
        .await
        .unwrap();
    let producer: FutureProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", broker.address())
        .create()
        .unwrap();
    for topic in ["legacy-lenient", "legacy-strict"] {
        for tx in &transactions {
            let value = serde_json::to_vec(tx).unwrap();
            let key = tx["payment_id"].as_str().unwrap();
            producer
                .send(
                    FutureRecord::to(topic).key(key).payload(&value),
                    Duration::from_secs(10),
                )
                .await
                .map_err(|(e, _)| e)
                .unwrap();
        }
    }
    let lenient_dir = dir.join("lenient");
    let strict_dir = dir.join("strict");
    std::fs::create_dir_all(&lenient_dir).unwrap();
    std::fs::create_dir_all(&strict_dir).unwrap();
    let _lenient = processor_process(
        &broker,
        &lenient_dir,
        "processor.log",
        &[
            "--topic",
            "legacy-lenient",
            "--group",
            "lenient",
            "--validation",
            "lenient",
        ],
    );
    let _strict = processor_process(
        &broker,
        &strict_dir,
        "processor.log",
        &[
            "--topic",
            "legacy-strict",
            "--group",
            "strict",
            "--dead-letter-topic",
            "legacy-strict.dlq",
        ],
    );

    let lenient = open_store(&lenient_dir.join("payments.db")).await;
    assert_eq!(
        wait_stored(lenient.as_ref(), 90, Duration::from_secs(60)).await,
        90
    );
    let ach = lenient
        .get("ACH-CAEF9452")
        .await
        .unwrap()
        .expect("seed payment stored");
    assert_eq!(ach.amount.unwrap().minor_units, 90_089_806);
    assert!(
        !ach.warnings.is_empty(),
        "lenient keeps the check-digit failure as a warning"
    );

    let strict = open_store(&strict_dir.join("payments.db")).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut letters = Vec::new();
    while letters.len() < 89 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(300)).await;
        letters = dlq_lines(&broker, "legacy-strict.dlq");
    }
    assert_eq!(letters.len(), 89);
    assert!(
        letters.iter().all(|l| l["reason"]
            .as_str()
            .unwrap()
            .contains("account.routing_info.value: ABA routing number check digit mismatch")),
        "{:?}",
        letters[0]
    );
    assert_eq!(
        wait_stored(strict.as_ref(), 1, Duration::from_secs(30)).await,
        1
    );

    // Replayed leniently, the dead letters are stored too.
    let out = std::process::Command::new(common::paymentsctl())
        .args([
            "dlq",
            "replay",
            "--lenient",
            "--bus",
            &broker.url(""),
            "--topic",
            "legacy-strict.dlq",
            "--to",
            "legacy-strict",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("89 replayed to legacy-strict, 0 still failing"),
        "{stdout}"
    );
    assert_eq!(
        wait_stored(strict.as_ref(), 90, Duration::from_secs(60)).await,
        90
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_processors_in_one_group_split_the_partitions_and_store_each_payment_once() {
    let Some(broker) = Broker::start() else {
        return;
    };
    let dir = common::temp_dir("kafka-group");
    let ingest = ingest_process(&broker, "partitions=4", &dir);
    let url = broker.url("partitions=4");
    let sink = format!("sqlite://{}", dir.join("payments.db").display());
    let args = ["--bus", url.as_str(), "--sink", sink.as_str()];
    let a = ServiceProcess::start("payments-processor", &args, &dir.join("a.log"));
    let b = ServiceProcess::start("payments-processor", &args, &dir.join("b.log"));
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let (pa, pb) = (
            a.metric("payments_processor_assigned_partitions"),
            b.metric("payments_processor_assigned_partitions"),
        );
        if pa > 0 && pb > 0 && pa + pb == 4 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "partitions not split: {pa} and {pb}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let payments = generated(20_000, 19);
    let (acknowledged, failed) = submit(ingest.grpc, &payments, 2_000).await;
    assert_eq!((acknowledged.len(), failed), (20_000, 0));
    let store = open_store(&dir.join("payments.db")).await;
    assert_eq!(
        wait_stored(store.as_ref(), 20_000, Duration::from_secs(180)).await,
        20_000
    );
    assert_stored_once(store.as_ref(), &acknowledged).await;
    let (ca, cb) = (
        a.metric("payments_processor_consumed_total"),
        b.metric("payments_processor_consumed_total"),
    );
    assert!(
        ca > 0 && cb > 0,
        "one processor did all the work: {ca} and {cb}"
    );
    assert_eq!(ca + cb, 20_000, "a record was processed twice");
}

#[tokio::test(flavor = "multi_thread")]
async fn standalone_generator_publishes_a_run_to_kafka_for_the_processor() {
    use pb::generator_service_client::GeneratorServiceClient;
    let Some(broker) = Broker::start() else {
        return;
    };
    let dir = common::temp_dir("kafka-generator");
    let generator = ServiceProcess::start(
        "payments-generator",
        &["--bus", &broker.url("partitions=3")],
        &dir.join("generator.log"),
    );
    let _processor = processor_process(&broker, &dir, "processor.log", &[]);
    let mut client = GeneratorServiceClient::new(common::channel(generator.grpc).await);
    let run = client
        .start_run(pb::StartRunRequest {
            spec: Some(pb::RunSpec {
                rate: 5_000,
                count: 3_000,
                seed: 23,
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .run
        .unwrap();
    let store = open_store(&dir.join("payments.db")).await;
    assert_eq!(
        wait_stored(store.as_ref(), 3_000, Duration::from_secs(120)).await,
        3_000
    );
    let done = client
        .get_run(pb::GetRunRequest { run_id: run.run_id })
        .await
        .unwrap()
        .into_inner()
        .run
        .unwrap();
    assert_eq!(done.acknowledged, 3_000);
}
