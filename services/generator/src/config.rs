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
    /// Bus to publish traffic runs to when a run names no `ingest_target`, e.g.
    /// `kafka://127.0.0.1:9092` (validated as ingest validates, with ingest's headers);
    /// unset, such runs are refused and every run must name an IngestService.
    #[arg(long, env = "PAYMENTS_BUS")]
    pub bus: Option<String>,
    /// Topic traffic runs publish to with `--bus`.
    #[arg(long, env = "PAYMENTS_TOPIC", default_value = payments_bus::PAYMENTS_TOPIC)]
    pub topic: String,
    /// Record key of runs published with `--bus`.
    #[arg(long, env = "PAYMENTS_KEY", value_enum, default_value_t = payments_ingest::RecordKey::PaymentId)]
    pub key: payments_ingest::RecordKey,
    /// Customers in each generated population.
    #[arg(long, env = "PAYMENTS_CUSTOMERS", default_value_t = 2_000)]
    pub customers: usize,
    /// Seconds in-flight calls may take to finish after SIGTERM before the process gives up.
    #[arg(long, env = "PAYMENTS_SHUTDOWN_GRACE", default_value_t = 30)]
    pub shutdown_grace: u64,
    /// File of bearer tokens, one per line: every call but health and reflection must send
    /// `authorization: Bearer <token>` with one of them, else it gets UNAUTHENTICATED (a
    /// run spends the generator's --ingest-token, so starting one takes a token of its own).
    /// Unset: no authentication.
    #[arg(long, env = "PAYMENTS_AUTH_TOKENS_FILE")]
    pub auth_tokens_file: Option<std::path::PathBuf>,
    /// TLS for the gRPC port.
    #[command(flatten)]
    pub tls: payments_runtime::tls::ServerTlsArgs,
    /// How runs reach their ingest target.
    #[command(flatten)]
    pub ingest: crate::ingest_client::IngestClientArgs,
    /// PaymentTraffic custom resources (Kubernetes).
    #[command(flatten)]
    pub traffic: TrafficResourceArgs,
}

/// Flags of the PaymentTraffic controller.
#[derive(Debug, Clone, clap::Args)]
pub struct TrafficResourceArgs {
    /// Watch PaymentTraffic objects in the Kubernetes cluster (in-cluster service account,
    /// else ~/.kube/config) and run the traffic they ask for; one generator replica should.
    #[arg(long, env = "PAYMENTS_WATCH_PAYMENT_TRAFFIC")]
    pub watch_payment_traffic: bool,
    /// Namespace whose PaymentTraffic objects are watched; unset, every namespace.
    #[arg(
        long,
        env = "PAYMENTS_TRAFFIC_NAMESPACE",
        requires = "watch_payment_traffic"
    )]
    pub traffic_namespace: Option<String>,
    /// IngestService (`host:port`) that PaymentTraffic runs naming no `target` submit to;
    /// unset, they publish to `--bus`.
    #[arg(long, env = "PAYMENTS_TRAFFIC_DEFAULT_TARGET")]
    pub traffic_default_target: Option<String>,
    /// Print the PaymentTraffic CustomResourceDefinition as YAML and exit.
    #[arg(long)]
    pub print_crd: bool,
}
