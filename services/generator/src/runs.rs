//! Long runs over gRPC (`StartRun`, `GetRun`, `StopRun`, `ListRuns`): each run is a
//! [`TrafficRun`] submitting to an ingest endpoint, with live progress.

use crate::generator::{GeneratorConfig, PaymentGenerator};
use crate::traffic::{Burst, TrafficCounters, TrafficRun};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use payments_core::pb;
use payments_core::service_error::with_causes;
use payments_core::time::to_timestamp;
use payments_ingest::{Ingest, IngestConnection, InvalidTarget, RemoteIngest};
use payments_runtime::Shutdown;
use payments_runtime::status::{field_status, invalid_field, specified_enum_values};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tonic::Status;

/// Highest rate a run accepts, payments per second.
pub const MAX_RUN_RATE: u64 = 1_000_000;
/// Runs that may be under way at once on one generator.
pub const MAX_ACTIVE_RUNS: usize = 16;
/// Finished runs kept for GetRun and ListRuns.
const KEEP_FINISHED: usize = 100;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The bursts a spec asks for; all three burst fields zero means a steady rate.
fn burst_of(spec: &pb::RunSpec) -> Result<Option<Burst>, Status> {
    let (every, length, factor) = (
        spec.burst_every_seconds,
        spec.burst_seconds,
        spec.burst_factor,
    );
    if every == 0 && length == 0 && factor == 0.0 {
        return Ok(None);
    }
    if every == 0 || length == 0 || length > every || !(factor > 1.0 && factor <= 100.0) {
        return Err(invalid_field(
            "spec.burst_factor",
            "bursts need burst_every_seconds > 0, 0 < burst_seconds <= burst_every_seconds and 1 < burst_factor <= 100",
        ));
    }
    Ok(Some(Burst {
        every: Duration::from_secs(u64::from(every)),
        length: Duration::from_secs(u64::from(length)),
        factor,
    }))
}

/// Remembers the last error of the ingest it wraps.
struct RecordingIngest {
    inner: Arc<dyn Ingest>,
    last_error: Arc<Mutex<Option<String>>>,
}

#[async_trait]
impl Ingest for RecordingIngest {
    async fn submit_batch(
        &self,
        payments: &[pb::Payment],
    ) -> Result<pb::SubmitPaymentsResponse, Status> {
        let result = self.inner.submit_batch(payments).await;
        if let Err(status) = &result {
            *lock(&self.last_error) = Some(format!("{:?}: {}", status.code(), status.message()));
        }
        result
    }
}

struct RunEntry {
    id: String,
    spec: pb::RunSpec,
    counters: Arc<TrafficCounters>,
    stop: Shutdown,
    started_at: DateTime<Utc>,
    finished: Mutex<Option<(DateTime<Utc>, pb::RunState)>>,
    last_error: Arc<Mutex<Option<String>>>,
}

impl RunEntry {
    fn snapshot(&self) -> pb::Run {
        let finished = *lock(&self.finished);
        let end = finished.map_or_else(Utc::now, |(at, _)| at);
        let acknowledged = self.counters.accepted.load(Ordering::Relaxed);
        let seconds = (end - self.started_at).num_milliseconds().max(1) as f64 / 1e3;
        pb::Run {
            run_id: self.id.clone(),
            spec: Some(self.spec.clone()),
            state: finished.map_or(pb::RunState::Running, |(_, s)| s) as i32,
            generated: self.counters.generated.load(Ordering::Relaxed),
            acknowledged,
            rejected: self.counters.failed.load(Ordering::Relaxed),
            started_at: Some(to_timestamp(self.started_at)),
            finished_at: finished.map(|(at, _)| to_timestamp(at)),
            actual_rate: acknowledged as f64 / seconds,
            last_error: lock(&self.last_error).clone().unwrap_or_default(),
        }
    }
}

/// The runs of one generator.
pub struct RunRegistry {
    customers: usize,
    local: Option<Arc<dyn Ingest>>,
    remote: IngestConnection,
    shutdown: Shutdown,
    runs: Mutex<Vec<Arc<RunEntry>>>,
}

impl RunRegistry {
    /// A registry whose runs draw from `customers` customers, submit in-process to `local`
    /// when a run names no target (else to the target, reached as `remote` says), and
    /// all stop when `shutdown` is cancelled.
    pub fn new(
        customers: usize,
        local: Option<Arc<dyn Ingest>>,
        remote: IngestConnection,
        shutdown: Shutdown,
    ) -> Self {
        Self {
            customers,
            local,
            remote,
            shutdown,
            runs: Mutex::new(Vec::new()),
        }
    }

    /// Validates `spec` and starts the run.
    pub fn start(&self, mut spec: pb::RunSpec) -> Result<pb::Run, Status> {
        let active = lock(&self.runs)
            .iter()
            .filter(|r| lock(&r.finished).is_none())
            .count();
        if active >= MAX_ACTIVE_RUNS {
            return Err(Status::resource_exhausted(format!(
                "{active} runs are under way, the most one generator takes; stop one first"
            )));
        }
        if spec.rate == 0 || spec.rate > MAX_RUN_RATE {
            return Err(invalid_field(
                "spec.rate",
                format!("must be between 1 and {MAX_RUN_RATE}, got {}", spec.rate),
            ));
        }
        if !(0.0..=crate::scenarios::MAX_RATE).contains(&spec.scenario_rate) {
            return Err(invalid_field(
                "spec.scenario_rate",
                format!(
                    "is the share of payments that are laundering: must be between 0 and {}, got {}",
                    crate::scenarios::MAX_RATE,
                    spec.scenario_rate
                ),
            ));
        }
        let types =
            specified_enum_values::<pb::PaymentType>("spec.types", &spec.types, "payment type")?;
        let burst = burst_of(&spec)?;
        let sink: Arc<dyn Ingest> = match (spec.ingest_target.trim(), &self.local) {
            ("", Some(local)) => local.clone(),
            ("", None) => {
                return Err(invalid_field(
                    "spec.ingest_target",
                    "is required: this generator has no ingest service of its own and no --bus to publish to",
                ));
            }
            (target, _) => Arc::new(RemoteIngest::new(target, &self.remote).map_err(
                |e| match e {
                    InvalidTarget::NotAllowed(refused) => field_status(
                        tonic::Code::PermissionDenied,
                        "spec.ingest_target",
                        refused.to_string(),
                    ),
                    unusable => invalid_field("spec.ingest_target", with_causes(&unusable)),
                },
            )?),
        };
        if spec.seed == 0 {
            spec.seed = Utc::now().timestamp_nanos_opt().unwrap_or(1) as u64;
        }
        let started_at = Utc::now();
        let entry = Arc::new(RunEntry {
            id: format!(
                "run-{:x}",
                started_at.timestamp_nanos_opt().unwrap_or_default()
            ),
            spec: spec.clone(),
            counters: Arc::default(),
            stop: self.shutdown.child_token(),
            started_at,
            finished: Mutex::new(None),
            last_error: Arc::default(),
        });
        let config = GeneratorConfig {
            seed: spec.seed,
            types,
            customers: self.customers,
            scenario_rate: spec.scenario_rate,
            ..Default::default()
        };
        let run = TrafficRun {
            rate: spec.rate,
            count: (spec.count > 0).then_some(spec.count),
            duration: (spec.duration_seconds > 0)
                .then(|| Duration::from_secs(u64::from(spec.duration_seconds))),
            burst,
            generator: PaymentGenerator::new(config),
        };
        let sink = Arc::new(RecordingIngest {
            inner: sink,
            last_error: entry.last_error.clone(),
        });
        let task_entry = entry.clone();
        let work =
            tokio::spawn(run.run(sink, task_entry.counters.clone(), task_entry.stop.clone()));
        // The run's end is recorded however it ends, a panic included, so that GetRun and the
        // drain never wait on a run that is gone.
        tokio::spawn(async move {
            let state = match work.await {
                Ok(()) if task_entry.stop.is_cancelled() => pb::RunState::Stopped,
                Ok(()) => pb::RunState::Completed,
                Err(e) => {
                    *lock(&task_entry.last_error) = Some(format!("run failed: {e}"));
                    pb::RunState::Stopped
                }
            };
            *lock(&task_entry.finished) = Some((Utc::now(), state));
        });
        tracing::info!(run_id = %entry.id, rate = spec.rate, count = spec.count, "run started");
        let mut runs = lock(&self.runs);
        runs.push(entry.clone());
        let finished: Vec<usize> = runs
            .iter()
            .enumerate()
            .filter(|(_, r)| lock(&r.finished).is_some())
            .map(|(i, _)| i)
            .collect();
        if finished.len() > KEEP_FINISHED {
            let drop = finished.len() - KEEP_FINISHED;
            let gone: Vec<usize> = finished.into_iter().take(drop).collect();
            let mut i = 0;
            runs.retain(|_| {
                let keep = !gone.contains(&i);
                i += 1;
                keep
            });
        }
        Ok(entry.snapshot())
    }

    fn find(&self, id: &str) -> Result<Arc<RunEntry>, Status> {
        if id.is_empty() {
            return Err(invalid_field("run_id", "is required"));
        }
        lock(&self.runs)
            .iter()
            .find(|r| r.id == id)
            .cloned()
            .ok_or_else(|| Status::not_found(format!("no run {id:?}")))
    }

    /// The run's progress.
    pub fn get(&self, id: &str) -> Result<pb::Run, Status> {
        Ok(self.find(id)?.snapshot())
    }

    /// Stops the run and waits (up to five seconds) for its batch in flight.
    pub async fn stop(&self, id: &str) -> Result<pb::Run, Status> {
        let entry = self.find(id)?;
        entry.stop.cancel();
        for _ in 0..500 {
            if lock(&entry.finished).is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok(entry.snapshot())
    }

    /// Waits until every run has ended (after the registry's shutdown token is cancelled),
    /// so that no run's batch is still being submitted.
    pub async fn wait_stopped(&self) {
        loop {
            let running = lock(&self.runs).iter().any(|r| lock(&r.finished).is_none());
            if !running {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Every run, newest first.
    pub fn list(&self) -> Vec<pb::Run> {
        lock(&self.runs)
            .iter()
            .rev()
            .map(|r| r.snapshot())
            .collect()
    }
}
