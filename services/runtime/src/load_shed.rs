//! A bound on the calls one server works on at once: a call past it is refused at once
//! with `RESOURCE_EXHAUSTED` (the client backs off and retries) instead of waiting in an
//! unbounded queue. Health and reflection are never refused.

use crate::grpc_reject::{is_infrastructure, refusal};
use futures::future::{BoxFuture, Either, Ready, ready};
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::sync::Semaphore;
use tower_layer::Layer;
use tower_service::Service;

/// At most `limit` calls at once (none when `None`).
#[derive(Debug, Clone, Default)]
pub struct ShedAbove {
    permits: Option<(Arc<Semaphore>, usize)>,
}

impl ShedAbove {
    /// A bound of `limit` concurrent calls, or none.
    pub fn new(limit: Option<usize>) -> Self {
        Self {
            permits: limit.map(|n| (Arc::new(Semaphore::new(n)), n)),
        }
    }
}

impl<S> Layer<S> for ShedAbove {
    type Service = Shedding<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Shedding {
            inner,
            permits: self.permits.clone(),
        }
    }
}

/// A service behind [`ShedAbove`].
#[derive(Debug, Clone)]
pub struct Shedding<S> {
    inner: S,
    permits: Option<(Arc<Semaphore>, usize)>,
}

impl<S, ReqBody, ResBody> Service<http::Request<ReqBody>> for Shedding<S>
where
    S: Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
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

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let Some((semaphore, limit)) = &self.permits else {
            return Either::Left(Box::pin(self.inner.call(request)));
        };
        if is_infrastructure(request.uri().path()) {
            return Either::Left(Box::pin(self.inner.call(request)));
        }
        let Ok(permit) = semaphore.clone().try_acquire_owned() else {
            metrics::counter!("grpc_server_shed_total").increment(1);
            return Either::Right(ready(Ok(refusal(tonic::Status::resource_exhausted(
                format!(
                    "the server is at its limit of {limit} concurrent calls; retry with backoff"
                ),
            )))));
        };
        let call = self.inner.call(request);
        Either::Left(Box::pin(async move {
            let response = call.await;
            drop(permit);
            response
        }))
    }
}
