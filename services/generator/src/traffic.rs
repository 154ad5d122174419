//! Steady traffic: generate payments at a target rate and hand them to a sink (ingest),
//! slowing down when the sink is slower, never dropping.

use crate::generator::PaymentGenerator;
use crate::series::GeneratorMetrics;
use payments_core::pb;
use payments_ingest::Ingest;
use payments_runtime::Shutdown;
use payments_runtime::retry::Backoff;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// Live counters of a traffic run.
#[derive(Debug, Default)]
pub struct TrafficCounters {
    /// Payments generated.
    pub generated: AtomicU64,
    /// Payments the sink accepted.
    pub accepted: AtomicU64,
    /// Payments the sink rejected or failed.
    pub failed: AtomicU64,
}

/// A rate-controlled run.
pub struct TrafficRun {
    /// Payments per second.
    pub rate: u64,
    /// Stop after this many payments (`None`: no limit).
    pub count: Option<u64>,
    /// Stop after this long (`None`: no limit).
    pub duration: Option<Duration>,
    /// Periodic bursts above the base rate (`None`: steady).
    pub burst: Option<Burst>,
    /// The generator.
    pub generator: PaymentGenerator,
}

/// Periodic bursts: every `every`, for `length`, the rate is `factor` times the base rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Burst {
    /// Time from the start of one burst to the next.
    pub every: Duration,
    /// How long a burst lasts (at most `every`).
    pub length: Duration,
    /// Rate multiplier during a burst.
    pub factor: f64,
}

const TICK: Duration = Duration::from_millis(10);
/// Most payments generated and submitted at once.
const MAX_BATCH: u64 = 10_000;

impl TrafficRun {
    /// Payments due `elapsed` into the run: the base rate's integral plus the bursts' extra.
    pub fn due(&self, elapsed: Duration) -> u64 {
        let t = elapsed.as_secs_f64();
        let rate = self.rate as f64;
        let extra = self.burst.map_or(0.0, |b| {
            let (every, length) = (
                b.every.as_secs_f64().max(1e-3),
                b.length.as_secs_f64().min(b.every.as_secs_f64()),
            );
            let cycles = (t / every).floor();
            let in_bursts = cycles * length + (t - cycles * every).min(length);
            (b.factor - 1.0).max(0.0) * rate * in_bursts
        });
        (rate * t + extra) as u64
    }

    /// Runs until `count` payments were sent, `duration` passed or `shutdown`; every
    /// payment generated is submitted (a batch in flight at shutdown completes first).
    pub async fn run(
        self,
        sink: Arc<dyn Ingest>,
        counters: Arc<TrafficCounters>,
        shutdown: Shutdown,
    ) {
        let started = Instant::now();
        let mut sent: u64 = 0;
        let mut ticker = tokio::time::interval(TICK);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tracing::info!(rate = self.rate, "traffic run started");
        loop {
            if self.duration.is_some_and(|d| started.elapsed() >= d) {
                break;
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = ticker.tick() => {}
            }
            let due = self.due(started.elapsed());
            let limit = self.count.unwrap_or(u64::MAX);
            // At most a tenth of a second's worth per batch: after a stall (back-pressure)
            // the run catches up gradually instead of flooding the sink in one batch.
            let peak = self.burst.map_or(1.0, |b| b.factor.max(1.0));
            let max_batch = ((self.rate as f64 * peak / 10.0) as u64).clamp(1, MAX_BATCH);
            let target = due.min(limit).min(sent + max_batch);
            if target <= sent {
                if sent >= limit {
                    break;
                }
                continue;
            }
            let now = chrono::Utc::now();
            let batch: Vec<pb::Payment> = (sent..target)
                .map(|i| self.generator.payment_at(i, now))
                .collect();
            let n = batch.len() as u64;
            counters.generated.fetch_add(n, Ordering::Relaxed);
            let series = GeneratorMetrics::get();
            series.generated.increment(n);
            // Target: the run's base rate; actual: payments generated per second so far.
            series.target_rate.set(self.rate as f64);
            series
                .actual_rate
                .set(target as f64 / started.elapsed().as_secs_f64().max(1e-3));
            // A batch that could not be submitted (ingest down, unavailable) is retried with
            // backoff until it goes through or the run is stopped: nothing is dropped.
            let mut backoff = Backoff::default();
            loop {
                match sink.submit_batch(&batch).await {
                    Ok(summary) => {
                        let accepted = summary.accepted;
                        counters.accepted.fetch_add(accepted, Ordering::Relaxed);
                        series.accepted.increment(accepted);
                        counters
                            .failed
                            .fetch_add(n - accepted.min(n), Ordering::Relaxed);
                        break;
                    }
                    Err(status) => {
                        let (reason, delay) = (status.message(), backoff.next_delay());
                        tracing::warn!(batch = n, code = ?status.code(), reason, retry_in_ms = delay.as_millis() as u64, "traffic batch not submitted; retrying");
                        if !Backoff::wait(delay, &shutdown).await {
                            counters.failed.fetch_add(n, Ordering::Relaxed);
                            tracing::warn!(
                                batch = n,
                                "run stopped with a batch it could not submit"
                            );
                            return;
                        }
                    }
                }
            }
            sent = target;
        }
        tracing::info!(
            generated = counters.generated.load(Ordering::Relaxed),
            accepted = counters.accepted.load(Ordering::Relaxed),
            "traffic run stopped"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GeneratorConfig;

    fn run(burst: Option<Burst>) -> TrafficRun {
        TrafficRun {
            rate: 100,
            count: None,
            duration: None,
            burst,
            generator: PaymentGenerator::new(GeneratorConfig::default()),
        }
    }

    #[test]
    fn steady_rate_is_exact_over_time() {
        assert_eq!(run(None).due(Duration::from_secs(10)), 1_000);
        assert_eq!(run(None).due(Duration::from_millis(2_500)), 250);
    }

    #[test]
    fn bursts_add_their_extra_only_while_bursting() {
        // Every 10 s, 2 s at 5x: 10 s carry 100*10 + 4*100*2 = 1,800.
        let burst = Some(Burst {
            every: Duration::from_secs(10),
            length: Duration::from_secs(2),
            factor: 5.0,
        });
        assert_eq!(run(burst).due(Duration::from_secs(1)), 100 + 400);
        assert_eq!(run(burst).due(Duration::from_secs(10)), 1_800);
        assert_eq!(run(burst).due(Duration::from_secs(15)), 2_300 + 800);
    }
}
