//! One span per gRPC call on every server (OpenTelemetry RPC conventions), continuing the
//! caller's `traceparent`; health checks and reflection are not traced.

use crate::trace_context::{TRACEPARENT, TraceParent};
use futures::future::BoxFuture;
use std::task::{Context, Poll};
use tower_layer::Layer;
use tower_service::Service;
use tracing::Instrument;

/// Wraps a gRPC server's routes in [`ObservedCalls`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ObserveCalls;

impl<S> Layer<S> for ObserveCalls {
    type Service = ObservedCalls<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ObservedCalls { inner }
    }
}

/// A gRPC service whose every call runs in a `grpc …` server span.
#[derive(Debug, Clone)]
pub struct ObservedCalls<S> {
    inner: S,
}

/// Whether calls to `path` are traced: not the probes and tooling every client polls.
fn traced(path: &str) -> bool {
    !path.starts_with("/grpc.health.") && !path.starts_with("/grpc.reflection.")
}

/// The `grpc-status` a response started with (0, OK, when it comes in the trailers).
fn status_code<B>(response: &http::Response<B>) -> i64 {
    response
        .headers()
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

impl<S, ReqBody, ResBody> Service<http::Request<ReqBody>> for ObservedCalls<S>
where
    S: Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let path = request.uri().path().to_owned();
        if !traced(&path) {
            return Box::pin(self.inner.call(request));
        }
        let (service, method) = path
            .trim_start_matches('/')
            .split_once('/')
            .unwrap_or((path.as_str(), ""));
        let span = tracing::info_span!(
            "grpc call",
            otel.name = %path.trim_start_matches('/'),
            otel.kind = "server",
            rpc.system = "grpc",
            rpc.service = %service,
            rpc.method = %method,
            rpc.grpc.status_code = tracing::field::Empty,
        );
        if let Some(parent) = request
            .headers()
            .get(TRACEPARENT)
            .and_then(|v| v.to_str().ok())
            .and_then(TraceParent::parse)
        {
            parent.adopt(&span);
        }
        let call = self.inner.call(request);
        let recorded = span.clone();
        Box::pin(
            async move {
                let result = call.await;
                let code = result.as_ref().map_or(2, status_code);
                recorded.record("rpc.grpc.status_code", code);
                result
            }
            .instrument(span),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_are_not_traced_and_status_comes_from_the_headers() {
        assert!(!traced("/grpc.health.v1.Health/Check"));
        assert!(!traced(
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
        ));
        assert!(traced("/payments.v1.IngestService/SubmitPayment"));
        let ok = http::Response::new(());
        assert_eq!(status_code(&ok), 0);
        let refused = http::Response::builder()
            .header("grpc-status", "3")
            .body(())
            .unwrap_or_default();
        assert_eq!(status_code(&refused), 3);
    }
}
