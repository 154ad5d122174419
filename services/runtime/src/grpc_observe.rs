//! One span per gRPC call on every server (OpenTelemetry RPC conventions), continuing the
//! caller's `traceparent` (health checks and reflection are not traced), and every call
//! counted by method and status code with its latency: `grpc_server_handled_total` and
//! `grpc_server_handling_seconds`, as go-grpc-prometheus names them.

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
    !crate::grpc_gate::is_infrastructure(path)
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

/// The canonical name of a gRPC status code.
fn code_name(code: i64) -> &'static str {
    const NAMES: [&str; 17] = [
        "OK",
        "Canceled",
        "Unknown",
        "InvalidArgument",
        "DeadlineExceeded",
        "NotFound",
        "AlreadyExists",
        "PermissionDenied",
        "ResourceExhausted",
        "FailedPrecondition",
        "Aborted",
        "OutOfRange",
        "Unimplemented",
        "Internal",
        "Unavailable",
        "DataLoss",
        "Unauthenticated",
    ];
    usize::try_from(code)
        .ok()
        .and_then(|i| NAMES.get(i))
        .copied()
        .unwrap_or("Unknown")
}

/// Counts one finished call.
fn record_call(service: &str, method: &str, code: i64, seconds: f64) {
    metrics::counter!(
        "grpc_server_handled_total",
        "grpc_service" => service.to_owned(),
        "grpc_method" => method.to_owned(),
        "grpc_code" => code_name(code),
    )
    .increment(1);
    metrics::histogram!(
        "grpc_server_handling_seconds",
        "grpc_service" => service.to_owned(),
        "grpc_method" => method.to_owned(),
    )
    .record(seconds);
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
        let (service, method) = path
            .trim_start_matches('/')
            .split_once('/')
            .map(|(s, m)| (s.to_owned(), m.to_owned()))
            .unwrap_or_else(|| (path.clone(), String::new()));
        let started = std::time::Instant::now();
        if !traced(&path) {
            let call = self.inner.call(request);
            return Box::pin(async move {
                let result = call.await;
                let code = result.as_ref().map_or(2, status_code);
                record_call(&service, &method, code, started.elapsed().as_secs_f64());
                result
            });
        }
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
                record_call(&service, &method, code, started.elapsed().as_secs_f64());
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
        assert_eq!(code_name(3), "InvalidArgument");
        assert_eq!(code_name(16), "Unauthenticated");
        assert_eq!(code_name(99), "Unknown");
    }
}
