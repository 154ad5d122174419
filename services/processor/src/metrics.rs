//! `GET /metrics`: the processor's counters and consumer lag in the Prometheus text
//! format.

use crate::ProcessorCounters;
use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// The Prometheus exposition of `counters`.
pub fn render(counters: &ProcessorCounters) -> String {
    let series: [(&str, &str, &str, u64); 8] = [
        (
            "payments_processor_consumed_total",
            "counter",
            "records read from the bus",
            counters.consumed.load(Ordering::Relaxed),
        ),
        (
            "payments_processor_stored_total",
            "counter",
            "payments written to every sink",
            counters.stored.load(Ordering::Relaxed),
        ),
        (
            "payments_processor_unchanged_total",
            "counter",
            "payments the first sink already held at the same or a higher revision",
            counters.unchanged.load(Ordering::Relaxed),
        ),
        (
            "payments_processor_dead_lettered_total",
            "counter",
            "records sent to the dead-letter topic",
            counters.dead_lettered.load(Ordering::Relaxed),
        ),
        (
            "payments_processor_batches_total",
            "counter",
            "batches written",
            counters.batches.load(Ordering::Relaxed),
        ),
        (
            "payments_processor_sink_failures_total",
            "counter",
            "sink writes that failed and were retried",
            counters.sink_failures.load(Ordering::Relaxed),
        ),
        (
            "payments_processor_consumer_lag",
            "gauge",
            "records on the topic this processor has not processed yet",
            counters.lag.load(Ordering::Relaxed),
        ),
        (
            "payments_processor_assigned_partitions",
            "gauge",
            "partitions of the topic assigned to this processor",
            counters.assigned_partitions.load(Ordering::Relaxed),
        ),
    ];
    let mut out = String::new();
    for (name, kind, help, value) in series {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
        );
    }
    out
}

/// A router serving `/metrics` from `counters`.
pub fn metrics_routes(counters: Arc<ProcessorCounters>) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let body = render(&counters);
            async move { ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response() }
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_series() {
        let counters = ProcessorCounters::default();
        counters.stored.store(7, Ordering::Relaxed);
        counters.lag.store(3, Ordering::Relaxed);
        let text = render(&counters);
        assert!(
            text.contains("\npayments_processor_stored_total 7\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "# TYPE payments_processor_consumer_lag gauge\npayments_processor_consumer_lag 3\n"
            ),
            "{text}"
        );
    }
}
