//! Steady traffic: generate payments at a target rate and hand them to a sink (ingest),
//! slowing down when the sink is slower, never dropping.

use crate::generator::PaymentGenerator;
use async_trait::async_trait;
use payments_core::pb;
use payments_runtime::Shutdown;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// Where a traffic run sends its payments.
#[async_trait]
pub trait PaymentSink: Send + Sync {
    /// Submits a batch; returns how many were accepted, or why the whole batch failed.
    async fn submit(&self, payments: Vec<pb::Payment>) -> Result<u64, String>;
}

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
    /// The generator.
    pub generator: PaymentGenerator,
}

const TICK: Duration = Duration::from_millis(10);

impl TrafficRun {
    /// Runs until `count` payments were sent, `duration` passed or `shutdown`; every
    /// payment generated is submitted (a batch in flight at shutdown completes first).
    pub async fn run(
        self,
        sink: Arc<dyn PaymentSink>,
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
            let due = (started.elapsed().as_secs_f64() * self.rate as f64) as u64;
            let limit = self.count.unwrap_or(u64::MAX);
            // At most a tenth of a second's worth per batch: after a stall (back-pressure)
            // the run catches up gradually instead of flooding the sink in one batch.
            let max_batch = (self.rate / 10).max(1);
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
            match sink.submit(batch).await {
                Ok(accepted) => {
                    counters.accepted.fetch_add(accepted, Ordering::Relaxed);
                    counters
                        .failed
                        .fetch_add(n - accepted.min(n), Ordering::Relaxed);
                }
                Err(reason) => {
                    counters.failed.fetch_add(n, Ordering::Relaxed);
                    tracing::warn!(batch = n, %reason, "traffic batch failed");
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
