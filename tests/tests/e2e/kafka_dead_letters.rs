//! Bad records on the Kafka topic, end to end against a real Apache Kafka broker (a private
//! one per test, on free ports): dead letters with their reasons, the good records around
//! them stored, the seed's legacy JSON producers, `paymentsctl dlq`. With `CI=true` a missing
//! Kafka fails these tests.

use crate::common;

use common::kafka::Broker;
use common::pipeline::*;
use common::services::ServiceProcess;
use payments_bus::Bus;
use prost::Message;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread")]
async fn garbage_truncated_and_invalid_records_are_dead_lettered_and_the_good_ones_stored() {
    let Some(broker) = Broker::start().await else {
        return;
    };
    let dir = common::temp_dir("kafka-dlq");
    let processor = processor_process(&broker, &dir, "processor.log", &[]).await;
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
    let Some(broker) = Broker::start().await else {
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
    )
    .await;
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
    )
    .await;

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
    // Queryable through the query service, on the seed's own route.
    let query = ServiceProcess::start(
        "payments-query",
        &[
            "--store",
            &format!("sqlite://{}", lenient_dir.join("payments.db").display()),
        ],
        &lenient_dir.join("query.log"),
    )
    .await;
    let (status, body) = common::http(
        query.http,
        "POST",
        "/payments/type-customer",
        Some(r#"{"payment_type":"ACH","customer_id":"CUST88C031C3"}"#),
    );
    assert_eq!(status, 200, "{body}");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(rows.len(), 1, "{body}");
    assert_eq!(rows[0]["payment_id"], "ACH-CAEF9452");

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
    let stdout = common::succeeded(&out);
    assert!(
        stdout.contains("89 replayed to legacy-strict, 0 still failing"),
        "{stdout}"
    );
    assert_eq!(
        wait_stored(strict.as_ref(), 90, Duration::from_secs(60)).await,
        90
    );
}
