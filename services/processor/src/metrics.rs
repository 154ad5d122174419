//! The processor's counters on `GET /metrics` (served by every service, see
//! `payments_runtime::metrics`): copied into the Prometheus recorder before each scrape.

use crate::ProcessorCounters;
use payments_core::metric_names as names;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Publishes `counters` on `/metrics` from now on.
pub fn publish_metrics(counters: Arc<ProcessorCounters>) {
    for (name, help) in [
        (names::PROCESSOR_CONSUMED, "records read from the bus"),
        (names::PROCESSOR_STORED, "payments written to every sink"),
        (
            names::PROCESSOR_UNCHANGED,
            "payments the first sink already held at the same or a higher revision",
        ),
        (
            names::PROCESSOR_DEAD_LETTERED,
            "records sent to the dead-letter topic",
        ),
        (names::PROCESSOR_BATCHES, "batches written"),
        (
            names::PROCESSOR_SINK_FAILURES,
            "sink writes that failed and were retried",
        ),
    ] {
        metrics::describe_counter!(name, help);
    }
    metrics::describe_counter!(
        names::PROCESSOR_STORED_BY_TYPE,
        "payments stored, by rail (type)"
    );
    metrics::describe_histogram!(
        names::END_TO_END_LATENCY,
        metrics::Unit::Seconds,
        "seconds from the bus accepting a payment to its batch being stored (sampled)"
    );
    metrics::describe_gauge!(
        names::PROCESSOR_CONSUMER_LAG,
        "records on the topic this processor has not processed yet"
    );
    metrics::describe_gauge!(
        names::PROCESSOR_ASSIGNED_PARTITIONS,
        "partitions of the topic assigned to this processor"
    );
    payments_runtime::metrics::on_scrape(move || {
        let c = &counters;
        let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        metrics::counter!(names::PROCESSOR_CONSUMED).absolute(load(&c.consumed));
        metrics::counter!(names::PROCESSOR_STORED).absolute(load(&c.stored));
        metrics::counter!(names::PROCESSOR_UNCHANGED).absolute(load(&c.unchanged));
        metrics::counter!(names::PROCESSOR_DEAD_LETTERED).absolute(load(&c.dead_lettered));
        metrics::counter!(names::PROCESSOR_BATCHES).absolute(load(&c.batches));
        metrics::counter!(names::PROCESSOR_SINK_FAILURES).absolute(load(&c.sink_failures));
        metrics::gauge!(names::PROCESSOR_CONSUMER_LAG).set(load(&c.lag) as f64);
        metrics::gauge!(names::PROCESSOR_ASSIGNED_PARTITIONS)
            .set(load(&c.assigned_partitions) as f64);
    });
}
