//! Command-line flags of `payments-ingest` (each with an environment variable).

use crate::RecordKey;
use clap::Parser;

/// Serves `payments.v1.IngestService`: validates payments and puts them on the bus.
#[derive(Debug, Parser)]
#[command(name = "payments-ingest", version)]
pub struct IngestArgs {
    /// Address to serve gRPC on.
    #[arg(long, env = "PAYMENTS_GRPC_ADDR", default_value = "127.0.0.1:50054")]
    pub grpc_addr: String,
    /// Address to serve /livez and /readyz on.
    #[arg(long, env = "PAYMENTS_HTTP_ADDR", default_value = "127.0.0.1:8084")]
    pub http_addr: String,
    /// Bus URL of a networked bus (required), e.g. `kafka://127.0.0.1:9092?partitions=6`.
    /// In production add `replication=3&min_insync_replicas=2`; the default (1) is for a
    /// single development broker.
    /// `memory://` lives inside one process and works only in `paymentsctl up`.
    #[arg(long, env = "PAYMENTS_BUS")]
    pub bus: String,
    /// Topic payments are published to.
    #[arg(long, env = "PAYMENTS_TOPIC", default_value = payments_bus::PAYMENTS_TOPIC)]
    pub topic: String,
    /// Record key: keeps the records with the same key in order.
    #[arg(long, env = "PAYMENTS_KEY", value_enum, default_value_t = RecordKey::PaymentId)]
    pub key: RecordKey,
    /// File of bearer tokens, one per line: every call but health and reflection must send
    /// `authorization: Bearer <token>` with one of them, else it gets UNAUTHENTICATED.
    /// Unset: no authentication.
    #[arg(long, env = "PAYMENTS_AUTH_TOKENS_FILE")]
    pub auth_tokens_file: Option<std::path::PathBuf>,
    /// Calls served at once; past it a call is refused with RESOURCE_EXHAUSTED (retry with
    /// backoff) rather than queued. 0: no limit.
    #[arg(long, env = "PAYMENTS_MAX_CONCURRENT_CALLS", default_value_t = 256)]
    pub max_concurrent_calls: usize,
    /// Seconds in-flight calls may take to finish after SIGTERM before the process gives up.
    #[arg(long, env = "PAYMENTS_SHUTDOWN_GRACE", default_value_t = 30)]
    pub shutdown_grace: u64,
    /// TLS for the gRPC port.
    #[command(flatten)]
    pub tls: payments_runtime::tls::ServerTlsArgs,
}
