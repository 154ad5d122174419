//! The generator's series, declared once as handles ([`GeneratorMetrics`]).

use metrics::{Counter, Gauge};
use payments_core::metric_names as names;
use std::sync::OnceLock;

/// Handles to the generator's series, registered once with the process's recorder.
pub struct GeneratorMetrics {
    /// `payments_generator_generated_total`: payments traffic runs generated.
    pub generated: Counter,
    /// `payments_generator_accepted_total`: payments ingest accepted from them.
    pub accepted: Counter,
    /// `payments_generator_target_rate`: the base rate of the latest batch's run.
    pub target_rate: Gauge,
    /// `payments_generator_actual_rate`: payments per second that run reached so far.
    pub actual_rate: Gauge,
}

impl GeneratorMetrics {
    /// The process's handles (the recorder is installed first, so none is a no-op).
    pub fn get() -> &'static Self {
        static METRICS: OnceLock<GeneratorMetrics> = OnceLock::new();
        METRICS.get_or_init(|| {
            payments_runtime::metrics::install();
            Self {
                generated: metrics::counter!(names::GENERATOR_GENERATED),
                accepted: metrics::counter!(names::GENERATOR_ACCEPTED),
                target_rate: metrics::gauge!(names::GENERATOR_TARGET_RATE),
                actual_rate: metrics::gauge!(names::GENERATOR_ACTUAL_RATE),
            }
        })
    }
}
