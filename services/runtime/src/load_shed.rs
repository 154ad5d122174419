//! A bound on the calls one server works on at once: a call past it is refused at once
//! with `RESOURCE_EXHAUSTED` (the client backs off and retries) instead of waiting in an
//! unbounded queue. Health and reflection are never refused.

use crate::grpc_gate::Gate;
use payments_core::metric_names as names;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// At most `limit` calls at once.
#[derive(Debug, Clone)]
pub struct ShedAbove {
    permits: Arc<Semaphore>,
    limit: usize,
}

impl ShedAbove {
    /// A bound of `limit` concurrent calls.
    pub fn new(limit: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(limit)),
            limit,
        }
    }
}

impl Gate for ShedAbove {
    type Ticket = OwnedSemaphorePermit;

    fn admit(
        &self,
        _headers: &http::HeaderMap,
        _extensions: &mut http::Extensions,
    ) -> Result<OwnedSemaphorePermit, tonic::Status> {
        self.permits.clone().try_acquire_owned().map_err(|_| {
            metrics::counter!(names::GRPC_SHED).increment(1);
            tonic::Status::resource_exhausted(format!(
                "the server is at its limit of {} concurrent calls; retry with backoff",
                self.limit
            ))
        })
    }
}
