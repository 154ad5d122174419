//! Connecting to a running payments server.

use crate::cli::ServerArg;
use anyhow::Context;
use payments_core::pb::{
    generator_service_client::GeneratorServiceClient, ingest_service_client::IngestServiceClient,
    query_service_client::QueryServiceClient,
};
use payments_runtime::auth::bearer_header;
use std::time::Duration;
use tonic::metadata::AsciiMetadataValue;
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, ClientTlsConfig, Endpoint};

/// Adds `authorization: Bearer <token>` and the `grpc-timeout` deadline to every call,
/// when there are a token and a deadline.
#[derive(Clone, Default)]
pub struct CallHeaders {
    bearer: Option<AsciiMetadataValue>,
    timeout: Option<Duration>,
}

impl Interceptor for CallHeaders {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.bearer {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        if let Some(timeout) = self.timeout {
            request.set_timeout(timeout);
        }
        Ok(request)
    }
}

/// A connection to the server, with the caller's bearer token and deadline if any.
pub type Connection = InterceptedService<Channel, CallHeaders>;

/// How long past its deadline the client waits for the server's answer before giving up
/// on its own (the server answers before the deadline; this covers a server that hangs).
const CLIENT_DEADLINE_SLACK: Duration = Duration::from_secs(1);

/// The server's address as a URL: `127.0.0.1:50051` becomes `http://127.0.0.1:50051`.
pub fn server_url(server: &str) -> String {
    if server.contains("://") {
        server.to_owned()
    } else {
        format!("http://{server}")
    }
}

/// Connects to `server.server`, over TLS when a CA is given (with a client certificate
/// when one is), sending the bearer token (if any) on every call; the error says what to do
/// when nothing answers.
pub async fn connect(server: &ServerArg) -> anyhow::Result<Connection> {
    let header = server
        .token
        .as_deref()
        .map(bearer_header)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    Ok(InterceptedService::new(
        connect_channel(server).await?,
        CallHeaders {
            bearer: header,
            timeout: server.timeout,
        },
    ))
}

/// The client TLS configuration `server` asks for, if any.
fn tls_config(server: &ServerArg) -> anyhow::Result<Option<ClientTlsConfig>> {
    let Some(ca) = &server.tls_ca else {
        return Ok(None);
    };
    let identity = server
        .tls_cert
        .as_deref()
        .zip(server.tls_key.as_deref())
        .map(|(cert, key)| (("--tls-cert", cert), ("--tls-key", key)));
    payments_runtime::tls::client_config(("--tls-ca", ca), identity)
        .map(Some)
        .map_err(anyhow::Error::msg)
}

async fn connect_channel(server: &ServerArg) -> anyhow::Result<Channel> {
    let tls = tls_config(server)?;
    let url = if tls.is_some() && !server.server.contains("://") {
        format!("https://{}", server.server)
    } else {
        server_url(&server.server)
    };
    let mut endpoint = Endpoint::from_shared(url.clone())
        .with_context(|| format!("invalid server address {:?}", server.server))?;
    if let Some(tls) = tls {
        endpoint = endpoint
            .tls_config(tls)
            .context("configuring TLS for the server connection")?;
    }
    if let Some(timeout) = server.timeout {
        endpoint = endpoint.timeout(timeout + CLIENT_DEADLINE_SLACK);
    }
    endpoint
        .connect_timeout(std::time::Duration::from_secs(5))
        .connect()
        .await
        .with_context(|| format!("cannot reach the payments server at {url}; is `paymentsctl up` running? (set --server or PAYMENTS_SERVER)"))
}

/// Message size limit shared by every client.
const MAX_MESSAGE: usize = 64 * 1024 * 1024;

/// An ingest client.
pub fn ingest(channel: Connection) -> IngestServiceClient<Connection> {
    IngestServiceClient::new(channel).max_decoding_message_size(MAX_MESSAGE)
}

/// A query client.
pub fn query(channel: Connection) -> QueryServiceClient<Connection> {
    QueryServiceClient::new(channel).max_decoding_message_size(MAX_MESSAGE)
}

/// A generator client.
pub fn generator(channel: Connection) -> GeneratorServiceClient<Connection> {
    GeneratorServiceClient::new(channel).max_decoding_message_size(MAX_MESSAGE)
}
