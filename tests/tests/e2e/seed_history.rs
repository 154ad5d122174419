//! The seed's whole history keeps working: payments in the shapes of both of its commits'
//! generators and of its producers (tests/seed/seed_shapes.py, 100 a rail), through
//! `paymentsctl submit --lenient` and through a kafka-python producer, are stored, served by
//! the HTTP routes and given back in the seed's shape; its test producer's records are
//! dead-lettered naming their type; and its happybase readers read every row our HBase sink
//! writes, while rows in its own layout are served and counted by us.

use crate::common::kafka::Broker;
use crate::common::pipeline::{dlq_lines, open_store, processor_process, sqlite_url, wait_stored};
use crate::common::{self, services::ServiceProcess};
use payments_core::seed_json::{from_any_json, round_trip_differences, to_seed};
use payments_core::{PaymentValidator, ValidationMode, ValidationOutcome};
use payments_proto::v1 as pb;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Records a rail in every generated shape.
const PER_RAIL: usize = 100;

fn seed_tool(script: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("seed")
        .join(script)
}

/// A `{"transactions": [...]}` file of `shape` (first, head, stream, test-producer), its
/// records created from `start` on.
fn shapes(dir: &Path, shape: &str, start: &str) -> PathBuf {
    let out = dir.join(format!("{shape}.json"));
    let run = Command::new("python3")
        .arg(seed_tool("seed_shapes.py"))
        .args([shape, "--per-type", &PER_RAIL.to_string(), "--start", start])
        .arg("--out")
        .arg(&out)
        .output()
        .expect("running python3");
    common::succeeded(&run);
    out
}

fn transactions(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    let document: Value = serde_json::from_str(&text).unwrap();
    document["transactions"].as_array().unwrap().clone()
}

/// Every payment of the three readable shapes, by id.
fn readable_shapes(dir: &Path) -> (Vec<PathBuf>, BTreeMap<String, Value>) {
    let files: Vec<PathBuf> = ["first", "head", "stream"]
        .iter()
        .map(|shape| shapes(dir, shape, "2024-12-21T08:00:00"))
        .collect();
    let by_id = files
        .iter()
        .flat_map(|f| transactions(f))
        .map(|t| (t["payment_id"].as_str().unwrap().to_owned(), t))
        .collect();
    (files, by_id)
}

fn assert_given_back(original: &Value, payment: &pb::Payment) {
    let back = to_seed(payment);
    let differences = round_trip_differences(original, &back);
    assert!(
        differences.is_empty(),
        "{}: {differences:#?}",
        original["payment_id"]
    );
}

#[test]
fn every_generator_shape_of_both_commits_is_read_with_its_rail_fields_and_comes_back_equal() {
    let dir = common::temp_dir("seed-shapes");
    for shape in ["first", "head", "stream"] {
        let docs = transactions(&shapes(&dir, shape, "2024-12-21T08:00:00"));
        let mut per_rail: BTreeMap<String, usize> = BTreeMap::new();
        for doc in &docs {
            let payment = from_any_json(doc).unwrap_or_else(|e| panic!("{shape}: {e}: {doc}"));
            *per_rail
                .entry(doc["payment_type"].as_str().unwrap().to_owned())
                .or_default() += 1;
            assert!(
                payment.details.is_some(),
                "{shape}: {} lost its rail fields",
                payment.payment_id
            );
            assert!(
                matches!(
                    PaymentValidator::new(ValidationMode::Lenient).validate(&payment),
                    ValidationOutcome::Accepted { .. }
                ),
                "{shape}: {} refused in lenient mode",
                payment.payment_id
            );
            if shape == "stream" {
                assert!(payment.unmodeled.contains_key("/generated_at"));
            }
            assert_given_back(doc, &payment);
        }
        assert!(
            per_rail.values().all(|n| *n >= PER_RAIL),
            "{shape}: {per_rail:?}"
        );
        let rails = if shape == "stream" { 7 } else { 9 };
        assert_eq!(per_rail.len(), rails, "{shape}: {per_rail:?}");
    }
    // The test producer's types are no rail: each is refused naming it.
    for doc in transactions(&shapes(&dir, "test-producer", "2024-12-21T08:00:00")) {
        let error = from_any_json(&doc).err().unwrap().to_string();
        let kind = doc["payment_type"].as_str().unwrap();
        assert!(
            error.contains("payment_type") && error.contains(&format!("{kind:?}")),
            "{error}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_files_submitted_leniently_are_stored_served_and_given_back_in_the_seeds_shape() {
    let (stack, dir) = common::start_stack("seed-history").await;
    let (files, by_id) = readable_shapes(&dir);
    let total = by_id.len();
    assert_eq!(total, 25 * PER_RAIL);
    let server = stack.grpc_addr.to_string();
    let submitted = {
        let files = files.clone();
        tokio::task::spawn_blocking(move || {
            Command::new(common::paymentsctl())
                .args(["submit", "--lenient", "--server", &server])
                .args(&files)
                .output()
                .unwrap()
        })
        .await
        .unwrap()
    };
    let stdout = common::succeeded(&submitted);
    assert!(
        stdout.contains(&format!("submitted {total} payments: {total} accepted")),
        "{stdout}"
    );
    let store = open_store(&dir.join("payments.db")).await;
    assert_eq!(
        wait_stored(store.as_ref(), total as i64, Duration::from_secs(60)).await,
        total as i64
    );
    // In → stored → out: every document comes back equal, producer members included.
    for (id, original) in &by_id {
        let stored = store.get(id).await.unwrap().expect("stored");
        assert_given_back(original, &stored);
    }
    // The seed's time-range route returns them all.
    let rows = common::time_range_rows(stack.http_addr, "2024-12-21", "2024-12-21");
    assert_eq!(rows.len(), total);
    assert!(rows.iter().all(|r| r["amount"].is_string()));

    // One streamed payment in the seed's shape, over HTTP and the CLI.
    let (id, original) = by_id
        .iter()
        .find(|(_, t)| t.get("generated_at").is_some())
        .unwrap();
    let (status, body) = common::http(
        stack.http_addr,
        "GET",
        &format!("/v1/payments/{id}?format=seed"),
        None,
    );
    assert_eq!(status, 200, "{body}");
    let seed: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(seed["generated_at"], original["generated_at"]);
    assert_eq!(seed["payment_type"], original["payment_type"]);
    let (status, body) = common::http(
        stack.http_addr,
        "GET",
        &format!("/v1/payments/{id}?format=xml"),
        None,
    );
    assert_eq!(status, 422, "{body}");
    let detail: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        detail["detail"][0]["loc"],
        serde_json::json!(["query", "format"])
    );

    let server = stack.grpc_addr.to_string();
    let id = id.clone();
    let (get, list) = tokio::task::spawn_blocking(move || {
        let get = Command::new(common::paymentsctl())
            .args(["get", &id, "--format", "seed", "--server", &server])
            .output()
            .unwrap();
        let list = Command::new(common::paymentsctl())
            .args([
                "list",
                "--all",
                "--page-size",
                "1000",
                "--format",
                "seed-json",
            ])
            .args(["--server", &server])
            .output()
            .unwrap();
        (get, list)
    })
    .await
    .unwrap();
    let got: Value = serde_json::from_str(&common::succeeded(&get)).unwrap();
    assert_eq!(got["generated_at"], original["generated_at"]);
    let listed: Value = serde_json::from_str(&common::succeeded(&list)).unwrap();
    assert_eq!(listed["transactions"].as_array().map(Vec::len), Some(total));
    stack.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_producers_records_over_kafka_are_stored_and_its_test_producers_dead_lettered() {
    let Some(broker) = Broker::start().await else {
        return;
    };
    let dir = common::temp_dir("seed-kafka");
    let (files, by_id) = readable_shapes(&dir);
    let total = by_id.len();
    let unknown_types = shapes(&dir, "test-producer", "2024-12-21T08:00:00");
    let topic = "payment-transactions";
    let dlq = "payment-transactions.dlq";
    let bus = payments_bus::Bus::connect(&broker.url("partitions=3"))
        .await
        .unwrap();
    bus.ensure_topics(&[topic, dlq]).await.unwrap();
    let _processor = processor_process(
        &broker,
        &dir,
        "processor.log",
        &[
            "--topic",
            topic,
            "--group",
            "seed-consumers",
            "--validation",
            "lenient",
            "--dead-letter-topic",
            dlq,
        ],
    )
    .await;
    let address = broker.address();
    let produced = tokio::task::spawn_blocking(move || {
        let produce = |extra: &[&str], files: &[PathBuf]| {
            let out = Command::new("python3")
                .arg(seed_tool("kafka_produce.py"))
                .args(["--bootstrap", &address, "--topic", topic])
                .args(extra)
                .args(files)
                .output()
                .unwrap();
            common::succeeded(&out).trim().parse::<usize>().unwrap()
        };
        produce(&[], &files) + produce(&["--no-key"], &[unknown_types])
    })
    .await
    .unwrap();
    assert_eq!(produced, total + PER_RAIL);

    let store = open_store(&dir.join("payments.db")).await;
    assert_eq!(
        wait_stored(store.as_ref(), total as i64, Duration::from_secs(90)).await,
        total as i64
    );
    for (id, original) in by_id.iter().step_by(7) {
        let stored = store.get(id).await.unwrap().expect("stored");
        assert_given_back(original, &stored);
    }
    let mut dead = Vec::new();
    for _ in 0..120 {
        dead = dlq_lines(&broker, dlq);
        if dead.len() >= PER_RAIL {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(dead.len(), PER_RAIL);
    for line in &dead {
        let reason = line["reason"].as_str().unwrap_or_default();
        assert!(
            reason.contains("payment_type: unknown payment type")
                && ["CREDIT", "DEBIT", "TRANSFER"]
                    .iter()
                    .any(|t| reason.contains(&format!("{t:?}"))),
            "{line}"
        );
    }
    // Served by the seed's route from the processor's store.
    let query = ServiceProcess::start(
        "payments-query",
        &["--store", &sqlite_url(&dir)],
        &dir.join("query.log"),
    )
    .await;
    let rows = common::time_range_rows(query.http, "2024-12-21", "2024-12-21");
    assert_eq!(rows.len(), total);
}
