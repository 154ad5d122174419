//! Traffic runs as the console starts, lists and stops them.

use async_trait::async_trait;
use payments_core::pb;
#[cfg(feature = "local-runs")]
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
#[cfg(feature = "local-runs")]
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

/// The runs of a generator reached over gRPC (the query service's console in a cluster);
/// runs started here submit to `ingest_target` unless they name one.
pub struct GrpcTrafficRuns {
    client: pb::generator_service_client::GeneratorServiceClient<tonic::transport::Channel>,
    ingest_target: Option<String>,
    authorization: Option<tonic::metadata::AsciiMetadataValue>,
}

impl GrpcTrafficRuns {
    /// A client of the generator at `address` (`host:port`), connecting on first use.
    pub fn new(
        address: &str,
        ingest_target: Option<String>,
    ) -> Result<Self, tonic::transport::Error> {
        let url = if address.contains("://") {
            address.to_owned()
        } else {
            format!("http://{address}")
        };
        let endpoint = tonic::transport::Endpoint::from_shared(url)?
            .connect_timeout(std::time::Duration::from_secs(5))
            .timeout(std::time::Duration::from_secs(10));
        Ok(Self {
            client: pb::generator_service_client::GeneratorServiceClient::new(
                endpoint.connect_lazy(),
            ),
            ingest_target,
            authorization: None,
        })
    }

    /// The same client sending `authorization` (`Bearer <token>`) with every call, for a
    /// generator started with `--auth-tokens-file`.
    pub fn with_authorization(
        mut self,
        authorization: Option<tonic::metadata::AsciiMetadataValue>,
    ) -> Self {
        self.authorization = authorization;
        self
    }

    /// `message` as a request carrying the token, if any.
    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        if let Some(authorization) = &self.authorization {
            request
                .metadata_mut()
                .insert("authorization", authorization.clone());
        }
        request
    }
}

#[async_trait]
impl TrafficRuns for GrpcTrafficRuns {
    async fn start(&self, mut spec: pb::RunSpec) -> Result<pb::Run, Status> {
        if spec.ingest_target.is_empty()
            && let Some(target) = &self.ingest_target
        {
            spec.ingest_target.clone_from(target);
        }
        let answer = self
            .client
            .clone()
            .start_run(self.request(pb::StartRunRequest { spec: Some(spec) }))
            .await?;
        answer
            .into_inner()
            .run
            .ok_or_else(|| Status::internal("the generator answered StartRun without the run"))
    }

    async fn list(&self) -> Result<Vec<pb::Run>, Status> {
        let answer = self
            .client
            .clone()
            .list_runs(self.request(pb::ListRunsRequest::default()))
            .await?;
        Ok(answer.into_inner().runs)
    }

    async fn stop(&self, id: &str) -> Result<pb::Run, Status> {
        let answer = self
            .client
            .clone()
            .stop_run(self.request(pb::StopRunRequest {
                run_id: id.to_owned(),
            }))
            .await?;
        answer
            .into_inner()
            .run
            .ok_or_else(|| Status::internal("the generator answered StopRun without the run"))
    }
}
