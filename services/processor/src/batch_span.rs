//! The span of one consumed batch (OpenTelemetry messaging conventions for a batch
//! consumer): it continues the trace of the batch's first traced record and links to the
//! producer's context of every record, so each payment's trace reaches the sink writes.

use payments_bus::{Delivery, headers};
use payments_runtime::TraceParent;

/// The most links one span carries (the OpenTelemetry SDK's default limit).
const MAX_LINKS: usize = 128;

/// A `process` span for `batch`, read from a `system` bus (`kafka`, `memory`).
pub fn batch_span(batch: &[Delivery], system: &'static str) -> tracing::Span {
    let topic = batch.first().map_or("", |d| d.topic.as_str());
    let span = tracing::info_span!(
        "process batch",
        otel.name = format!("process {topic}"),
        otel.kind = "consumer",
        messaging.system = system,
        messaging.operation.type = "process",
        messaging.destination.name = topic,
        messaging.batch.message_count = batch.len(),
    );
    if !payments_runtime::telemetry::exporting() {
        // Parents and links only matter to exported spans; reading every record's header
        // for them would be work on the hot path for nothing.
        return span;
    }
    let mut producers: Vec<TraceParent> = Vec::new();
    for delivery in batch {
        let Some(producer) = delivery
            .record
            .header(headers::TRACEPARENT)
            .and_then(TraceParent::parse)
        else {
            continue;
        };
        if !producers.contains(&producer) {
            producers.push(producer);
            if producers.len() == MAX_LINKS {
                break;
            }
        }
    }
    if let Some(first) = producers.first() {
        first.adopt(&span);
    }
    for producer in &producers {
        producer.link(&span);
    }
    span
}
