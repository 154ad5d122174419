//! Hosting one service: bind its gRPC and HTTP ports, serve until the shutdown token is
//! cancelled (by a signal, see [`crate::shutdown::cancel_on_signal`]), then drain both.

use crate::Shutdown;
use crate::grpc::{GrpcRoutes, ServeError, bind};
use crate::http::{ReadinessCheck, probe_routes, serve};
use axum::Router;
use std::time::Duration;

/// Why hosting a service failed.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// A port could not be bound, or HTTP serving failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// gRPC serving failed.
    #[error(transparent)]
    Grpc(#[from] ServeError),
    /// The HTTP task panicked.
    #[error(transparent)]
    Join(#[from] tokio::task::JoinError),
    /// In-flight calls did not finish within the grace period after shutdown began.
    #[error("in-flight calls did not finish within the {0:?} shutdown grace period")]
    DrainTimeout(Duration),
}

/// Where and how one service is served.
pub struct ServiceSpec {
    /// The service's name, for logs.
    pub name: &'static str,
    /// gRPC listen address.
    pub grpc_addr: String,
    /// HTTP listen address.
    pub http_addr: String,
    /// Longest the drain may take once `stop` is cancelled.
    pub grace: Duration,
}

impl ServiceSpec {
    /// A spec for `name` on the two addresses, draining within `grace_seconds`.
    pub fn new(name: &'static str, grpc_addr: &str, http_addr: &str, grace_seconds: u64) -> Self {
        Self {
            name,
            grpc_addr: grpc_addr.to_owned(),
            http_addr: http_addr.to_owned(),
            grace: Duration::from_secs(grace_seconds),
        }
    }
}

/// Serves `routes` on the gRPC address and `router` plus `/livez` and `/readyz` on the HTTP
/// address until `stop`, then lets in-flight calls finish within the grace period.
pub async fn serve_service(
    spec: ServiceSpec,
    routes: GrpcRoutes,
    router: Router,
    ready: ReadinessCheck,
    stop: Shutdown,
) -> Result<(), HostError> {
    let ServiceSpec {
        name: service,
        grpc_addr,
        http_addr,
        grace,
    } = spec;
    let (grpc_addr, http_addr) = (grpc_addr.as_str(), http_addr.as_str());
    let (grpc_listener, grpc_local) = bind(grpc_addr).await?;
    let (http_listener, http_local) = bind(http_addr).await?;
    tracing::info!(service, grpc_addr = %grpc_local, http_addr = %http_local, "listening");
    let router = router.merge(probe_routes(ready, stop.clone()));
    let http_task = tokio::spawn(serve(http_listener, router, stop.clone()));
    let serving = async {
        routes.serve(grpc_listener, stop.clone()).await?;
        http_task.await??;
        Ok(())
    };
    let deadline = async {
        stop.cancelled().await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        result = serving => result,
        () = deadline => Err(HostError::DrainTimeout(grace)),
    }
}
