//! The processor's counters on `GET /metrics` (served by every service, see
//! `payments_runtime::metrics`): copied into the Prometheus recorder before each scrape.

use crate::ProcessorCounters;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Publishes `counters` on `/metrics` from now on.
pub fn publish_metrics(counters: Arc<ProcessorCounters>) {
    for (name, help) in [
        (
            "payments_processor_consumed_total",
            "records read from the bus",
        ),
        (
            "payments_processor_stored_total",
            "payments written to every sink",
        ),
        (
            "payments_processor_unchanged_total",
            "payments the first sink already held at the same or a higher revision",
        ),
        (
            "payments_processor_dead_lettered_total",
            "records sent to the dead-letter topic",
        ),
        ("payments_processor_batches_total", "batches written"),
        (
            "payments_processor_sink_failures_total",
            "sink writes that failed and were retried",
        ),
    ] {
        metrics::describe_counter!(name, help);
    }
    metrics::describe_counter!(
        "payments_processor_stored_by_type_total",
        "payments stored, by rail (type)"
    );
    metrics::describe_histogram!(
        "payments_end_to_end_latency_seconds",
        metrics::Unit::Seconds,
        "seconds from the bus accepting a payment to its batch being stored (sampled)"
    );
    metrics::describe_gauge!(
        "payments_processor_consumer_lag",
        "records on the topic this processor has not processed yet"
    );
    metrics::describe_gauge!(
        "payments_processor_assigned_partitions",
        "partitions of the topic assigned to this processor"
    );
    payments_runtime::metrics::on_scrape(move || {
        let c = &counters;
        let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        metrics::counter!("payments_processor_consumed_total").absolute(load(&c.consumed));
        metrics::counter!("payments_processor_stored_total").absolute(load(&c.stored));
        metrics::counter!("payments_processor_unchanged_total").absolute(load(&c.unchanged));
        metrics::counter!("payments_processor_dead_lettered_total")
            .absolute(load(&c.dead_lettered));
        metrics::counter!("payments_processor_batches_total").absolute(load(&c.batches));
        metrics::counter!("payments_processor_sink_failures_total")
            .absolute(load(&c.sink_failures));
        metrics::gauge!("payments_processor_consumer_lag").set(load(&c.lag) as f64);
        metrics::gauge!("payments_processor_assigned_partitions")
            .set(load(&c.assigned_partitions) as f64);
    });
}
