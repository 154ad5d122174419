//! One trace follows a payment from `paymentsctl submit` through ingest, Kafka and the
//! processor to the store write: every process exports its spans over OTLP to an in-process
//! receiver, and the spans share one trace id, each the child of the one before; the
//! processor's batch span also links to the producer's span (OpenTelemetry messaging
//! conventions).

use crate::common;

use common::kafka::Broker;
use common::otlp::{OtlpReceiver, ReceivedSpan};
use common::pipeline::*;
use common::services::ServiceProcess;
use std::time::{Duration, Instant};

/// The span of `service` named `name` in trace `trace_id`, once it has arrived.
async fn wait_span(
    receiver: &OtlpReceiver,
    service: &str,
    name: &str,
    trace_id: Option<&[u8]>,
) -> ReceivedSpan {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let found = receiver.spans().into_iter().find(|s| {
            s.service == service
                && s.span.name == name
                && trace_id.is_none_or(|t| s.span.trace_id == t)
        });
        if let Some(span) = found {
            return span;
        }
        let seen: Vec<String> = receiver
            .spans()
            .iter()
            .map(|s| format!("{}: {}", s.service, s.span.name))
            .collect();
        assert!(
            Instant::now() < deadline,
            "no span {name:?} from {service}; received: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_trace_follows_a_payment_from_submit_through_kafka_to_the_store_write() {
    let Some(broker) = Broker::start().await else {
        return;
    };
    let receiver = OtlpReceiver::start().await;
    let env = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint.as_str()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ];
    let dir = common::temp_dir("traces");
    let sqlite = sqlite_url(&dir);
    let url = broker.url("partitions=3");
    let ingest = ServiceProcess::start_with_env(
        "payments-ingest",
        &["--bus", &url],
        &env,
        &dir.join("ingest.log"),
    )
    .await;
    let _processor = ServiceProcess::start_with_env(
        "payments-processor",
        &["--bus", &url, "--sink", &sqlite],
        &env,
        &dir.join("processor.log"),
    )
    .await;
    let payment = generated(1, 41).remove(0);
    let file = dir.join("one.jsonl");
    std::fs::write(&file, serde_json::to_string(&payment).unwrap()).unwrap();
    let out = std::process::Command::new(common::paymentsctl())
        .args(["submit", "--server", &ingest.grpc.to_string()])
        .arg(&file)
        .envs(env)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let store = payments_store::open(&sqlite).await.unwrap();
    assert_eq!(
        wait_stored(store.as_ref(), 1, Duration::from_secs(60)).await,
        1
    );

    let submit = wait_span(&receiver, "paymentsctl", "submit payments", None).await;
    let trace = submit.span.trace_id.clone();
    // The stored payment leads back to its trace (the console links it to Jaeger).
    let stored = store.get(&payment.payment_id).await.unwrap().unwrap();
    let kept = stored
        .metadata
        .as_ref()
        .and_then(|m| m.attributes.get(payments_processor::TRACE_ID_ATTRIBUTE))
        .cloned();
    let hex: String = trace.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(kept, Some(hex), "the stored payment keeps its trace id");
    let call = wait_span(
        &receiver,
        "payments-ingest",
        "payments.v1.IngestService/SubmitPayments",
        Some(&trace),
    )
    .await;
    assert_eq!(
        call.span.parent_span_id, submit.span.span_id,
        "the server span continues the client's"
    );
    let publish = wait_span(
        &receiver,
        "payments-ingest",
        "publish payment-transactions",
        Some(&trace),
    )
    .await;
    assert_eq!(publish.span.parent_span_id, call.span.span_id);
    assert_eq!(
        publish.attribute("messaging.system").as_deref(),
        Some("kafka")
    );
    let process = wait_span(
        &receiver,
        "payments-processor",
        "process payment-transactions",
        Some(&trace),
    )
    .await;
    assert_eq!(
        process.span.parent_span_id, publish.span.span_id,
        "the batch continues the producer's trace"
    );
    assert!(
        process
            .span
            .links
            .iter()
            .any(|l| l.trace_id == trace && l.span_id == publish.span.span_id),
        "the batch span links to the producer's: {:?}",
        process.span.links
    );
    let write = wait_span(
        &receiver,
        "payments-processor",
        "upsert sqlite",
        Some(&trace),
    )
    .await;
    assert_eq!(write.span.parent_span_id, process.span.span_id);
    assert_eq!(write.attribute("db.system.name").as_deref(), Some("sqlite"));
    let validate = wait_span(
        &receiver,
        "payments-processor",
        "validate batch",
        Some(&trace),
    )
    .await;
    assert_eq!(validate.span.parent_span_id, process.span.span_id);
}
