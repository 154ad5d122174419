//! HTTP side of a service: `/livez`, `/readyz` and serving with graceful stop.

use crate::Shutdown;
use crate::drain::BoxError;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use axum::serve::ListenerExt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::net::TcpListener;

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

/// `/livez` (200 while the process runs), `/readyz` (200 when `ready` passes and no drain
/// has begun, else 503 with the reason) and `/metrics` (Prometheus text).
pub fn probe_routes(ready: ReadinessCheck, shutdown: Shutdown) -> Router {
    Router::new()
        .route("/livez", get(|| async { "ok\n" }))
        .route(
            "/metrics",
            get(|| async {
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    crate::metrics::render(),
                )
            }),
        )
        .route(
            "/readyz",
            get(move || {
                let ready = ready.clone();
                let shutdown = shutdown.clone();
                async move {
                    if shutdown.is_cancelled() {
                        return (StatusCode::SERVICE_UNAVAILABLE, "draining\n".to_owned());
                    }
                    match ready().await {
                        Ok(()) => (StatusCode::OK, "ok\n".to_owned()),
                        Err(reason) => (
                            StatusCode::SERVICE_UNAVAILABLE,
                            format!("not ready: {}\n", reason.explain()),
                        ),
                    }
                }
            }),
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
