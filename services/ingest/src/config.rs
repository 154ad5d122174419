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
    /// `memory://` lives inside one process and works only in `paymentsctl up`.
    #[arg(long, env = "PAYMENTS_BUS")]
    pub bus: String,
    /// Topic payments are published to.
    #[arg(long, env = "PAYMENTS_TOPIC", default_value = payments_bus::PAYMENTS_TOPIC)]
    pub topic: String,
    /// Record key: keeps the records with the same key in order.
    #[arg(long, env = "PAYMENTS_KEY", value_enum, default_value_t = RecordKey::PaymentId)]
    pub key: RecordKey,
    /// Seconds in-flight calls may take to finish after SIGTERM before the process gives up.
    #[arg(long, env = "PAYMENTS_SHUTDOWN_GRACE", default_value_t = 30)]
    pub shutdown_grace: u64,
}
