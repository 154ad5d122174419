//! gRPC serving: `grpc.health.v1` and server reflection registered in one place, then the
//! services, then a graceful stop.

use crate::Shutdown;
use crate::auth::BearerTokens;
use crate::grpc_gate::GateLayer;
use crate::load_shed::ShedAbove;
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tonic::server::NamedService;
use tonic::service::Routes;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

/// Largest request or response message accepted (4 MiB).
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// Most calls one HTTP/2 connection may have open at once; a client opening more waits
/// for a stream to close (HTTP/2 flow control), it is not refused.
pub const MAX_STREAMS_PER_CONNECTION: u32 = 256;

/// Largest header block (metadata) a call may send: 16 KiB, ample for tokens and trace
/// context, far below what would let one call hold much memory.
pub const MAX_HEADER_LIST_BYTES: u32 = 16 * 1024;

/// Largest HTTP/2 frame a client may send (HTTP/2's default is 16 KiB): a submission message
/// of 256 payments is one or two frames rather than a dozen.
pub const MAX_FRAME_BYTES: u32 = 256 * 1024;
/// Bytes a client may send on one call before the server asks for more (hyper's default is
/// 1 MiB). With [`MAX_FRAME_BYTES`]: `paymentsctl bench-kafka`'s ingest took 218k payments/s
/// on average against 206k/s with the defaults (six runs of three rounds each, interleaved).
pub const STREAM_WINDOW_BYTES: u32 = 4 * 1024 * 1024;
/// Bytes a client may send on one connection, over all its calls, before the server asks for
/// more: the most a connection's unread requests hold in the server's memory.
pub const CONNECTION_WINDOW_BYTES: u32 = 8 * 1024 * 1024;

/// The health status of every registered service, flipped together.
#[derive(Clone)]
pub struct HealthRegistry {
    reporter: HealthReporter,
    services: Vec<&'static str>,
}

impl HealthRegistry {
    /// Names of the services registered.
    pub fn services(&self) -> &[&'static str] {
        &self.services
    }

    /// Marks every service (and the server as a whole, `""`) SERVING or NOT_SERVING.
    pub async fn set_serving(&self, serving: bool) {
        let status = if serving {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        for name in self.services.iter().copied().chain([""]) {
            self.reporter.set_service_status(name, status).await;
        }
    }
}

/// A tonic service a server can route to (what `tonic_build` generates for a
/// `*Server::new(…)`).
pub trait GrpcService:
    tower_service::Service<
        http::Request<tonic::body::Body>,
        Error = std::convert::Infallible,
        Response: axum::response::IntoResponse,
        Future: Send + 'static,
    > + NamedService
    + Clone
    + Send
    + Sync
    + 'static
{
}

impl<S> GrpcService for S where
    S: tower_service::Service<
            http::Request<tonic::body::Body>,
            Error = std::convert::Infallible,
            Response: axum::response::IntoResponse,
            Future: Send + 'static,
        > + NamedService
        + Clone
        + Send
        + Sync
        + 'static
{
}

/// Why a gRPC server stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The reflection service could not be built from the descriptors.
    #[error(transparent)]
    Reflection(#[from] tonic_reflection::server::Error),
    /// The transport failed.
    #[error(transparent)]
    Transport(#[from] tonic::transport::Error),
}

/// The gRPC services of one server, with health and reflection.
pub struct GrpcRoutes {
    routes: Routes,
    health: HealthRegistry,
    auth: GateLayer<BearerTokens>,
    shed: GateLayer<ShedAbove>,
    tls: Option<tonic::transport::ServerTlsConfig>,
}

impl Default for GrpcRoutes {
    fn default() -> Self {
        Self::new()
    }
}

impl GrpcRoutes {
    /// Routes holding `grpc.health.v1.Health`; reflection is added when serving, so that it
    /// lists exactly the services this server registered.
    pub fn new() -> Self {
        let (reporter, health_service) = tonic_health::server::health_reporter();
        Self {
            routes: Routes::new(health_service),
            health: HealthRegistry {
                reporter,
                services: Vec::new(),
            },
            auth: GateLayer(None),
            shed: GateLayer(None),
            tls: None,
        }
    }

    /// Requires a bearer token from `tokens` on every call but health and reflection
    /// (nothing when `None`).
    pub fn require_bearer(mut self, tokens: Option<BearerTokens>) -> Self {
        self.auth = GateLayer(tokens);
        self
    }

    /// Serves over TLS with `tls` (plaintext when `None`).
    pub fn with_tls(mut self, tls: Option<tonic::transport::ServerTlsConfig>) -> Self {
        self.tls = tls;
        self
    }

    /// Refuses calls past `limit` at once with `RESOURCE_EXHAUSTED` (no bound when `None`).
    pub fn limit_concurrent_calls(mut self, limit: Option<usize>) -> Self {
        self.shed = GateLayer(limit.map(ShedAbove::new));
        self
    }

    /// Adds a service; its health starts NOT_SERVING until [`GrpcRoutes::serve`] begins.
    pub fn add_service<S: GrpcService>(mut self, service: S) -> Self {
        self.health.services.push(S::NAME);
        self.routes = self.routes.add_service(service);
        self
    }

    /// The health registry, to flip on readiness and drain.
    pub fn health(&self) -> HealthRegistry {
        self.health.clone()
    }

    /// gRPC server reflection (v1 and v1alpha) over the `payments.v1`, health and
    /// `google.rpc` error-detail descriptors, listing health and the registered services only.
    fn with_reflection(self) -> Result<Routes, ServeError> {
        let reflection = || {
            let mut builder = tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(payments_proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
                // google.rpc error details, so clients can decode BadRequest violations.
                .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
                .with_service_name("grpc.health.v1.Health");
            for name in &self.health.services {
                builder = builder.with_service_name(*name);
            }
            builder
        };
        let v1 = reflection().build_v1()?;
        let v1alpha = reflection().build_v1alpha()?;
        Ok(self.routes.add_service(v1).add_service(v1alpha))
    }

    /// Serves on `listener` until `shutdown`: marks every service SERVING, and on shutdown
    /// NOT_SERVING, stops accepting, and lets in-flight calls finish.
    pub async fn serve(self, listener: TcpListener, shutdown: Shutdown) -> Result<(), ServeError> {
        let health = self.health.clone();
        let (auth, shed, tls) = (self.auth.clone(), self.shed.clone(), self.tls.clone());
        let routes = self.with_reflection()?;
        health.set_serving(true).await;
        let drain = async move {
            shutdown.cancelled().await;
            health.set_serving(false).await;
        };
        let mut server = tonic::transport::Server::builder();
        if let Some(tls) = tls {
            server = server.tls_config(tls)?;
        }
        server
            // Keep idle connections alive through proxies and detect dead peers.
            .http2_keepalive_interval(Some(std::time::Duration::from_secs(30)))
            .max_concurrent_streams(Some(MAX_STREAMS_PER_CONNECTION))
            .http2_max_header_list_size(Some(MAX_HEADER_LIST_BYTES))
            .max_frame_size(Some(MAX_FRAME_BYTES))
            .initial_stream_window_size(Some(STREAM_WINDOW_BYTES))
            .initial_connection_window_size(Some(CONNECTION_WINDOW_BYTES))
            .layer(crate::grpc_observe::ObserveCalls)
            .layer(auth)
            .layer(shed)
            .add_routes(routes)
            // Small responses must not wait for Nagle's algorithm (40 ms with delayed ACKs).
            .serve_with_incoming_shutdown(
                TcpIncoming::from(listener).with_nodelay(Some(true)),
                drain,
            )
            .await?;
        Ok(())
    }
}

/// Binds a TCP listener, naming the address in the error.
pub async fn bind(addr: &str) -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}
