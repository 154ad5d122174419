//! Hosting one service: bind its gRPC and HTTP ports, serve until the shutdown token is
//! cancelled (by a signal, see [`crate::shutdown::cancel_on_signal`]), then drain both.

use crate::Shutdown;
use crate::grpc::{GrpcRoutes, ServeError, bind};
use crate::http::{ReadinessCheck, probe_routes, serve};
use axum::Router;

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
    #[error("http server task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// Serves `routes` on `grpc_addr` and `router` plus `/livez` and `/readyz` on `http_addr`
/// until `stop`; logs where `service` listens.
pub async fn serve_service(
    service: &'static str,
    grpc_addr: &str,
    http_addr: &str,
    routes: GrpcRoutes,
    router: Router,
    ready: ReadinessCheck,
    stop: Shutdown,
) -> Result<(), HostError> {
    let (grpc_listener, grpc_local) = bind(grpc_addr).await?;
    let (http_listener, http_local) = bind(http_addr).await?;
    tracing::info!(service, grpc_addr = %grpc_local, http_addr = %http_local, "listening");
    let router = router.merge(probe_routes(ready, stop.clone()));
    let http_task = tokio::spawn(serve(http_listener, router, stop.clone()));
    routes.serve(grpc_listener, stop).await?;
    http_task.await??;
    Ok(())
}
