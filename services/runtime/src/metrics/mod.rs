//! Prometheus metrics: one recorder per process behind the `metrics` facade, served as text
//! at `GET /metrics` on every service's HTTP port, and kept in memory too ([`samples`]) for
//! the console of the same process. Latencies and sizes are histograms with fixed buckets; a
//! service whose numbers live elsewhere registers a scrape hook that copies them into the
//! recorder just before each scrape. The pipeline's series are named once, in
//! [`payments_core::metric_names`].

mod local;

use local::LocalRecorder;
pub use local::MetricSample;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use metrics_util::layers::FanoutBuilder;
use std::sync::{Mutex, OnceLock};

/// Buckets for latencies, in seconds (0.5 ms to 10 s).
const SECONDS_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Buckets for batch sizes, in records.
const SIZE_BUCKETS: &[f64] = &[
    1.0, 10.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0,
];

type ScrapeHook = Box<dyn Fn() + Send + Sync>;

fn hooks() -> &'static Mutex<Vec<ScrapeHook>> {
    static HOOKS: OnceLock<Mutex<Vec<ScrapeHook>>> = OnceLock::new();
    HOOKS.get_or_init(|| Mutex::new(Vec::new()))
}

/// The bucket bounds of histogram `name`: sizes for `*_size`, seconds otherwise.
fn buckets_of(name: &str) -> &'static [f64] {
    if name.ends_with("_size") {
        SIZE_BUCKETS
    } else {
        SECONDS_BUCKETS
    }
}

/// The process's recorders, installed on first use (also when another recorder was
/// installed first: then these record nothing and scrapes are empty).
struct Recorders {
    prometheus: PrometheusHandle,
    local: LocalRecorder,
}

fn recorders() -> &'static Recorders {
    static RECORDERS: OnceLock<Recorders> = OnceLock::new();
    RECORDERS.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets(SECONDS_BUCKETS)
            .and_then(|b| {
                b.set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Suffix("_size".into()),
                    SIZE_BUCKETS,
                )
            });
        let recorder = match builder {
            Ok(builder) => builder.build_recorder(),
            Err(e) => {
                tracing::warn!(error = %e, "metric buckets refused; using the defaults");
                PrometheusBuilder::new().build_recorder()
            }
        };
        let prometheus = recorder.handle();
        let local = LocalRecorder::new(buckets_of);
        let both = FanoutBuilder::default()
            .add_recorder(recorder)
            .add_recorder(local.clone())
            .build();
        if metrics::set_global_recorder(both).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics will be empty");
        }
        Recorders { prometheus, local }
    })
}

fn run_hooks() {
    match hooks().lock() {
        Ok(hooks) => hooks.iter().for_each(|hook| hook()),
        Err(poisoned) => poisoned.into_inner().iter().for_each(|hook| hook()),
    }
}

/// Installs the recorder now, so that metrics recorded before the first scrape count.
pub fn install() {
    let _ = recorders();
}

/// Runs `hook` before every scrape (e.g. to copy counters kept elsewhere into gauges).
pub fn on_scrape(hook: impl Fn() + Send + Sync + 'static) {
    install();
    match hooks().lock() {
        Ok(mut hooks) => hooks.push(Box::new(hook)),
        Err(poisoned) => poisoned.into_inner().push(Box::new(hook)),
    }
}

/// Every series in the Prometheus text format.
pub fn render() -> String {
    let handle = &recorders().prometheus;
    run_hooks();
    handle.run_upkeep();
    handle.render()
}

/// Every series this process recorded, read directly (no text in between).
pub fn samples() -> Vec<MetricSample> {
    let local = &recorders().local;
    run_hooks();
    local.samples()
}

#[cfg(test)]
mod tests {
    #[test]
    fn counters_histograms_and_hooks_reach_the_text() {
        super::on_scrape(|| metrics::gauge!("test_hooked_value").set(7.0));
        metrics::counter!("test_events_total", "kind" => "a").increment(3);
        metrics::histogram!("test_latency_seconds").record(0.003);
        metrics::histogram!("test_batch_size").record(120.0);
        let text = super::render();
        assert!(text.contains("test_events_total{kind=\"a\"} 3"), "{text}");
        assert!(text.contains("test_hooked_value 7"), "{text}");
        assert!(
            text.contains("test_latency_seconds_bucket{le=\"0.005\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("test_batch_size_bucket{le=\"250\"} 1"),
            "{text}"
        );
        let samples = super::samples();
        let hooked = samples.iter().find(|s| s.name == "test_hooked_value");
        assert_eq!(hooked.map(|s| s.value), Some(7.0));
    }
}
