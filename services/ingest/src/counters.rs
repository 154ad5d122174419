//! Ingest's counters, in one place for every way into ingest: the gRPC service and the
//! in-process sink that `paymentsctl up` and `payments-generator --bus` publish through.

use payments_core::metric_names as names;

/// `payments_ingest_accepted_total`: payments that passed validation. A handle, so that a
/// stream looks it up once rather than per record.
pub fn accepted() -> metrics::Counter {
    metrics::counter!(names::INGEST_ACCEPTED)
}

/// Counts `records` payments the bus confirmed (`payments_ingest_produced_total`).
pub fn count_produced(records: u64) {
    metrics::counter!(names::INGEST_PRODUCED).increment(records);
}

/// Counts a rejected payment by the field that is wrong
/// (`payments_ingest_rejected_total{field}`).
pub fn count_rejected(field: &str) {
    metrics::counter!(names::INGEST_REJECTED, "field" => field.to_owned()).increment(1);
}

/// Counts a rejected payment by the first field its violations name.
pub fn count_violations(violations: &[payments_core::FieldViolation]) {
    count_rejected(violations.first().map_or("", |v| v.field.as_str()));
}
