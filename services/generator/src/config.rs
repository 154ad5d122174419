//! Command-line flags of `payments-generator` (each with an environment variable).

use clap::Parser;

/// Serves `payments.v1.GeneratorService`: deterministic synthetic payments over gRPC.
#[derive(Debug, Parser)]
#[command(name = "payments-generator", version)]
pub struct GeneratorArgs {
    /// Address to serve gRPC on.
    #[arg(long, env = "PAYMENTS_GRPC_ADDR", default_value = "127.0.0.1:50053")]
    pub grpc_addr: String,
    /// Address to serve /livez and /readyz on.
    #[arg(long, env = "PAYMENTS_HTTP_ADDR", default_value = "127.0.0.1:8083")]
    pub http_addr: String,
    /// Customers in each generated population.
    #[arg(long, env = "PAYMENTS_CUSTOMERS", default_value_t = 2_000)]
    pub customers: usize,
    /// Seconds in-flight calls may take to finish after SIGTERM before the process gives up.
    #[arg(long, env = "PAYMENTS_SHUTDOWN_GRACE", default_value_t = 30)]
    pub shutdown_grace: u64,
}
