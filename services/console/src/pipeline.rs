//! The live pipeline view: the services' counters sampled every second into a five-minute
//! window, served as per-second rates by stage, consumer lag and end-to-end latency.

use crate::prom_text::{Scrape, quantile};
use payments_core::metric_names as names;
use payments_runtime::Shutdown;
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Seconds between samples.
pub const SAMPLE_INTERVAL: Duration = Duration::from_secs(1);

/// Samples kept: five minutes.
const WINDOW: usize = 300;

/// Samples the latency percentiles span: the last minute.
const LATENCY_SPAN: usize = 60;

/// Where the counters come from.
#[derive(Debug, Clone)]
pub enum MetricsSource {
    /// This process's own recorder (`paymentsctl up` runs every service in one process).
    Local,
    /// The `/metrics` URLs of the services (`http://host:port/metrics`), summed. Every
    /// address a host name resolves to is scraped, so a headless Service's name covers every
    /// pod behind it.
    Scrape(Vec<String>),
}

/// The last text each scraped address gave, so that an address that fails once keeps its
/// counters (no false drop to zero, then a burst) until it answers again.
#[derive(Debug, Default)]
struct LastScrapes(Mutex<BTreeMap<String, String>>);

impl MetricsSource {
    async fn read(&self, last: &LastScrapes) -> Scrape {
        let Self::Scrape(urls) = self else {
            return Scrape::from_samples(payments_runtime::metrics::samples());
        };
        let mut fresh: BTreeMap<String, String> = BTreeMap::new();
        for url in urls {
            match crate::http_get::get_every_address(url, Duration::from_secs(2)).await {
                Ok(answers) => {
                    for (address, outcome) in answers {
                        match outcome {
                            Ok(text) => {
                                fresh.insert(address, text);
                            }
                            Err(error) => {
                                tracing::debug!(%url, %address, %error, "console could not scrape metrics");
                            }
                        }
                    }
                }
                Err(error) => {
                    tracing::debug!(%url, %error, "console could not resolve a metrics url")
                }
            }
        }
        let mut kept = last
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (address, text) in fresh {
            kept.insert(address, text);
        }
        let mut scrape = Scrape::default();
        for text in kept.values() {
            scrape.parse_into(text);
        }
        scrape
    }
}

/// The pipeline's counters at one instant.
#[derive(Debug, Clone)]
struct Sample {
    at_ms: i64,
    stages: [f64; STAGES.len()],
    lag: f64,
    latency: Vec<(f64, f64)>,
    stored_by_type: BTreeMap<String, f64>,
}

/// The stages shown, with the counter each one reads.
const STAGES: [(&str, &str); 6] = [
    ("generated", names::GENERATOR_GENERATED),
    ("accepted", names::INGEST_ACCEPTED),
    ("rejected", names::INGEST_REJECTED),
    ("produced", names::INGEST_PRODUCED),
    ("stored", names::PROCESSOR_STORED),
    ("dead_lettered", names::PROCESSOR_DEAD_LETTERED),
];

impl Sample {
    fn of(scrape: &Scrape) -> Self {
        Self {
            at_ms: chrono::Utc::now().timestamp_millis(),
            stages: STAGES.map(|(_, metric)| scrape.sum(metric)),
            lag: scrape.sum(names::PROCESSOR_CONSUMER_LAG),
            latency: scrape.buckets(names::END_TO_END_LATENCY),
            stored_by_type: scrape.sum_by(names::PROCESSOR_STORED_BY_TYPE, "type"),
        }
    }
}

/// Per-second rates of every stage between two samples, at the later one's time.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RatePoint {
    /// Milliseconds since the Unix epoch.
    pub t: i64,
    /// Payments per second by stage name.
    pub rates: BTreeMap<&'static str, f64>,
    /// Consumer lag (records) at that time.
    pub lag: f64,
}

/// End-to-end latency percentiles over the last minute, in seconds.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LatencyView {
    /// Median.
    pub p50: Option<f64>,
    /// 90th percentile.
    pub p90: Option<f64>,
    /// 99th percentile.
    pub p99: Option<f64>,
}

/// What `/api/pipeline` answers.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PipelineView {
    /// Seconds between points.
    pub interval_seconds: u64,
    /// Rates over the window, oldest first.
    pub points: Vec<RatePoint>,
    /// Counter totals at the latest sample, by stage.
    pub totals: BTreeMap<&'static str, f64>,
    /// Consumer lag now.
    pub lag: f64,
    /// End-to-end latency over the last minute.
    pub latency: LatencyView,
    /// Stored payments by rail, in total.
    pub stored_by_type: BTreeMap<String, f64>,
}

/// Samples a [`MetricsSource`] every second and keeps five minutes.
#[derive(Debug)]
pub struct PipelineSampler {
    samples: Mutex<VecDeque<Sample>>,
}

impl PipelineSampler {
    /// Starts sampling `source` until `shutdown`.
    pub fn start(source: MetricsSource, shutdown: Shutdown) -> Arc<Self> {
        let sampler = Arc::new(Self {
            samples: Mutex::new(VecDeque::with_capacity(WINDOW + 1)),
        });
        let task = sampler.clone();
        tokio::spawn(async move {
            let last = LastScrapes::default();
            let mut tick = tokio::time::interval(SAMPLE_INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    _ = tick.tick() => {}
                }
                let sample = Sample::of(&source.read(&last).await);
                task.push(sample);
            }
        });
        sampler
    }

    fn push(&self, sample: Sample) {
        let mut samples = self.lock();
        samples.push_back(sample);
        while samples.len() > WINDOW {
            samples.pop_front();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Sample>> {
        self.samples
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The window as rates, lag and latency.
    pub fn view(&self) -> PipelineView {
        let samples = self.lock();
        let points = samples
            .iter()
            .zip(samples.iter().skip(1))
            .map(|(a, b)| {
                let seconds = ((b.at_ms - a.at_ms).max(1)) as f64 / 1e3;
                let rates = STAGES
                    .iter()
                    .enumerate()
                    .map(|(i, (stage, _))| {
                        // A counter that went down was reset (a restart): no rate.
                        (*stage, ((b.stages[i] - a.stages[i]) / seconds).max(0.0))
                    })
                    .collect();
                RatePoint {
                    t: b.at_ms,
                    rates,
                    lag: b.lag,
                }
            })
            .collect();
        let latest = samples.back();
        let span_start = samples
            .len()
            .saturating_sub(LATENCY_SPAN + 1)
            .min(samples.len().saturating_sub(1));
        let (before, after) = match (samples.get(span_start), latest) {
            (Some(first), Some(last)) if samples.len() > 1 => {
                (first.latency.as_slice(), last.latency.as_slice())
            }
            (_, Some(last)) => (&[][..], last.latency.as_slice()),
            _ => (&[][..], &[][..]),
        };
        PipelineView {
            interval_seconds: SAMPLE_INTERVAL.as_secs(),
            points,
            totals: latest.map_or_else(BTreeMap::new, |s| {
                STAGES
                    .iter()
                    .enumerate()
                    .map(|(i, (stage, _))| (*stage, s.stages[i]))
                    .collect()
            }),
            lag: latest.map_or(0.0, |s| s.lag),
            latency: LatencyView {
                p50: quantile(0.5, before, after),
                p90: quantile(0.9, before, after),
                p99: quantile(0.99, before, after),
            },
            stored_by_type: latest.map(|s| s.stored_by_type.clone()).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at_ms: i64, stored: f64, latency: Vec<(f64, f64)>) -> Sample {
        let mut stages = [0.0; STAGES.len()];
        stages[4] = stored;
        stages[0] = stored * 2.0;
        Sample {
            at_ms,
            stages,
            lag: 3.0,
            latency,
            stored_by_type: BTreeMap::from([("ACH".to_owned(), stored)]),
        }
    }

    fn sampler() -> PipelineSampler {
        PipelineSampler {
            samples: Mutex::new(VecDeque::new()),
        }
    }

    #[test]
    fn rates_are_differences_over_time_and_resets_are_not_negative() {
        let sampler = sampler();
        sampler.push(sample(0, 100.0, vec![]));
        sampler.push(sample(2_000, 300.0, vec![]));
        sampler.push(sample(3_000, 10.0, vec![]));
        let view = sampler.view();
        assert_eq!(view.points.len(), 2);
        assert_eq!(view.points[0].rates["stored"], 100.0);
        assert_eq!(view.points[0].rates["generated"], 200.0);
        assert_eq!(view.points[1].rates["stored"], 0.0, "a reset is no rate");
        assert_eq!(view.totals["stored"], 10.0);
        assert_eq!(view.lag, 3.0);
        assert_eq!(view.stored_by_type["ACH"], 10.0);
    }

    #[test]
    fn the_window_keeps_five_minutes_and_latency_covers_the_last_minute() {
        let sampler = sampler();
        for i in 0..400 {
            let observed = i as f64;
            sampler.push(sample(
                i * 1_000,
                observed,
                vec![(0.5, observed), (f64::INFINITY, observed)],
            ));
        }
        let view = sampler.view();
        assert_eq!(view.points.len(), WINDOW - 1);
        let p50 = view.latency.p50.unwrap();
        assert!(p50 > 0.0 && p50 <= 0.5, "{p50}");
    }

    /// Serves one `/metrics` answer, then stops listening.
    async fn answer_once(text: &'static str) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/metrics", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = [0u8; 1024];
            let _ = stream.read(&mut request).await;
            let answer = format!("HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\n{text}");
            stream.write_all(answer.as_bytes()).await.unwrap();
        });
        url
    }

    #[tokio::test]
    async fn a_service_that_stops_answering_keeps_its_last_counters() {
        let url = answer_once("payments_processor_stored_total 5\n").await;
        let source = MetricsSource::Scrape(vec![url]);
        let last = LastScrapes::default();
        let first = source.read(&last).await;
        assert_eq!(first.sum("payments_processor_stored_total"), 5.0);
        // The listener is gone: the address is refused, its counters stay.
        let second = source.read(&last).await;
        assert_eq!(second.sum("payments_processor_stored_total"), 5.0);
        let unresolvable =
            MetricsSource::Scrape(vec!["http://no-such-host.invalid:1/metrics".into()]);
        assert_eq!(
            unresolvable.read(&LastScrapes::default()).await.sum("x"),
            0.0
        );
    }

    #[test]
    fn an_empty_window_is_all_zero() {
        let view = sampler().view();
        assert!(view.points.is_empty());
        assert_eq!(view.latency.p99, None);
        assert_eq!(view.lag, 0.0);
    }
}
