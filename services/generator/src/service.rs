//! `payments.v1.GeneratorService` over gRPC.

use crate::generator::{GeneratorConfig, PaymentGenerator, check_start, default_start};
use crate::runs::RunRegistry;
use payments_core::pb::{self, generator_service_server::GeneratorService};
use payments_core::time::from_timestamp;
use payments_ingest::{Ingest, IngestConnection};
use payments_runtime::Shutdown;
use payments_runtime::status::{invalid_field, specified_enum_values};
use std::pin::Pin;
use std::sync::Arc;
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

/// Most payments one Generate call streams.
pub const MAX_GENERATE_COUNT: u64 = 10_000_000;

/// Serves `Generate`: generation runs on a blocking thread and streams through a bounded
/// channel, so a slow client slows generation instead of filling memory.
#[derive(Clone)]
pub struct GeneratorGrpc {
    customers: usize,
    runs: Arc<RunRegistry>,
}

impl GeneratorGrpc {
    /// A service whose generators hold `customers` customers; its runs submit to
    /// `local_ingest` when they name no target (else to the target, reached as
    /// `remote_ingest` says), and stop when `shutdown` is cancelled.
    pub fn new(
        customers: usize,
        local_ingest: Option<Arc<dyn Ingest>>,
        remote_ingest: IngestConnection,
        shutdown: Shutdown,
    ) -> Self {
        Self {
            customers,
            runs: Arc::new(RunRegistry::new(
                customers,
                local_ingest,
                remote_ingest,
                shutdown,
            )),
        }
    }

    /// Its runs.
    pub fn runs(&self) -> Arc<RunRegistry> {
        self.runs.clone()
    }

    /// The tonic server for this service.
    pub fn into_server(self) -> pb::generator_service_server::GeneratorServiceServer<Self> {
        pb::generator_service_server::GeneratorServiceServer::new(self)
    }
}

/// Checks a request and turns it into a generator configuration.
pub fn config_from_request(
    request: &pb::GenerateRequest,
    customers: usize,
) -> Result<GeneratorConfig, Status> {
    if request.count == 0 || request.count > MAX_GENERATE_COUNT {
        return Err(invalid_field(
            "count",
            format!(
                "must be between 1 and {MAX_GENERATE_COUNT}, got {}",
                request.count
            ),
        ));
    }
    let types = specified_enum_values::<pb::PaymentType>("types", &request.types, "payment type")?;
    let start = match &request.start_time {
        None => default_start(),
        Some(ts) => from_timestamp(ts)
            .ok_or_else(|| invalid_field("start_time", "is not a valid timestamp"))?,
    };
    check_start(start).map_err(|e| invalid_field("start_time", e.to_string()))?;
    Ok(GeneratorConfig {
        seed: request.seed,
        types,
        start,
        customers,
        ..Default::default()
    })
}

type PaymentStream = Pin<Box<dyn Stream<Item = Result<pb::Payment, Status>> + Send>>;

#[tonic::async_trait]
impl GeneratorService for GeneratorGrpc {
    type GenerateStream = PaymentStream;

    async fn generate(
        &self,
        request: Request<pb::GenerateRequest>,
    ) -> Result<Response<Self::GenerateStream>, Status> {
        let request = request.into_inner();
        let config = config_from_request(&request, self.customers)?;
        let count = request.count;
        tracing::info!(count, seed = request.seed, "generate started");
        let (tx, rx) = tokio::sync::mpsc::channel(1024);
        tokio::task::spawn_blocking(move || {
            let generator = PaymentGenerator::new(config);
            for i in 0..count {
                if tx.blocking_send(Ok(generator.payment(i))).is_err() {
                    tracing::info!(sent = i, "generate cancelled by client");
                    return;
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn start_run(
        &self,
        request: Request<pb::StartRunRequest>,
    ) -> Result<Response<pb::StartRunResponse>, Status> {
        let spec = request
            .into_inner()
            .spec
            .ok_or_else(|| invalid_field("spec", "is required"))?;
        Ok(Response::new(pb::StartRunResponse {
            run: Some(self.runs.start(spec)?),
        }))
    }

    async fn get_run(
        &self,
        request: Request<pb::GetRunRequest>,
    ) -> Result<Response<pb::GetRunResponse>, Status> {
        Ok(Response::new(pb::GetRunResponse {
            run: Some(self.runs.get(&request.into_inner().run_id)?),
        }))
    }

    async fn stop_run(
        &self,
        request: Request<pb::StopRunRequest>,
    ) -> Result<Response<pb::StopRunResponse>, Status> {
        Ok(Response::new(pb::StopRunResponse {
            run: Some(self.runs.stop(&request.into_inner().run_id).await?),
        }))
    }

    async fn list_runs(
        &self,
        _request: Request<pb::ListRunsRequest>,
    ) -> Result<Response<pb::ListRunsResponse>, Status> {
        Ok(Response::new(pb::ListRunsResponse {
            runs: self.runs.list(),
        }))
    }
}
