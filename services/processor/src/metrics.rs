//! The processor's counters on `GET /metrics` (served by every service, see
//! `payments_runtime::metrics`): copied into the Prometheus recorder before each scrape.
//! Totals over the sinks keep their names of one processor and one sink; each sink's own
//! series carry its name in label `sink`.

use crate::ProcessorCounters;
use crate::counters::SinkCounters;
use payments_core::metric_names as names;
use std::sync::Arc;

/// Publishes `counters` on `/metrics` from now on.
pub fn publish_metrics(counters: Arc<ProcessorCounters>) {
    describe();
    payments_runtime::metrics::on_scrape(move || {
        let c = &counters;
        metrics::counter!(names::PROCESSOR_CONSUMED).absolute(c.consumed());
        metrics::counter!(names::PROCESSOR_STORED).absolute(c.stored());
        metrics::counter!(names::PROCESSOR_UNCHANGED).absolute(c.unchanged());
        metrics::counter!(names::PROCESSOR_DEAD_LETTERED).absolute(c.dead_lettered());
        metrics::counter!(names::PROCESSOR_BATCHES).absolute(c.batches());
        metrics::counter!(names::PROCESSOR_SINK_FAILURES).absolute(c.sink_failures());
        metrics::gauge!(names::PROCESSOR_CONSUMER_LAG).set(c.lag() as f64);
        metrics::gauge!(names::PROCESSOR_ASSIGNED_PARTITIONS).set(c.assigned_partitions() as f64);
        for (sink, s) in &c.sinks {
            let get = SinkCounters::get;
            let label = [("sink", sink.clone())];
            metrics::counter!(names::PROCESSOR_SINK_STORED, &label).absolute(get(&s.stored));
            metrics::counter!(names::PROCESSOR_SINK_DEAD_LETTERED, &label)
                .absolute(get(&s.dead_lettered));
            metrics::counter!(names::PROCESSOR_SINK_WRITE_FAILURES, &label)
                .absolute(get(&s.sink_failures));
            metrics::gauge!(names::PROCESSOR_SINK_LAG, &label).set(get(&s.lag) as f64);
            metrics::gauge!(names::PROCESSOR_SINK_READY, &label).set(get(&s.ready) as f64);
        }
    });
}

fn describe() {
    for (name, help) in [
        (
            names::PROCESSOR_CONSUMED,
            "records read from the bus (by the sink that has read the most)",
        ),
        (
            names::PROCESSOR_STORED,
            "payments written to every sink (the slowest sink's count)",
        ),
        (
            names::PROCESSOR_UNCHANGED,
            "payments the first sink already held at the same or a higher revision",
        ),
        (
            names::PROCESSOR_DEAD_LETTERED,
            "records sent to the dead-letter topic",
        ),
        (names::PROCESSOR_BATCHES, "batches written, over every sink"),
        (
            names::PROCESSOR_SINK_FAILURES,
            "sink writes that failed and were retried, over every sink",
        ),
        (names::PROCESSOR_SINK_STORED, "payments this sink took"),
        (
            names::PROCESSOR_SINK_DEAD_LETTERED,
            "records this sink's pipeline sent to the dead-letter topic",
        ),
        (
            names::PROCESSOR_SINK_WRITE_FAILURES,
            "failed write attempts of this sink",
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
    for (name, help) in [
        (
            names::PROCESSOR_CONSUMER_LAG,
            "records on the topic the furthest-behind sink has not processed yet",
        ),
        (
            names::PROCESSOR_ASSIGNED_PARTITIONS,
            "partitions of the topic assigned to this processor",
        ),
        (
            names::PROCESSOR_SINK_LAG,
            "records on the topic this sink's consumer group has not processed yet",
        ),
        (
            names::PROCESSOR_SINK_READY,
            "1 while this sink takes writes, 0 while its writes fail as it being away",
        ),
    ] {
        metrics::describe_gauge!(name, help);
    }
}
