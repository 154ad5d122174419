//! The names of the pipeline's series, declared once: the services record them, the console
//! reads them, and the Grafana dashboards (`deploy/grafana`) chart them.

/// Payments a generator produced (traffic runs).
pub const GENERATOR_GENERATED: &str = "payments_generator_generated_total";
/// Payments a generator's ingest accepted.
pub const GENERATOR_ACCEPTED: &str = "payments_generator_accepted_total";
/// The base rate of a generator's runs, payments per second.
pub const GENERATOR_TARGET_RATE: &str = "payments_generator_target_rate";
/// The rate a generator's run actually reached, payments per second.
pub const GENERATOR_ACTUAL_RATE: &str = "payments_generator_actual_rate";
/// Payments that passed ingest's validation.
pub const INGEST_ACCEPTED: &str = "payments_ingest_accepted_total";
/// Payments ingest refused, by the first field at fault (label `field`).
pub const INGEST_REJECTED: &str = "payments_ingest_rejected_total";
/// Payments the bus confirmed to ingest.
pub const INGEST_PRODUCED: &str = "payments_ingest_produced_total";
/// Records the processor read from the bus.
pub const PROCESSOR_CONSUMED: &str = "payments_processor_consumed_total";
/// Payments written to every sink.
pub const PROCESSOR_STORED: &str = "payments_processor_stored_total";
/// Payments stored, by rail (label `type`).
pub const PROCESSOR_STORED_BY_TYPE: &str = "payments_processor_stored_by_type_total";
/// Payments a sink already held at the same or a higher revision.
pub const PROCESSOR_UNCHANGED: &str = "payments_processor_unchanged_total";
/// Records sent to the dead-letter topic.
pub const PROCESSOR_DEAD_LETTERED: &str = "payments_processor_dead_lettered_total";
/// Batches written.
pub const PROCESSOR_BATCHES: &str = "payments_processor_batches_total";
/// Sink writes that failed and were retried.
pub const PROCESSOR_SINK_FAILURES: &str = "payments_processor_sink_failures_total";
/// Records on the topic the processor has not processed yet: its furthest-behind sink's lag.
pub const PROCESSOR_CONSUMER_LAG: &str = "payments_processor_consumer_lag";
/// Partitions of the topic assigned to the processor.
pub const PROCESSOR_ASSIGNED_PARTITIONS: &str = "payments_processor_assigned_partitions";
/// Payments one sink took (label `sink`: the sink's name).
pub const PROCESSOR_SINK_STORED: &str = "payments_processor_sink_stored_total";
/// Records one sink's pipeline sent to the dead-letter topic (label `sink`).
pub const PROCESSOR_SINK_DEAD_LETTERED: &str = "payments_processor_sink_dead_lettered_total";
/// Failed write attempts of one sink (label `sink`).
pub const PROCESSOR_SINK_WRITE_FAILURES: &str = "payments_processor_sink_write_failures_total";
/// Records on the topic one sink's consumer group has not processed (label `sink`).
pub const PROCESSOR_SINK_LAG: &str = "payments_processor_sink_lag";
/// 1 while one sink takes writes, 0 while its writes fail as the sink being away (label `sink`).
pub const PROCESSOR_SINK_READY: &str = "payments_processor_sink_ready";
/// Records per batch written.
pub const PROCESSOR_BATCH_SIZE: &str = "payments_processor_batch_size";
/// Seconds from the bus accepting a payment to its batch being stored (sampled).
pub const END_TO_END_LATENCY: &str = "payments_end_to_end_latency_seconds";
/// Rows a sink wrote, by backend (label `system`).
pub const STORE_WRITTEN: &str = "payments_store_written_total";
/// Stored rows a read passed over because they hold no readable payment, by backend (label
/// `system`).
pub const STORE_UNREADABLE_ROWS: &str = "payments_store_unreadable_rows_total";
/// gRPC calls refused because too many were in flight.
pub const GRPC_SHED: &str = "grpc_server_shed_total";
