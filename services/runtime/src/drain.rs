//! [`Drain`]: the one way every role stops. Each task runs in a [`Stage`]; a drain cancels
//! the stages one after another and waits for each stage's tasks before starting the next,
//! all within one grace period. Past it, [`Drain::abort_token`] is cancelled so that work
//! still retrying gives up (leaving what it had not committed to be redelivered).

use payments_core::service_error::with_causes;
use std::error::Error as StdError;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// An error a role's task ended with, cause kept.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// How long tasks get, once the grace period has passed and the abort token is cancelled,
/// to notice it and return.
const AFTER_ABORT: Duration = Duration::from_secs(5);

/// The order in which a drain stops things: intake first, then the servers (their in-flight
/// calls finish, so everything acknowledged is on the bus), then the pipeline (sinks finish
/// their batches and commit offsets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Work that makes new payments: traffic runs and the controller that starts them.
    Traffic,
    /// The gRPC and HTTP servers: they stop accepting and finish the calls in flight.
    Serving,
    /// Work that empties the bus: the processor stores its batch and commits its offsets.
    Pipeline,
}

impl Stage {
    /// Every stage, in drain order.
    pub const ORDER: [Stage; 3] = [Stage::Traffic, Stage::Serving, Stage::Pipeline];

    fn index(self) -> usize {
        self as usize
    }
}

/// Why a drained app did not stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum DrainError {
    /// A task failed (before or during the drain); the first failure is kept.
    #[error("{task} failed")]
    Task {
        /// The task's name.
        task: &'static str,
        /// What it failed with.
        #[source]
        source: BoxError,
    },
    /// The drain took longer than the grace period.
    #[error("the drain did not finish within the {0:?} grace period")]
    Timeout(Duration),
}

struct StageTasks {
    token: CancellationToken,
    tracker: TaskTracker,
}

struct Shared {
    stages: [StageTasks; 3],
    abort: CancellationToken,
    failed: CancellationToken,
    first_failure: Mutex<Option<(&'static str, BoxError)>>,
    grace: Duration,
}

/// The drain of one app; clones share it.
#[derive(Clone)]
pub struct Drain(Arc<Shared>);

impl Drain {
    /// A drain whose stages together may take `grace`.
    pub fn new(grace: Duration) -> Self {
        let stage = || StageTasks {
            token: CancellationToken::new(),
            tracker: TaskTracker::new(),
        };
        Self(Arc::new(Shared {
            stages: [stage(), stage(), stage()],
            abort: CancellationToken::new(),
            failed: CancellationToken::new(),
            first_failure: Mutex::new(None),
            grace,
        }))
    }

    /// Cancelled when `stage` begins to drain: its tasks stop taking new work.
    pub fn token(&self, stage: Stage) -> CancellationToken {
        self.0.stages[stage.index()].token.clone()
    }

    /// Cancelled once the grace period has passed: work still retrying gives up.
    pub fn abort_token(&self) -> CancellationToken {
        self.0.abort.clone()
    }

    /// Cancelled when a task has failed; the app then drains (and readiness fails).
    pub fn failure_token(&self) -> CancellationToken {
        self.0.failed.clone()
    }

    /// Whether a drain has begun (the first stage is cancelled).
    pub fn is_draining(&self) -> bool {
        self.0.stages[0].token.is_cancelled()
    }

    /// Runs `task` in `stage`; the drain waits for it before starting the next stage. A task
    /// that fails is logged, kept as the app's failure, and starts the drain.
    pub fn spawn<F, E>(&self, stage: Stage, name: &'static str, task: F)
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<BoxError>,
    {
        let shared = self.0.clone();
        self.0.stages[stage.index()].tracker.spawn(async move {
            if let Err(error) = task.await {
                let error: BoxError = error.into();
                tracing::error!(
                    task = name,
                    error = with_causes(error.as_ref()),
                    "task failed; draining"
                );
                let mut first = shared
                    .first_failure
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                first.get_or_insert((name, error));
                shared.failed.cancel();
            }
        });
    }

    /// Cancels each stage in turn and waits for its tasks before the next.
    async fn stop_in_order(&self) {
        for stage in &self.0.stages {
            stage.token.cancel();
            stage.tracker.close();
            stage.tracker.wait().await;
        }
    }

    /// Drains: each stage in [`Stage::ORDER`] is cancelled and its tasks awaited. Fails with
    /// the first task failure, or with [`DrainError::Timeout`] past the grace period (then
    /// the abort token is cancelled and tasks get a few more seconds to give up).
    pub async fn run(&self) -> Result<(), DrainError> {
        if tokio::time::timeout(self.0.grace, self.stop_in_order())
            .await
            .is_err()
        {
            self.0.abort.cancel();
            // Stages not reached yet are stopped too; stopping one twice is harmless.
            if tokio::time::timeout(AFTER_ABORT, self.stop_in_order())
                .await
                .is_err()
            {
                tracing::warn!("tasks still running after the drain was abandoned");
            }
            return Err(DrainError::Timeout(self.0.grace));
        }
        let failure = self
            .0
            .first_failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        match failure {
            Some((task, source)) => Err(DrainError::Task { task, source }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn stages_stop_in_order_each_after_the_one_before_has_finished() {
        let drain = Drain::new(Duration::from_secs(5));
        let log = Arc::new(Mutex::new(Vec::new()));
        for stage in [Stage::Pipeline, Stage::Serving, Stage::Traffic] {
            let (token, log) = (drain.token(stage), log.clone());
            drain.spawn(stage, "t", async move {
                token.cancelled().await;
                // Work after the stop signal: a later stage must not have begun meanwhile.
                tokio::task::yield_now().await;
                log.lock().map(|mut l| l.push(stage)).ok();
                Ok::<_, BoxError>(())
            });
        }
        drain.run().await.unwrap();
        assert_eq!(*log.lock().unwrap(), Stage::ORDER.to_vec());
    }

    #[tokio::test]
    async fn a_failed_task_starts_the_drain_and_is_its_result() {
        let drain = Drain::new(Duration::from_secs(5));
        drain.spawn(Stage::Pipeline, "processor", async {
            Err::<(), _>(std::io::Error::other("bus gone"))
        });
        drain.failure_token().cancelled().await;
        let error = drain.run().await.unwrap_err();
        assert!(matches!(
            &error,
            DrainError::Task {
                task: "processor",
                ..
            }
        ));
        assert_eq!(
            error.source().map(ToString::to_string).as_deref(),
            Some("bus gone")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn past_the_grace_period_the_abort_token_is_cancelled() {
        let drain = Drain::new(Duration::from_secs(2));
        let gave_up = Arc::new(AtomicUsize::new(0));
        let (abort, counter) = (drain.abort_token(), gave_up.clone());
        drain.spawn(Stage::Pipeline, "stuck sink", async move {
            abort.cancelled().await;
            counter.fetch_add(1, Ordering::Relaxed);
            Ok::<_, BoxError>(())
        });
        assert!(matches!(drain.run().await, Err(DrainError::Timeout(_))));
        assert_eq!(gave_up.load(Ordering::Relaxed), 1);
    }
}
