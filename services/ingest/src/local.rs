//! [`LocalIngest`]: IngestService served alone in this process, for benches and tests.

use crate::{IngestGrpc, Ingestor, RecordKey};
use payments_bus::Bus;
use payments_runtime::grpc::ServeError;
use payments_runtime::{GrpcRoutes, Shutdown};
use std::net::SocketAddr;
use tokio::task::JoinHandle;

/// IngestService on a free port of 127.0.0.1, publishing to one topic of a bus, keyed by
/// payment id. It serves until [`LocalIngest::stop`], or until it is dropped.
pub struct LocalIngest {
    addr: SocketAddr,
    stop: Shutdown,
    server: Option<JoinHandle<Result<(), ServeError>>>,
}

impl LocalIngest {
    /// Serves ingest into `topic` on `bus`.
    pub async fn start(bus: &Bus, topic: &str) -> std::io::Result<Self> {
        let ingestor = Ingestor::new(bus.producer(), topic, RecordKey::PaymentId);
        let (listener, addr) = payments_runtime::grpc::bind("127.0.0.1:0").await?;
        let routes = GrpcRoutes::new().add_service(IngestGrpc::new(ingestor).into_server());
        let stop = Shutdown::new();
        let server = tokio::spawn(routes.serve(listener, stop.clone()));
        Ok(Self {
            addr,
            stop,
            server: Some(server),
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops serving, once the calls in progress have ended, and says whether serving failed.
    /// A panic of the server is raised again here.
    pub async fn stop(mut self) -> Result<(), ServeError> {
        self.stop.cancel();
        let Some(server) = self.server.take() else {
            return Ok(());
        };
        match server.await {
            Ok(served) => served,
            // The task is never aborted, so it only ends early by panicking.
            Err(failed) => std::panic::resume_unwind(failed.into_panic()),
        }
    }
}

/// Dropped without [`LocalIngest::stop`] (a bench that failed half-way), it stops serving.
impl Drop for LocalIngest {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
