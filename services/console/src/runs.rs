//! Traffic runs as the console starts, lists and stops them.

use async_trait::async_trait;
use payments_core::pb;
use payments_generator::runs::RunRegistry;
use tonic::Status;

/// A generator's traffic runs.
#[async_trait]
pub trait TrafficRuns: Send + Sync {
    /// Starts a run of `spec`.
    async fn start(&self, spec: pb::RunSpec) -> Result<pb::Run, Status>;
    /// Every run, newest first.
    async fn list(&self) -> Result<Vec<pb::Run>, Status>;
    /// Stops run `id`.
    async fn stop(&self, id: &str) -> Result<pb::Run, Status>;
}

/// The runs of a generator in this process (`paymentsctl up`).
#[async_trait]
impl TrafficRuns for RunRegistry {
    async fn start(&self, spec: pb::RunSpec) -> Result<pb::Run, Status> {
        RunRegistry::start(self, spec)
    }

    async fn list(&self) -> Result<Vec<pb::Run>, Status> {
        Ok(RunRegistry::list(self))
    }

    async fn stop(&self, id: &str) -> Result<pb::Run, Status> {
        RunRegistry::stop(self, id).await
    }
}
