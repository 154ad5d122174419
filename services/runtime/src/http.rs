//! HTTP side of a service: `/livez`, `/readyz`, `/metrics` (with their OpenAPI
//! description) and serving with graceful stop.

use crate::Shutdown;
use crate::drain::BoxError;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::serve::ListenerExt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::net::TcpListener;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Answers whether the service can take traffic; `Err` says what is not ready.
pub type ReadinessCheck =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), NotReady>> + Send>> + Send + Sync>;

/// Why a service cannot take traffic now: the part that is not ready, and its error.
#[derive(Debug, thiserror::Error)]
#[error("{part}")]
pub struct NotReady {
    part: String,
    #[source]
    source: Option<BoxError>,
}

impl NotReady {
    /// Not ready for the reason `part` states.
    pub fn because(part: impl Into<String>) -> Self {
        Self {
            part: part.into(),
            source: None,
        }
    }

    /// `part` (e.g. `sink postgres://…`) failed its check with `source`.
    pub fn failed(part: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self {
            part: part.into(),
            source: Some(source.into()),
        }
    }

    /// The reason with its whole cause chain, on one line.
    pub fn explain(&self) -> String {
        payments_core::service_error::with_causes(self)
    }
}

/// What `/readyz` consults.
#[derive(Clone)]
struct Probes {
    ready: ReadinessCheck,
    shutdown: Shutdown,
}

/// `/livez` (200 while the process runs), `/readyz` (200 when `ready` passes and no drain
/// has begun, else 503 with the reason) and `/metrics` (Prometheus text).
pub fn probe_routes(ready: ReadinessCheck, shutdown: Shutdown) -> Router {
    probe_router()
        .split_for_parts()
        .0
        .with_state(Probes { ready, shutdown })
}

/// The OpenAPI description of the routes [`probe_routes`] serves, made from the same handlers.
pub fn probe_openapi() -> utoipa::openapi::OpenApi {
    probe_router().split_for_parts().1
}

fn probe_router() -> OpenApiRouter<Probes> {
    OpenApiRouter::new()
        .routes(routes!(livez))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}

/// Whether the process runs.
#[utoipa::path(
    get,
    path = "/livez",
    tag = "operations",
    responses((status = 200, description = "The process runs: `ok`.", body = String, content_type = "text/plain"))
)]
async fn livez() -> &'static str {
    "ok\n"
}

/// Whether the service can take traffic: every backend it needs answers and no drain has
/// begun.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, description = "Ready: `ok`.", body = String, content_type = "text/plain"),
        (status = 503, description = "Not ready, or draining: the reason.", body = String, content_type = "text/plain"),
    )
)]
async fn readyz(State(probes): State<Probes>) -> (StatusCode, String) {
    if probes.shutdown.is_cancelled() {
        return (StatusCode::SERVICE_UNAVAILABLE, "draining\n".to_owned());
    }
    match (probes.ready)().await {
        Ok(()) => (StatusCode::OK, "ok\n".to_owned()),
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {}\n", reason.explain()),
        ),
    }
}

/// The process's metrics in Prometheus' text format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "Prometheus text exposition (version 0.0.4).", body = String, content_type = "text/plain"))
)]
async fn metrics() -> impl axum::response::IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        crate::metrics::render(),
    )
}

/// Serves `router` on `listener` until `shutdown`, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: Shutdown,
) -> std::io::Result<()> {
    // Small responses must not wait for Nagle's algorithm.
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
    });
    axum::serve(listener, router)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}

/// Wraps an async closure as a [`ReadinessCheck`].
pub fn readiness<F, Fut>(check: F) -> ReadinessCheck
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), NotReady>> + Send + 'static,
{
    Arc::new(move || Box::pin(check()))
}
