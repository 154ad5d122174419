//! SIGTERM while a generator run pushes 5,000 payments/s through ingest and Kafka: the
//! processor and then ingest each exit 0 inside their grace period (the processor having
//! committed its offsets), and every payment the run had acknowledged is on the topic and
//! stored.

use crate::common;

use common::kafka::Broker;
use common::pipeline::*;
use common::services::ServiceProcess;
use payments_proto::v1 as pb;
use std::time::{Duration, Instant};

/// The grace period each service is given.
const GRACE_SECONDS: u64 = 10;

/// SIGTERMs `service` and checks that it exits 0 within the grace period.
fn terminate_within_grace(service: ServiceProcess, name: &str) {
    let started = Instant::now();
    assert!(service.terminate(), "{name} did not exit 0 on SIGTERM");
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(GRACE_SECONDS),
        "{name} took {took:?} to stop, past its {GRACE_SECONDS} s grace period"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_during_a_5000_per_second_run_exits_zero_in_grace_and_loses_nothing() {
    let Some(broker) = Broker::start().await else {
        return;
    };
    let dir = common::temp_dir("graceful");
    let grace = GRACE_SECONDS.to_string();
    let url = broker.url("partitions=3");
    let ingest = ServiceProcess::start(
        "payments-ingest",
        &["--bus", &url, "--shutdown-grace", &grace],
        &dir.join("ingest.log"),
    )
    .await;
    let processor = processor_process(
        &broker,
        &dir,
        "processor.log",
        &["--shutdown-grace", &grace],
    )
    .await;
    let generator = generator_for(&ingest, &dir).await;
    let (mut runs, run) = start_run(
        generator.grpc,
        pb::RunSpec {
            rate: 5_000,
            seed: 46,
            ingest_target: ingest.grpc.to_string(),
            ..Default::default()
        },
    )
    .await;

    // Mid-run: the processor is storing.
    let deadline = Instant::now() + Duration::from_secs(60);
    while processor.metric("payments_processor_stored_total") < 2_000 {
        assert!(Instant::now() < deadline, "nothing stored");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    terminate_within_grace(processor, "payments-processor");
    let log = std::fs::read_to_string(dir.join("processor.log")).unwrap();
    assert!(
        log.contains("consumer left its group with its offsets committed"),
        "{log}"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    terminate_within_grace(ingest, "payments-ingest");

    let stopped = runs
        .stop_run(pb::StopRunRequest { run_id: run.run_id })
        .await
        .unwrap()
        .into_inner()
        .run
        .unwrap();
    assert!(
        stopped.acknowledged >= 5_000,
        "about 15,000 expected before ingest stopped, got {}",
        stopped.acknowledged
    );

    // Everything acknowledged is on the topic, and the stopped processor's group, resumed
    // from the offsets it committed while draining, stores the rest of it.
    let _resumed = processor_process(&broker, &dir, "processor-resumed.log", &[]).await;
    let store = open_store(&dir.join("payments.db")).await;
    let stored = wait_stored(
        store.as_ref(),
        stopped.acknowledged as i64,
        Duration::from_secs(120),
    )
    .await;
    let on_topic: std::collections::HashSet<Vec<u8>> = payments_bus::Bus::connect(&url)
        .await
        .unwrap()
        .read_topic("payment-transactions", 1_000_000)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.record.key.to_vec())
        .collect();
    assert!(
        stored >= stopped.acknowledged as i64 && stored == on_topic.len() as i64,
        "stored {stored}, acknowledged {}, distinct payments on the topic {}",
        stopped.acknowledged,
        on_topic.len()
    );
    terminate_within_grace(generator, "payments-generator");
}
