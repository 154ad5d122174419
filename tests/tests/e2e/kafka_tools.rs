//! Our topic and consumer group through Apache Kafka's own command-line tools, the ones the
//! seed's README tells its users to run (`kafka-console-consumer`, `kafka-consumer-groups`,
//! `kafka-topics`), on the shared Kafka broker with topics and a group of this test's own.

use crate::common;

use common::kafka::{SharedKafka, kafka_tool};
use common::pipeline::*;
use common::services::ServiceProcess;
use payments_proto::v1 as pb;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Rows of `kafka-consumer-groups --describe` for `topic`: partition → (log end, lag).
fn group_rows(kafka: &SharedKafka) -> HashMap<u32, (u64, u64)> {
    // The processor's one sink, SQLite, reads in group `<group>.sqlite`.
    let group = format!("{}.sqlite", kafka.group);
    let out = kafka_tool(&[
        "kafka-consumer-groups",
        "--bootstrap-server",
        &kafka.address,
        "--describe",
        "--group",
        &group,
    ]);
    let mut rows = HashMap::new();
    for line in out.lines() {
        let columns: Vec<&str> = line.split_whitespace().collect();
        // GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID
        if columns.len() >= 6 && columns[0] == group && columns[1] == kafka.topic {
            let number = |i: usize| columns[i].parse::<u64>().ok();
            if let (Some(partition), Some(end), Some(lag)) = (number(2), number(4), number(5)) {
                rows.insert(partition as u32, (end, lag));
            }
        }
    }
    rows
}

#[tokio::test(flavor = "multi_thread")]
async fn kafkas_console_consumer_consumer_groups_and_topics_tools_read_our_topic_and_group() {
    let Some(kafka) = SharedKafka::for_test("tools") else {
        return;
    };
    let dir = common::temp_dir("kafka-tools");
    // Ingest publishes JSON values; the processor (which reads both) stores them. It creates
    // the topic with the durability setting asked for (1 is all a single broker can hold).
    let json_bus = kafka.url("partitions=3&min_insync_replicas=1&encoding=json");
    let ingest = ServiceProcess::start(
        "payments-ingest",
        &["--bus", &json_bus, "--topic", &kafka.topic],
        &dir.join("ingest.log"),
    )
    .await;
    let sink = sqlite_url(&dir);
    let processor = ServiceProcess::start(
        "payments-processor",
        &[
            "--bus",
            &kafka.url("partitions=3"),
            "--topic",
            &kafka.topic,
            "--dead-letter-topic",
            &kafka.dead_letter_topic,
            "--group",
            &kafka.group,
            "--sink",
            &sink,
        ],
        &dir.join("processor.log"),
    )
    .await;
    let payments = generated(60, 5);
    let (acknowledged, failed) = submit(ingest.grpc, &payments, 60).await;
    assert_eq!((acknowledged.len(), failed), (60, 0));
    let store = open_store(&dir.join("payments.db")).await;
    assert_eq!(
        wait_stored(store.as_ref(), 60, Duration::from_secs(60)).await,
        60
    );
    assert_stored_once(store.as_ref(), &acknowledged).await;

    // The console consumer prints each record readably: headers, key, the payment as JSON.
    let printed = kafka_tool(&[
        "kafka-console-consumer",
        "--bootstrap-server",
        &kafka.address,
        "--topic",
        &kafka.topic,
        "--from-beginning",
        "--max-messages",
        "60",
        "--timeout-ms",
        "60000",
        "--property",
        "print.key=true",
        "--property",
        "print.headers=true",
    ]);
    let submitted: HashMap<&str, &pb::Payment> = payments
        .iter()
        .map(|p| (p.payment_id.as_str(), p))
        .collect();
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines.len(), 60, "{printed}");
    for line in lines {
        let mut fields = line.splitn(3, '\t');
        let (headers, key, value) = (
            fields.next().unwrap_or_default(),
            fields.next().unwrap_or_default(),
            fields.next().unwrap_or_default(),
        );
        assert!(
            headers.contains("content-type:application/json"),
            "{headers}"
        );
        assert!(headers.contains("schema:payments.v1.Payment"), "{headers}");
        let printed: pb::Payment = serde_json::from_str(value)
            .unwrap_or_else(|e| panic!("not a JSON payment ({e}): {value}"));
        assert_eq!(printed.payment_id, key);
        let original = submitted
            .get(key)
            .unwrap_or_else(|| panic!("{key} was not submitted"));
        assert_eq!(printed.amount, original.amount, "{key}");
        assert_eq!(printed.originator, original.originator, "{key}");
        let stored = store.get(key).await.unwrap().expect("stored");
        assert_eq!(stored.amount, original.amount, "{key}");
    }

    // The consumer-groups tool sees the processor's group on every partition, caught up.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let rows = group_rows(&kafka);
        let end: u64 = rows.values().map(|(end, _)| end).sum();
        let lag: u64 = rows.values().map(|(_, lag)| lag).sum();
        if rows.len() == 3 && end == 60 && lag == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the group's offsets did not catch up: {rows:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // The topics tool describes the topic ingest created: three partitions, each led, and
    // the min.insync.replicas its URL asked for.
    let described = kafka_tool(&[
        "kafka-topics",
        "--bootstrap-server",
        &kafka.address,
        "--describe",
        "--topic",
        &kafka.topic,
    ]);
    assert!(described.contains("PartitionCount: 3"), "{described}");
    assert!(described.contains("min.insync.replicas=1"), "{described}");
    for partition in 0..3 {
        assert!(
            described.contains(&format!("Partition: {partition}\tLeader: 1")),
            "{described}"
        );
    }
    assert!(processor.terminate(), "the processor did not exit cleanly");
}

/// The topics a `bench-kafka` run's last line of stderr names after `what` (`deleted topics
/// A, B, C …`, `kept topics A, B, C`): produce, ingest, and the later rounds' ingest.
fn bench_topics(stderr: &str, what: &str) -> Vec<String> {
    let line = stderr
        .lines()
        .find_map(|line| line.strip_prefix(what))
        .unwrap_or_else(|| panic!("no {what:?} line in:\n{stderr}"));
    let names: Vec<String> = line
        .split([' ', ','])
        .filter(|word| word.starts_with("bench-"))
        .map(str::to_owned)
        .collect();
    assert_eq!(names.len(), 3, "three topic names in {line:?}");
    names
}

fn listed_topics(kafka: &SharedKafka) -> Vec<String> {
    kafka_tool(&[
        "kafka-topics",
        "--bootstrap-server",
        &kafka.address,
        "--list",
    ])
    .lines()
    .map(str::to_owned)
    .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn bench_kafka_deletes_its_topics_unless_told_to_keep_them() {
    let Some(kafka) = SharedKafka::for_test("bench-topics") else {
        return;
    };
    let dir = common::temp_dir("bench-topics");
    let bench = |keep: bool, sink: &str| {
        let url = kafka.url("partitions=1");
        let sink = format!("sqlite://{}", dir.join(sink).display());
        let mut args = vec![
            "bench-kafka",
            "--bus",
            &url,
            "--count",
            "300",
            "--sink",
            &sink,
        ];
        if keep {
            args.push("--keep-topics");
        }
        let output = std::process::Command::new(common::paymentsctl())
            .args(&args)
            .output()
            .expect("running paymentsctl bench-kafka");
        common::succeeded(&output);
        String::from_utf8_lossy(&output.stderr).into_owned()
    };

    let deleted = bench_topics(&bench(false, "deleted.db"), "deleted topics ");
    // Kafka deletes a topic in the background: its name leaves the list soon after.
    let waited = Instant::now();
    while listed_topics(&kafka).iter().any(|t| deleted.contains(t)) {
        assert!(
            waited.elapsed() < Duration::from_secs(60),
            "{deleted:?} still listed a minute after the bench"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    let kept = bench_topics(&bench(true, "kept.db"), "kept topics ");
    let listed = listed_topics(&kafka);
    for topic in &kept {
        assert!(listed.contains(topic), "{topic} was not kept: {listed:?}");
    }
    let bus = payments_bus::Bus::connect(&kafka.url(""))
        .await
        .expect("connecting");
    let kept: Vec<&str> = kept.iter().map(String::as_str).collect();
    bus.delete_topics(&kept)
        .await
        .expect("deleting the kept topics");
}
