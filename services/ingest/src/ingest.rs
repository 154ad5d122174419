//! [`Ingest`]: the one way a caller hands payments to ingest, whether ingest runs in this
//! process ([`crate::IngestGrpc`]) or behind gRPC ([`crate::RemoteIngest`]). Both go
//! through IngestService's own code, so validation, counters and acknowledgements are the
//! same.

use crate::MessageGroups;
use async_trait::async_trait;
use payments_core::pb;
use prost::Message;
use tonic::Status;

/// Somewhere a batch of payments can be submitted.
#[async_trait]
pub trait Ingest: Send + Sync {
    /// Submits `payments`, validated strictly, and returns the summary once the bus holds
    /// every accepted one (invalid ones are counted and detailed in it); fails with the
    /// status IngestService answers (the batch may be retried: ids make resubmission safe).
    async fn submit_batch(
        &self,
        payments: &[pb::Payment],
    ) -> Result<pb::SubmitPaymentsResponse, Status>;
}

/// The messages submitting `payments` strictly, as a client stream sends them: grouped by
/// [`MessageGroups`], in order.
pub(crate) fn strict_requests(payments: &[pb::Payment]) -> Vec<pb::SubmitPaymentsRequest> {
    MessageGroups::new(payments, |payment| payment.encoded_len())
        .map(|group| pb::SubmitPaymentsRequest {
            payments: group.into_iter().cloned().collect(),
            validation_mode: pb::ValidationMode::Strict as i32,
            ..Default::default()
        })
        .collect()
}
