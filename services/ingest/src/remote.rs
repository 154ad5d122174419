//! [`RemoteIngest`]: an IngestService reached over gRPC, one client stream per batch.

use crate::allowed_targets::{AllowedTargets, TargetNotAllowed};
use crate::ingest::{Ingest, strict_requests};
use async_trait::async_trait;
use payments_core::pb;
use payments_runtime::TraceParent;
use std::time::Duration;
use tonic::Status;
use tonic::metadata::AsciiMetadataValue;
use tonic::transport::ClientTlsConfig;
use tracing::Instrument;

/// What every connection to a remote ingest carries, and where it may go.
#[derive(Debug, Clone, Default)]
pub struct IngestConnection {
    /// `Bearer <token>`, when the target requires a token.
    pub authorization: Option<AsciiMetadataValue>,
    /// TLS, when the target is served over TLS.
    pub tls: Option<ClientTlsConfig>,
    /// The only targets a connection is made to (none by default), so that the token
    /// above never travels anywhere else.
    pub allowed: AllowedTargets,
}

/// An ingest target that cannot be reached as given.
#[derive(Debug, thiserror::Error)]
pub enum InvalidTarget {
    /// It is not on the allow-list; nothing was sent to it.
    #[error(transparent)]
    NotAllowed(#[from] TargetNotAllowed),
    /// It is not a usable address (bad URI, TLS settings).
    #[error("ingest target {target:?} is not a usable address")]
    Unusable {
        /// The target as given.
        target: String,
        /// Why.
        #[source]
        source: tonic::transport::Error,
    },
}

/// Submits to an IngestService over gRPC.
pub struct RemoteIngest {
    client: pb::ingest_service_client::IngestServiceClient<tonic::transport::Channel>,
    authorization: Option<AsciiMetadataValue>,
}

impl RemoteIngest {
    /// Ingest at `target` (`host:port` or a URL), reached as `connection` says, when
    /// `connection` allows it; connects lazily, and fails a batch after 30 s so that a hung
    /// ingest cannot wedge a run.
    pub fn new(target: &str, connection: &IngestConnection) -> Result<Self, InvalidTarget> {
        connection.allowed.check(target)?;
        let invalid = |source| InvalidTarget::Unusable {
            target: target.to_owned(),
            source,
        };
        let scheme = if connection.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let url = if target.contains("://") {
            target.to_owned()
        } else {
            format!("{scheme}://{target}")
        };
        let mut endpoint = tonic::transport::Endpoint::from_shared(url)
            .map_err(invalid)?
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30));
        if let Some(tls) = &connection.tls {
            endpoint = endpoint.tls_config(tls.clone()).map_err(invalid)?;
        }
        Ok(Self {
            client: pb::ingest_service_client::IngestServiceClient::new(endpoint.connect_lazy()),
            authorization: connection.authorization.clone(),
        })
    }
}

#[async_trait]
impl Ingest for RemoteIngest {
    async fn submit_batch(
        &self,
        payments: &[pb::Payment],
    ) -> Result<pb::SubmitPaymentsResponse, Status> {
        let span = tracing::info_span!(
            "submit payments",
            otel.kind = "client",
            payments = payments.len()
        );
        let mut request = tonic::Request::new(tokio_stream::iter(strict_requests(payments)));
        span.in_scope(|| TraceParent::inject_current(request.metadata_mut()));
        if let Some(authorization) = &self.authorization {
            request
                .metadata_mut()
                .insert("authorization", authorization.clone());
        }
        let summary = self
            .client
            .clone()
            .submit_payments(request)
            .instrument(span)
            .await?;
        Ok(summary.into_inner())
    }
}
