//! `GET /metrics` on every service after a run over Kafka: gRPC calls by method and code
//! with latencies, payments accepted, rejected (by field), produced, generated, consumed,
//! stored (by sink) and dead-lettered, batch sizes, sink latencies, consumer lag per
//! partition and the generator's target and actual rates, each with the count the run
//! implies.

use crate::common;

use common::kafka::Broker;
use common::pipeline::*;
use common::services::ServiceProcess;
use payments_proto::v1 as pb;
use pb::ingest_service_client::IngestServiceClient;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The value of the series `name` whose labels include every one of `labels`, if any.
fn series(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines().find_map(|line| {
        let rest = line.strip_prefix(name)?;
        if !(rest.starts_with(' ') || rest.starts_with('{')) {
            return None;
        }
        let (head, value) = rest.rsplit_once(' ')?;
        labels
            .iter()
            .all(|(k, v)| head.contains(&format!("{k}=\"{v}\"")))
            .then(|| value.parse().ok())?
    })
}

fn scrape(http: SocketAddr) -> String {
    let (status, body) = common::http(http, "GET", "/metrics", None);
    assert_eq!(status, 200, "{body}");
    body
}

/// The value of a series, failing with the whole scrape when it is missing.
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    series(text, name, labels).unwrap_or_else(|| panic!("no {name} {labels:?} in:\n{text}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn every_service_exports_its_series_with_the_counts_of_the_run() {
    let Some(broker) = Broker::start().await else {
        return;
    };
    let dir = common::temp_dir("metrics");
    let sqlite = sqlite_url(&dir);
    let url = broker.url("partitions=3");
    let ingest = ingest_process(&broker, "partitions=3", &dir).await;
    let processor = ServiceProcess::start(
        "payments-processor",
        &["--bus", &url, "--sink", &sqlite],
        &dir.join("processor.log"),
    )
    .await;
    let generator = generator_for(&ingest, &dir).await;

    // 300 good payments in 3 streams, then one stream of 5 with a negative amount.
    let good = generated(300, 43);
    let (acknowledged, failed) = submit(ingest.grpc, &good, 100).await;
    assert_eq!((acknowledged.len(), failed), (300, 0));
    let bad: Vec<pb::SubmitPaymentsRequest> = generated(5, 44)
        .into_iter()
        .map(|mut p| {
            if let Some(amount) = p.amount.as_mut() {
                amount.minor_units = -5;
            }
            pb::SubmitPaymentsRequest {
                payment: Some(p),
                validation_mode: pb::ValidationMode::Strict as i32,
                payments: Vec::new(),
            }
        })
        .collect();
    let mut client = IngestServiceClient::new(common::channel(ingest.grpc).await);
    let summary = client
        .submit_payments(tokio_stream::iter(bad))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(summary.rejected, 5);

    let text = scrape(ingest.http);
    let submit = [
        ("grpc_service", "payments.v1.IngestService"),
        ("grpc_method", "SubmitPayments"),
    ];
    let ok = [submit[0], submit[1], ("grpc_code", "OK")];
    assert_eq!(value(&text, "grpc_server_handled_total", &ok), 4.0);
    assert_eq!(
        value(&text, "grpc_server_handling_seconds_count", &submit),
        4.0
    );
    assert!(series(&text, "grpc_server_handling_seconds_bucket", &submit).is_some());
    assert_eq!(value(&text, "payments_ingest_accepted_total", &[]), 300.0);
    assert_eq!(value(&text, "payments_ingest_produced_total", &[]), 300.0);
    assert_eq!(
        value(
            &text,
            "payments_ingest_rejected_total",
            &[("field", "amount.minor_units")]
        ),
        5.0
    );

    // A generator run of 400 into ingest.
    let (mut runs, run) = start_run(
        generator.grpc,
        pb::RunSpec {
            rate: 2_000,
            count: 400,
            seed: 45,
            ingest_target: ingest.grpc.to_string(),
            ..Default::default()
        },
    )
    .await;
    let done = wait_run_finished(&mut runs, &run.run_id).await;
    assert_eq!(done.state(), pb::RunState::Completed);
    let text = scrape(generator.http);
    assert_eq!(
        value(&text, "payments_generator_generated_total", &[]),
        400.0
    );
    assert_eq!(
        value(&text, "payments_generator_accepted_total", &[]),
        400.0
    );
    assert_eq!(value(&text, "payments_generator_target_rate", &[]), 2000.0);
    assert!(value(&text, "payments_generator_actual_rate", &[]) > 0.0);
    let text = scrape(ingest.http);
    assert_eq!(value(&text, "payments_ingest_accepted_total", &[]), 700.0);

    // Everything stored: the processor's counters, per-sink writes, batches and lag.
    let store = payments_store::open(&sqlite).await.unwrap();
    assert_eq!(
        wait_stored(store.as_ref(), 700, Duration::from_secs(60)).await,
        700
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let text = loop {
        let text = scrape(processor.http);
        let lag_reported = (0..3).all(|p| {
            series(
                &text,
                "payments_consumer_lag",
                &[
                    ("topic", "payment-transactions"),
                    ("partition", &p.to_string()),
                ],
            ) == Some(0.0)
        });
        if lag_reported && series(&text, "payments_processor_stored_total", &[]) == Some(700.0) {
            break text;
        }
        assert!(
            Instant::now() < deadline,
            "lag per partition never reached 0:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        value(&text, "payments_processor_consumed_total", &[]),
        700.0
    );
    assert_eq!(
        value(&text, "payments_processor_dead_lettered_total", &[]),
        0.0
    );
    assert_eq!(
        value(
            &text,
            "payments_store_written_total",
            &[("system", "sqlite")]
        ),
        700.0
    );
    let batches = value(&text, "payments_processor_batches_total", &[]);
    assert!(batches >= 1.0);
    assert_eq!(
        value(&text, "payments_processor_batch_size_count", &[]),
        batches
    );
    assert_eq!(
        value(&text, "payments_processor_batch_size_sum", &[]),
        700.0
    );
    let by_type: f64 = text
        .lines()
        .filter(|l| l.starts_with("payments_processor_stored_by_type_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert_eq!(by_type, 700.0, "stored by type should add up to stored");
    // End-to-end latency is sampled: up to 16 records of each stored batch, at least one.
    let latencies = value(&text, "payments_end_to_end_latency_seconds_count", &[]);
    assert!(
        latencies >= batches && latencies <= 700.0,
        "{latencies} latency samples for {batches} batches"
    );
    assert!(value(&text, "payments_end_to_end_latency_seconds_sum", &[]) > 0.0);
    let upserts = [("system", "sqlite"), ("operation", "upsert")];
    assert_eq!(
        value(&text, "payments_store_operation_seconds_count", &upserts),
        batches
    );
    assert_eq!(
        value(&text, "payments_processor_assigned_partitions", &[]),
        3.0
    );
}
