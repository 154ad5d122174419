//! Admission checks in front of a gRPC server's services: a [`Gate`] looks at each call
//! before it reaches its service and either admits it (holding a ticket until it finishes)
//! or refuses it with a status, sent as a trailers-only response. Health and reflection are
//! always admitted.

use futures::future::{BoxFuture, Either, Ready, ready};
use std::task::{Context, Poll};
use tower_layer::Layer;
use tower_service::Service;

/// Whether `path` is a probe or tooling call (health, reflection) that every client may make
/// and no limit or credential applies to.
pub fn is_infrastructure(path: &str) -> bool {
    path.starts_with("/grpc.health.") || path.starts_with("/grpc.reflection.")
}

/// Decides whether a call goes ahead.
pub trait Gate: Clone + Send + Sync + 'static {
    /// Held while an admitted call runs (a permit, or nothing).
    type Ticket: Send + 'static;

    /// Admits a call with these headers (noting what it learned in the request's
    /// extensions), or refuses it with the status the client gets.
    fn admit(
        &self,
        headers: &http::HeaderMap,
        extensions: &mut http::Extensions,
    ) -> Result<Self::Ticket, tonic::Status>;
}

/// Puts a [`Gate`] in front of a service; `None` admits everything.
#[derive(Debug, Clone)]
pub struct GateLayer<G>(pub Option<G>);

impl<G: Clone, S> Layer<S> for GateLayer<G> {
    type Service = Gated<S, G>;

    fn layer(&self, inner: S) -> Self::Service {
        Gated {
            inner,
            gate: self.0.clone(),
        }
    }
}

/// A service behind a [`Gate`].
#[derive(Debug, Clone)]
pub struct Gated<S, G> {
    inner: S,
    gate: Option<G>,
}

impl<S, G, ReqBody, ResBody> Service<http::Request<ReqBody>> for Gated<S, G>
where
    S: Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    G: Gate,
    ResBody: Default,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Either<
        BoxFuture<'static, Result<S::Response, S::Error>>,
        Ready<Result<S::Response, S::Error>>,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<ReqBody>) -> Self::Future {
        let ticket = match &self.gate {
            Some(gate) if !is_infrastructure(request.uri().path()) => {
                let (parts, body) = request.into_parts();
                let mut parts = parts;
                let admitted = gate.admit(&parts.headers, &mut parts.extensions);
                request = http::Request::from_parts(parts, body);
                match admitted {
                    Ok(ticket) => Some(ticket),
                    Err(status) => return Either::Right(ready(Ok(status.into_http()))),
                }
            }
            _ => None,
        };
        let call = self.inner.call(request);
        Either::Left(Box::pin(async move {
            let response = call.await;
            drop(ticket);
            response
        }))
    }
}
