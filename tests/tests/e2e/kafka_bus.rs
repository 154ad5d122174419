//! The Kafka bus itself against a real Apache Kafka broker (a private one per test, on free
//! ports): start-up errors, keys and headers, group commits, and the standalone generator
//! publishing to it. With `CI=true` a missing Kafka fails these tests; elsewhere they skip
//! with a message.

use crate::common;

use bytes::Bytes;
use common::kafka::Broker;
use common::pipeline::*;
use common::services::ServiceProcess;
use payments_bus::{Bus, BusRecord};
use payments_proto::v1 as pb;
use std::collections::HashSet;
use std::time::{Duration, Instant};

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
    let Some(broker) = Broker::start().await else {
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
async fn standalone_generator_publishes_a_run_to_kafka_for_the_processor() {
    use pb::generator_service_client::GeneratorServiceClient;
    let Some(broker) = Broker::start().await else {
        return;
    };
    let dir = common::temp_dir("kafka-generator");
    let generator = ServiceProcess::start(
        "payments-generator",
        &["--bus", &broker.url("partitions=3")],
        &dir.join("generator.log"),
    )
    .await;
    let _processor = processor_process(&broker, &dir, "processor.log", &[]).await;
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
