//! Reconciling one PaymentTraffic: Pending, then a run of this generator (Running), then
//! Completed, Stopped or Failed; deleting the object stops its run.

use super::ledger::RunLedger;
use super::resource::{PaymentTraffic, PaymentTrafficStatus, Phase};
use crate::runs::RunRegistry;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::finalizer::{self, Event, finalizer};
use kube::{Resource, ResourceExt};
use payments_core::pb;
use payments_core::time::format_rfc3339_seconds;
use payments_runtime::Shutdown;
use std::sync::Arc;
use std::time::Duration;

/// The finalizer that keeps a PaymentTraffic until its run is stopped.
pub const FINALIZER: &str = "payments.dev/stop-run";

/// How often a running PaymentTraffic's status is refreshed.
pub const PROGRESS_INTERVAL: Duration = Duration::from_secs(2);

/// How long a PaymentTraffic waits when the generator has no room for another run.
const BUSY_RETRY: Duration = Duration::from_secs(10);

/// What the reconciler works with.
pub struct TrafficContext {
    /// The Kubernetes API.
    pub client: kube::Client,
    /// This generator's runs.
    pub runs: Arc<RunRegistry>,
    /// Where runs whose spec names no target submit (`host:port` of an IngestService).
    pub default_target: Option<String>,
    /// The generator's shutdown: runs it stops are not reported as Stopped.
    pub shutdown: Shutdown,
    ledger: RunLedger,
}

impl TrafficContext {
    /// A context over `client` and this generator's `runs`.
    pub fn new(
        client: kube::Client,
        runs: Arc<RunRegistry>,
        default_target: Option<String>,
        shutdown: Shutdown,
    ) -> Self {
        Self {
            client,
            runs,
            default_target,
            shutdown,
            ledger: RunLedger::default(),
        }
    }
}

/// Why one reconciliation step failed (retried with back-off).
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The Kubernetes API refused or failed a call.
    #[error("kubernetes api: {0}")]
    Kube(#[from] kube::Error),
    /// The object has no namespace (the resource is namespaced, so this is a bad object).
    #[error("the PaymentTraffic {0:?} has no namespace")]
    NoNamespace(String),
    /// The status could not be encoded as JSON.
    #[error("encoding the status: {0}")]
    Encode(serde_json::Error),
}

/// Why a reconciliation failed: the step, or adding or removing the finalizer.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ReconcileError(#[from] Box<finalizer::Error<StepError>>);

/// Brings `traffic` one step towards its run's state (the controller calls this on every
/// change and when the returned action says).
pub async fn reconcile(
    traffic: Arc<PaymentTraffic>,
    context: Arc<TrafficContext>,
) -> Result<Action, ReconcileError> {
    let name = traffic.name_any();
    let namespace = traffic
        .namespace()
        .ok_or_else(|| Box::new(finalizer::Error::ApplyFailed(StepError::NoNamespace(name))))?;
    let api: Api<PaymentTraffic> = Api::namespaced(context.client.clone(), &namespace);
    finalizer(&api, FINALIZER, traffic, |event| async {
        match event {
            Event::Apply(traffic) => apply(&api, &traffic, &context).await,
            Event::Cleanup(traffic) => cleanup(&traffic, &context).await,
        }
    })
    .await
    .map_err(|e| ReconcileError(Box::new(e)))
}

/// Retries a failed reconciliation after a pause (the controller's error policy).
pub fn retry_after_error(
    traffic: Arc<PaymentTraffic>,
    error: &ReconcileError,
    _context: Arc<TrafficContext>,
) -> Action {
    tracing::warn!(
        traffic = %traffic.name_any(),
        error = %error,
        "payment traffic reconcile failed; retrying"
    );
    Action::requeue(Duration::from_secs(5))
}

async fn apply(
    api: &Api<PaymentTraffic>,
    traffic: &PaymentTraffic,
    context: &TrafficContext,
) -> Result<Action, StepError> {
    let status = traffic.status.clone().unwrap_or_default();
    let generation = traffic.meta().generation;
    if status.phase.is_some() && status.observed_generation != generation {
        return restart_for_new_spec(api, traffic, &status, context).await;
    }
    match status.phase {
        None => {
            let pending = PaymentTrafficStatus {
                phase: Some(Phase::Pending),
                observed_generation: generation,
                ..Default::default()
            };
            write_status(api, traffic, &pending).await?;
            Ok(Action::requeue(Duration::ZERO))
        }
        Some(Phase::Pending) => start(api, traffic, context).await,
        Some(Phase::Running) => progress(api, traffic, &status, context).await,
        Some(_) => Ok(Action::await_change()),
    }
}

/// The spec changed since the status was written: the run of the old spec stops and the
/// object starts over from Pending (a Failed object whose spec was fixed runs).
async fn restart_for_new_spec(
    api: &Api<PaymentTraffic>,
    traffic: &PaymentTraffic,
    status: &PaymentTrafficStatus,
    context: &TrafficContext,
) -> Result<Action, StepError> {
    let uid = traffic.uid().unwrap_or_default();
    let old_run = context
        .ledger
        .forget(&uid)
        .or_else(|| status.run_id.clone());
    if let Some(run_id) = old_run
        && status.phase == Some(Phase::Running)
    {
        // A run this generator does not know is already gone.
        let _ = context.runs.stop(&run_id).await;
    }
    let generation = traffic.meta().generation;
    tracing::info!(traffic = %traffic.name_any(), generation, "payment traffic spec changed; starting over");
    let pending = PaymentTrafficStatus {
        phase: Some(Phase::Pending),
        message: Some(format!(
            "the spec changed (generation {}); starting over",
            generation.unwrap_or_default()
        )),
        observed_generation: generation,
        ..Default::default()
    };
    write_status(api, traffic, &pending).await?;
    Ok(Action::requeue(Duration::ZERO))
}

async fn start(
    api: &Api<PaymentTraffic>,
    traffic: &PaymentTraffic,
    context: &TrafficContext,
) -> Result<Action, StepError> {
    let generation = traffic.meta().generation;
    let uid = traffic.uid().unwrap_or_default();
    // A view of the object older than our own last write still says Pending: the run it
    // asks for was started already.
    if let Some(run) = context
        .ledger
        .run_of(&uid)
        .and_then(|id| context.runs.get(&id).ok())
    {
        let mut status = status_of(&run);
        status.observed_generation = generation;
        write_status(api, traffic, &status).await?;
        context.ledger.wrote(&uid);
        return Ok(Action::requeue(PROGRESS_INTERVAL));
    }
    let spec = match traffic.spec.to_run_spec(context.default_target.as_deref()) {
        Ok(spec) => spec,
        Err(error) => return fail(api, traffic, error.to_string()).await,
    };
    match context.runs.start(spec) {
        Ok(run) => {
            tracing::info!(traffic = %traffic.name_any(), run_id = %run.run_id, "payment traffic run started");
            context.ledger.started(&uid, &run.run_id);
            let mut status = status_of(&run);
            status.observed_generation = generation;
            write_status(api, traffic, &status).await?;
            context.ledger.wrote(&uid);
            Ok(Action::requeue(PROGRESS_INTERVAL))
        }
        Err(refused) if refused.code() == tonic::Code::ResourceExhausted => {
            let waiting = PaymentTrafficStatus {
                phase: Some(Phase::Pending),
                message: Some(refused.message().to_owned()),
                observed_generation: generation,
                ..Default::default()
            };
            write_status(api, traffic, &waiting).await?;
            Ok(Action::requeue(BUSY_RETRY))
        }
        Err(refused) => fail(api, traffic, refused.message().to_owned()).await,
    }
}

async fn progress(
    api: &Api<PaymentTraffic>,
    traffic: &PaymentTraffic,
    status: &PaymentTrafficStatus,
    context: &TrafficContext,
) -> Result<Action, StepError> {
    let uid = traffic.uid().unwrap_or_default();
    let run = context
        .ledger
        .run_of(&uid)
        .or_else(|| status.run_id.clone())
        .and_then(|id| context.runs.get(&id).ok());
    let Some(run) = run else {
        // This generator does not know the run: it restarted. Start it again.
        let again = PaymentTrafficStatus {
            phase: Some(Phase::Pending),
            message: Some(format!(
                "run {} was lost when the generator restarted; starting it again",
                status.run_id.as_deref().unwrap_or("(none)")
            )),
            observed_generation: traffic.meta().generation,
            ..Default::default()
        };
        write_status(api, traffic, &again).await?;
        return Ok(Action::requeue(Duration::ZERO));
    };
    let mut next = status_of(&run);
    next.observed_generation = status.observed_generation;
    if next.phase == Some(Phase::Stopped) && context.shutdown.is_cancelled() {
        // Stopped by this generator's shutdown, not by a user: the next generator resumes it.
        return Ok(Action::await_change());
    }
    // Every status write is a change that reconciles the object again: progress is written
    // every PROGRESS_INTERVAL, a new phase at once.
    if next.phase == status.phase
        && let Some(wait) = context.ledger.wait_before_writing(&uid, PROGRESS_INTERVAL)
    {
        return Ok(Action::requeue(wait));
    }
    if &next != status {
        write_status(api, traffic, &next).await?;
        context.ledger.wrote(&uid);
    }
    if next.phase.is_some_and(Phase::is_final) {
        tracing::info!(
            traffic = %traffic.name_any(),
            run_id = %run.run_id,
            generated = run.generated,
            acknowledged = run.acknowledged,
            "payment traffic run ended"
        );
        Ok(Action::await_change())
    } else {
        Ok(Action::requeue(PROGRESS_INTERVAL))
    }
}

async fn cleanup(traffic: &PaymentTraffic, context: &TrafficContext) -> Result<Action, StepError> {
    let status = traffic.status.clone().unwrap_or_default();
    let remembered = context.ledger.forget(&traffic.uid().unwrap_or_default());
    if let Some(run_id) = remembered.or(status.run_id).as_deref() {
        // A run this generator does not know is already gone: nothing to stop.
        if let Ok(run) = context.runs.stop(run_id).await {
            tracing::info!(
                traffic = %traffic.name_any(),
                run_id,
                generated = run.generated,
                "payment traffic deleted; run stopped"
            );
        }
    }
    Ok(Action::await_change())
}

async fn fail(
    api: &Api<PaymentTraffic>,
    traffic: &PaymentTraffic,
    message: String,
) -> Result<Action, StepError> {
    tracing::warn!(traffic = %traffic.name_any(), %message, "payment traffic cannot run");
    let failed = PaymentTrafficStatus {
        phase: Some(Phase::Failed),
        message: Some(message),
        observed_generation: traffic.meta().generation,
        ..Default::default()
    };
    write_status(api, traffic, &failed).await?;
    Ok(Action::await_change())
}

async fn write_status(
    api: &Api<PaymentTraffic>,
    traffic: &PaymentTraffic,
    status: &PaymentTrafficStatus,
) -> Result<(), StepError> {
    // A merge patch keeps what it does not mention: name every unset field as null so that
    // a stale message or run id is cleared.
    let mut fields = serde_json::to_value(status).map_err(StepError::Encode)?;
    if let Some(fields) = fields.as_object_mut() {
        for key in STATUS_OPTIONAL_FIELDS {
            fields
                .entry(key.to_owned())
                .or_insert(serde_json::Value::Null);
        }
    }
    let patch = serde_json::json!({ "status": fields });
    api.patch_status(
        &traffic.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await?;
    Ok(())
}

/// The status fields that may be unset (see `write_status`).
const STATUS_OPTIONAL_FIELDS: [&str; 7] = [
    "phase",
    "runId",
    "actualRate",
    "startedAt",
    "finishedAt",
    "message",
    "observedGeneration",
];

/// The status that reports `run`.
fn status_of(run: &pb::Run) -> PaymentTrafficStatus {
    let phase = match pb::RunState::try_from(run.state) {
        Ok(pb::RunState::Completed) => Phase::Completed,
        Ok(pb::RunState::Stopped) => Phase::Stopped,
        _ => Phase::Running,
    };
    PaymentTrafficStatus {
        phase: Some(phase),
        run_id: Some(run.run_id.clone()),
        generated: run.generated,
        acknowledged: run.acknowledged,
        rejected: run.rejected,
        actual_rate: Some((run.actual_rate * 10.0).round() / 10.0),
        started_at: run.started_at.as_ref().map(format_rfc3339_seconds),
        finished_at: run.finished_at.as_ref().map(format_rfc3339_seconds),
        message: (!run.last_error.is_empty()).then(|| run.last_error.clone()),
        observed_generation: None,
    }
}
