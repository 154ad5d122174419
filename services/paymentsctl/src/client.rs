//! Connecting to a running payments server.

use anyhow::Context;
use payments_core::pb::{
    generator_service_client::GeneratorServiceClient, ingest_service_client::IngestServiceClient,
    query_service_client::QueryServiceClient,
};
use tonic::transport::{Channel, Endpoint};

/// The server's address as a URL: `127.0.0.1:50051` becomes `http://127.0.0.1:50051`.
pub fn server_url(server: &str) -> String {
    if server.contains("://") {
        server.to_owned()
    } else {
        format!("http://{server}")
    }
}

/// Connects to `server`, with an error that says what to do when nothing answers.
pub async fn connect(server: &str) -> anyhow::Result<Channel> {
    let url = server_url(server);
    let endpoint = Endpoint::from_shared(url.clone())
        .with_context(|| format!("invalid server address {server:?}"))?;
    endpoint
        .connect_timeout(std::time::Duration::from_secs(5))
        .connect()
        .await
        .with_context(|| format!("cannot reach the payments server at {url}; is `paymentsctl up` running? (set --server or PAYMENTS_SERVER)"))
}

/// Message size limit shared by every client.
const MAX_MESSAGE: usize = 64 * 1024 * 1024;

/// An ingest client.
pub fn ingest(channel: Channel) -> IngestServiceClient<Channel> {
    IngestServiceClient::new(channel).max_decoding_message_size(MAX_MESSAGE)
}

/// A query client.
pub fn query(channel: Channel) -> QueryServiceClient<Channel> {
    QueryServiceClient::new(channel).max_decoding_message_size(MAX_MESSAGE)
}

/// A generator client.
pub fn generator(channel: Channel) -> GeneratorServiceClient<Channel> {
    GeneratorServiceClient::new(channel).max_decoding_message_size(MAX_MESSAGE)
}
