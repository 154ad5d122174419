//! [`LocalRecorder`]: every series this process records, kept in memory beside the
//! Prometheus recorder so that the process can read its own numbers directly
//! ([`super::samples`]) instead of rendering text and parsing it back.

use metrics::atomics::AtomicU64;
use metrics::{Counter, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder};
use metrics::{SharedString, Unit};
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

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

enum Series {
    Counter(Arc<AtomicU64>),
    Gauge(Arc<AtomicU64>),
    Histogram(Arc<Buckets>),
}

type SeriesKey = (String, Vec<(String, String)>);

/// Records every series in memory; see [`LocalRecorder::samples`].
pub struct LocalRecorder {
    series: Mutex<BTreeMap<SeriesKey, Series>>,
    buckets_of: fn(&str) -> &'static [f64],
}

impl LocalRecorder {
    /// A recorder whose histogram `name` has the bucket bounds `buckets_of(name)`.
    pub fn new(buckets_of: fn(&str) -> &'static [f64]) -> Self {
        Self {
            series: Mutex::new(BTreeMap::new()),
            buckets_of,
        }
    }

    fn entry(&self, key: &Key, make: impl FnOnce() -> Series) -> Series {
        let labels = key
            .labels()
            .map(|l| (l.key().to_owned(), l.value().to_owned()))
            .collect();
        let mut series = self.series.lock().unwrap_or_else(|p| p.into_inner());
        let found = series
            .entry((key.name().to_owned(), labels))
            .or_insert_with(make);
        match found {
            Series::Counter(c) => Series::Counter(c.clone()),
            Series::Gauge(g) => Series::Gauge(g.clone()),
            Series::Histogram(h) => Series::Histogram(h.clone()),
        }
    }

    /// Every series recorded so far.
    pub fn samples(&self) -> Vec<MetricSample> {
        let series = self.series.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = Vec::with_capacity(series.len());
        for ((name, labels), value) in series.iter() {
            let sample = |name: String, labels: Vec<(String, String)>, value| MetricSample {
                name,
                labels,
                value,
            };
            match value {
                Series::Counter(c) => {
                    out.push(sample(
                        name.clone(),
                        labels.clone(),
                        c.load(Ordering::Relaxed) as f64,
                    ));
                }
                Series::Gauge(g) => out.push(sample(
                    name.clone(),
                    labels.clone(),
                    f64::from_bits(g.load(Ordering::Relaxed)),
                )),
                Series::Histogram(h) => {
                    let mut cumulative = 0u64;
                    let bounds = h.bounds.iter().map(ToString::to_string);
                    for (bound, count) in bounds.chain(["+Inf".to_owned()]).zip(&h.counts) {
                        cumulative += count.load(Ordering::Relaxed);
                        let mut labels = labels.clone();
                        labels.push(("le".to_owned(), bound));
                        out.push(sample(format!("{name}_bucket"), labels, cumulative as f64));
                    }
                }
            }
        }
        out
    }
}

impl Recorder for LocalRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        match self.entry(key, || Series::Counter(Arc::new(AtomicU64::new(0)))) {
            Series::Counter(c) => Counter::from_arc(c),
            _ => Counter::noop(),
        }
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        match self.entry(key, || Series::Gauge(Arc::new(AtomicU64::new(0)))) {
            Series::Gauge(g) => Gauge::from_arc(g),
            _ => Gauge::noop(),
        }
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        let bounds = (self.buckets_of)(key.name());
        let make = || {
            Series::Histogram(Arc::new(Buckets {
                bounds,
                counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            }))
        };
        match self.entry(key, make) {
            Series::Histogram(h) => Histogram::from_arc(h),
            _ => Histogram::noop(),
        }
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
