//! Delivery over Kafka, end to end against a real Apache Kafka broker (a private one per test,
//! on free ports) with ingest and processor as separate processes: nothing lost, nothing
//! doubled, through volume, a killed processor, a frozen broker, a broker killed and restarted
//! on its log, and a shared consumer group. With `CI=true` a missing Kafka fails these tests.

use crate::common;

use common::kafka::Broker;
use common::pipeline::*;
use common::services::ServiceProcess;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread")]
async fn hundred_thousand_payments_through_ingest_reach_the_store_exactly_once() {
    let Some(broker) = Broker::start().await else {
        return;
    };
    let dir = common::temp_dir("kafka-100k");
    let stack = paymentsctl::stack::RunningStack::start(paymentsctl::stack::StackConfig {
        grpc_addr: "127.0.0.1:0".into(),
        http_addr: "127.0.0.1:0".into(),
        bus: broker.url("partitions=3"),
        store: sqlite_url(&dir),
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
    let Some(broker) = Broker::start().await else {
        return;
    };
    let dir = common::temp_dir("kafka-sigkill");
    let ingest = ingest_process(&broker, "partitions=3", &dir).await;
    let processor = processor_process(&broker, &dir, "processor-1.log", &[]).await;
    let payments = generated(30_000, 11);
    let ingest_addr = ingest.grpc;
    let submitter = tokio::spawn(async move { submit(ingest_addr, &payments, 1_000).await });

    let deadline = Instant::now() + Duration::from_secs(120);
    while processor.metric("payments_processor_stored_total") < 3_000 {
        assert!(Instant::now() < deadline, "the processor stored nothing");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    processor.kill_hard();
    let restarted = processor_process(&broker, &dir, "processor-2.log", &[]).await;

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
    let Some(broker) = Broker::start().await else {
        return;
    };
    let dir = common::temp_dir("kafka-pause");
    let ingest = ingest_process(&broker, "partitions=3", &dir).await;
    let _processor = processor_process(&broker, &dir, "processor.log", &[]).await;
    let submitter = submit_slowly(ingest.grpc, generated(20_000, 13));
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        !submitter.is_finished(),
        "submission ended before the pause"
    );
    broker.pause();
    tokio::time::sleep(Duration::from_secs(10)).await;
    // Unpaused, the rest takes a few seconds; still running means the pause held it up.
    assert!(
        !submitter.is_finished(),
        "submission went on while the broker was frozen"
    );
    broker.resume();
    every_acknowledged_payment_stored_once(submitter, &dir).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn broker_paused_while_the_processor_joins_its_group_holds_nothing_up_once_back() {
    let Some(broker) = Broker::start().await else {
        return;
    };
    let dir = common::temp_dir("kafka-pause-join");
    let ingest = ingest_process(&broker, "partitions=3", &dir).await;
    let _processor = processor_process(&broker, &dir, "processor.log", &[]).await;
    // Frozen right after the processor starts, while its group may still be forming: once
    // thawed, the group's coordinator can answer "not coordinator" for a moment, and a
    // rebalance then must ask again rather than hold its partitions unread.
    broker.pause();
    tokio::time::sleep(Duration::from_secs(10)).await;
    broker.resume();
    let (acknowledged, failed) = submit(ingest.grpc, &generated(2_000, 23), 500).await;
    assert_eq!((acknowledged.len(), failed), (2_000, 0));
    let store = open_store(&dir.join("payments.db")).await;
    let count = wait_stored(store.as_ref(), 2_000, Duration::from_secs(60)).await;
    assert_eq!(count, 2_000, "stored once the broker was back");
    assert_stored_once(store.as_ref(), &acknowledged).await;
}

/// Submits `payments` in streams of 500 with a pause between them, so that the submission
/// lasts long enough for something to happen to the broker in the middle of it; returns the
/// acknowledged ids and how many streams failed.
fn submit_slowly(
    ingest: std::net::SocketAddr,
    payments: Vec<payments_proto::v1::Payment>,
) -> tokio::task::JoinHandle<(Vec<String>, u64)> {
    tokio::spawn(async move {
        let mut all = (Vec::new(), 0);
        for part in payments.chunks(500) {
            let (ok, failed) = submit(ingest, part, 500).await;
            all.0.extend(ok);
            all.1 += failed;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        all
    })
}

/// Waits for a [`submit_slowly`] that something interrupted, checks that most of it was
/// acknowledged, and that the store in `dir` holds every acknowledged payment exactly once.
async fn every_acknowledged_payment_stored_once(
    submitter: tokio::task::JoinHandle<(Vec<String>, u64)>,
    dir: &std::path::Path,
) {
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

#[tokio::test(flavor = "multi_thread")]
async fn broker_killed_mid_stream_and_restarted_on_its_log_loses_no_acknowledged_payment() {
    let Some(mut broker) = Broker::start().await else {
        return;
    };
    let dir = common::temp_dir("kafka-broker-kill");
    let ingest = ingest_process(&broker, "partitions=3", &dir).await;
    let processor = processor_process(&broker, &dir, "processor.log", &[]).await;
    let submitter = submit_slowly(ingest.grpc, generated(20_000, 17));
    let deadline = Instant::now() + Duration::from_secs(120);
    while processor.metric("payments_processor_stored_total") < 2_000 {
        assert!(Instant::now() < deadline, "the processor stored nothing");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!submitter.is_finished(), "submission ended before the kill");
    broker.kill_and_restart().await;
    every_acknowledged_payment_stored_once(submitter, &dir).await;
    assert!(processor.terminate(), "the processor did not exit cleanly");
}

#[tokio::test(flavor = "multi_thread")]
async fn two_processors_in_one_group_split_the_partitions_and_store_each_payment_once() {
    let Some(broker) = Broker::start().await else {
        return;
    };
    let dir = common::temp_dir("kafka-group");
    let ingest = ingest_process(&broker, "partitions=4", &dir).await;
    let url = broker.url("partitions=4");
    let sink = sqlite_url(&dir);
    let args = ["--bus", url.as_str(), "--sink", sink.as_str()];
    let a = ServiceProcess::start("payments-processor", &args, &dir.join("a.log")).await;
    let b = ServiceProcess::start("payments-processor", &args, &dir.join("b.log")).await;
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
