//! [`LocalRecorder`]: every series this process records, kept in memory beside the
//! Prometheus recorder so that the process can read its own numbers directly
//! ([`super::samples`]) instead of rendering text and parsing it back.

use metrics::atomics::AtomicU64;
use metrics::{Counter, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder};
use metrics::{SharedString, Unit};
use metrics_util::registry::{Registry, Storage};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// One sample of a series: its name, labels and value. Histograms give one cumulative
/// `{name}_bucket` sample per bound (label `le`, `+Inf` last), as Prometheus exposes them.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSample {
    /// The series name.
    pub name: String,
    /// Its labels, in the order recorded.
    pub labels: Vec<(String, String)>,
    /// Its value.
    pub value: f64,
}

/// Observations of one histogram, counted per bucket.
struct Buckets {
    bounds: &'static [f64],
    /// Per bound, then one more for everything above the last bound.
    counts: Vec<AtomicU64>,
}

impl HistogramFn for Buckets {
    fn record(&self, value: f64) {
        let index = self
            .bounds
            .iter()
            .position(|bound| value <= *bound)
            .unwrap_or(self.bounds.len());
        if let Some(count) = self.counts.get(index) {
            count.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Makes each series' storage: atomics, and bucket counts with the bounds of its name.
struct LocalStorage {
    buckets_of: fn(&str) -> &'static [f64],
}

impl Storage<Key> for LocalStorage {
    type Counter = Arc<AtomicU64>;
    type Gauge = Arc<AtomicU64>;
    type Histogram = Arc<Buckets>;

    fn counter(&self, _: &Key) -> Self::Counter {
        Arc::new(AtomicU64::new(0))
    }

    fn gauge(&self, _: &Key) -> Self::Gauge {
        Arc::new(AtomicU64::new(0))
    }

    fn histogram(&self, key: &Key) -> Self::Histogram {
        let bounds = (self.buckets_of)(key.name());
        Arc::new(Buckets {
            bounds,
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
        })
    }
}

/// Records every series in memory; see [`LocalRecorder::samples`]. Clones share the series.
/// A handle is looked up in a sharded registry (a read lock and a hash, no allocation), as
/// the Prometheus recorder beside it does, since `counter!` on a hot path looks it up often.
#[derive(Clone)]
pub struct LocalRecorder {
    registry: Arc<Registry<Key, LocalStorage>>,
}

fn labels_of(key: &Key) -> Vec<(String, String)> {
    key.labels()
        .map(|l| (l.key().to_owned(), l.value().to_owned()))
        .collect()
}

impl LocalRecorder {
    /// A recorder whose histogram `name` has the bucket bounds `buckets_of(name)`.
    pub fn new(buckets_of: fn(&str) -> &'static [f64]) -> Self {
        Self {
            registry: Arc::new(Registry::new(LocalStorage { buckets_of })),
        }
    }

    /// Every series recorded so far.
    pub fn samples(&self) -> Vec<MetricSample> {
        let mut out = Vec::new();
        let sample = |name: String, labels, value| MetricSample {
            name,
            labels,
            value,
        };
        self.registry.visit_counters(|key, c| {
            let value = c.load(Ordering::Relaxed) as f64;
            out.push(sample(key.name().to_owned(), labels_of(key), value));
        });
        self.registry.visit_gauges(|key, g| {
            let value = f64::from_bits(g.load(Ordering::Relaxed));
            out.push(sample(key.name().to_owned(), labels_of(key), value));
        });
        self.registry.visit_histograms(|key, h| {
            let mut cumulative = 0u64;
            let bounds = h.bounds.iter().map(ToString::to_string);
            for (bound, count) in bounds.chain(["+Inf".to_owned()]).zip(&h.counts) {
                cumulative += count.load(Ordering::Relaxed);
                let mut labels = labels_of(key);
                labels.push(("le".to_owned(), bound));
                let name = format!("{}_bucket", key.name());
                out.push(sample(name, labels, cumulative as f64));
            }
        });
        out
    }
}

impl Recorder for LocalRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        self.registry
            .get_or_create_counter(key, |c| Counter::from_arc(c.clone()))
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        self.registry
            .get_or_create_gauge(key, |g| Gauge::from_arc(g.clone()))
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        self.registry
            .get_or_create_histogram(key, |h| Histogram::from_arc(h.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_gauges_and_histogram_buckets_read_back() {
        let recorder = LocalRecorder::new(|_| &[0.1, 1.0]);
        let key = Key::from_parts("events_total", vec![metrics::Label::new("kind", "a")]);
        let metadata = Metadata::new("t", metrics::Level::INFO, None);
        recorder.register_counter(&key, &metadata).increment(3);
        recorder
            .register_gauge(&Key::from_name("lag"), &metadata)
            .set(7.5);
        let latency = recorder.register_histogram(&Key::from_name("latency"), &metadata);
        for value in [0.05, 0.5, 0.5, 9.0] {
            latency.record(value);
        }
        let samples = recorder.samples();
        let value = |name: &str, le: Option<&str>| {
            samples
                .iter()
                .find(|s| {
                    s.name == name
                        && le.is_none_or(|le| s.labels.iter().any(|(k, v)| k == "le" && v == le))
                })
                .map(|s| s.value)
        };
        assert_eq!(value("events_total", None), Some(3.0));
        assert_eq!(value("lag", None), Some(7.5));
        assert_eq!(value("latency_bucket", Some("0.1")), Some(1.0));
        assert_eq!(value("latency_bucket", Some("1")), Some(3.0));
        assert_eq!(value("latency_bucket", Some("+Inf")), Some(4.0));
    }
}
