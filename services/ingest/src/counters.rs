//! Ingest's series, declared once as handles ([`IngestMetrics`]) for every way into ingest:
//! the gRPC service and in-process callers (`paymentsctl up`, `payments-generator --bus`)
//! go through the same service code, so ingest alone counts what ingest did.

use metrics::Counter;
use payments_core::metric_names as names;
use std::sync::OnceLock;

/// Handles to ingest's series, registered once with the process's recorder.
pub struct IngestMetrics {
    /// `payments_ingest_accepted_total`: payments that passed validation.
    pub accepted: Counter,
    /// `payments_ingest_produced_total`: payments the bus confirmed.
    pub produced: Counter,
}

impl IngestMetrics {
    /// The process's handles (the recorder is installed first, so none is a no-op).
    pub fn get() -> &'static Self {
        static METRICS: OnceLock<IngestMetrics> = OnceLock::new();
        METRICS.get_or_init(|| {
            payments_runtime::metrics::install();
            Self {
                accepted: metrics::counter!(names::INGEST_ACCEPTED),
                produced: metrics::counter!(names::INGEST_PRODUCED),
            }
        })
    }

    /// Counts a rejected payment by the field that is wrong
    /// (`payments_ingest_rejected_total{field}`; one series per field, so looked up here).
    pub fn rejected(&self, field: &str) {
        metrics::counter!(names::INGEST_REJECTED, "field" => field.to_owned()).increment(1);
    }

    /// Counts a rejected payment by the first field its violations name.
    pub fn rejected_for(&self, violations: &[payments_core::FieldViolation]) {
        self.rejected(violations.first().map_or("", |v| v.field.as_str()));
    }
}
