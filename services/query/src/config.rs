//! Command-line flags of `payments-query` (each with an environment variable).

use clap::Parser;

/// Serves `payments.v1.QueryService` over gRPC and the seed API's routes over HTTP.
#[derive(Debug, Parser)]
#[command(name = "payments-query", version)]
pub struct QueryArgs {
    /// Address to serve gRPC on.
    #[arg(long, env = "PAYMENTS_GRPC_ADDR", default_value = "127.0.0.1:50056")]
    pub grpc_addr: String,
    /// Address to serve HTTP (seed routes, /livez, /readyz) on.
    #[arg(long, env = "PAYMENTS_HTTP_ADDR", default_value = "127.0.0.1:8086")]
    pub http_addr: String,
    /// Store URL to read: `sqlite://PATH`, `postgres://USER@HOST/DB`, `mongodb://HOST/DB` or
    /// `hbase://HOST:9090`.
    #[arg(long, env = "PAYMENTS_STORE", default_value = "sqlite://payments.db")]
    pub store: String,
    /// Cache read first by GetPayment and `/v1/payments/{id}` (filled on a miss), e.g.
    /// `redis://127.0.0.1:6379` — the processor's Redis sink writes it.
    #[arg(long, env = "PAYMENTS_CACHE")]
    pub cache: Option<String>,
    /// File of bearer tokens, one per line: every call but health and reflection must send
    /// `authorization: Bearer <token>` with one of them, else it gets UNAUTHENTICATED.
    /// Unset: no authentication.
    #[arg(long, env = "PAYMENTS_AUTH_TOKENS_FILE")]
    pub auth_tokens_file: Option<std::path::PathBuf>,
    /// Seconds in-flight calls may take to finish after SIGTERM before the process gives up.
    #[arg(long, env = "PAYMENTS_SHUTDOWN_GRACE", default_value_t = 30)]
    pub shutdown_grace: u64,
    /// Show full account numbers and IBANs to every caller (local development). Without
    /// it they are cut to their last four characters, except for callers whose bearer token
    /// has the `reveal-accounts` scope (`TOKEN reveal-accounts` in --auth-tokens-file).
    #[arg(long, env = "PAYMENTS_REVEAL_ACCOUNTS")]
    pub reveal_accounts: bool,
    /// TLS for the gRPC port.
    #[command(flatten)]
    pub tls: payments_runtime::tls::ServerTlsArgs,
    /// The web console at the HTTP port's `/`.
    #[command(flatten)]
    pub console: ConsoleArgs,
}

/// Flags of the web console the query service serves.
#[derive(Debug, Clone, clap::Args)]
pub struct ConsoleArgs {
    /// Do not serve the web console at the HTTP port's `/`. The console has no login of its
    /// own: keep the HTTP port inside the cluster (port-forward to look).
    #[arg(long, env = "PAYMENTS_NO_CONSOLE")]
    pub no_console: bool,
    /// Serve the console's page even with --auth-tokens-file. A browser cannot send a token
    /// when it loads the page, so without this flag a server that requires tokens serves no
    /// console. With it, the page (which holds no data) is served to anyone, and its API
    /// (payments, dead letters, runs) still answers 401 until the user types a token in.
    #[arg(long, env = "PAYMENTS_CONSOLE_DESPITE_AUTH")]
    pub console_despite_auth: bool,
    /// The services' `/metrics` URLs the console's live pipeline view sums, comma-separated
    /// (`http://ingest:8080/metrics,http://processor:8080/metrics,…`); unset, this process's
    /// own metrics only.
    #[arg(long, env = "PAYMENTS_CONSOLE_METRICS_FROM", value_delimiter = ',')]
    pub console_metrics_from: Vec<String>,
    /// Kafka bus whose dead-letter topic the console lists (`kafka://host:9092`); unset, no
    /// dead-letter panel.
    #[arg(long, env = "PAYMENTS_CONSOLE_BUS")]
    pub console_bus: Option<String>,
    /// The dead-letter topic the console lists (the processor's --dead-letter-topic).
    #[arg(long, env = "PAYMENTS_CONSOLE_DEAD_LETTER_TOPIC", default_value = payments_bus::DEAD_LETTER_TOPIC)]
    pub console_dead_letter_topic: String,
    /// Generator (`host:port`, gRPC) the console starts and stops traffic runs on; unset, no
    /// runs panel.
    #[arg(long, env = "PAYMENTS_CONSOLE_GENERATOR")]
    pub console_generator: Option<String>,
    /// IngestService (`host:port`) the console's runs submit to.
    #[arg(
        long,
        env = "PAYMENTS_CONSOLE_INGEST_TARGET",
        requires = "console_generator"
    )]
    pub console_ingest_target: Option<String>,
    /// Bearer token the console sends to a --console-generator started with
    /// `--auth-tokens-file`.
    #[arg(
        long,
        env = "PAYMENTS_CONSOLE_GENERATOR_TOKEN",
        hide_env_values = true,
        requires = "console_generator"
    )]
    pub console_generator_token: Option<String>,
    /// Where the console links a payment's trace id, `{trace_id}` replaced, e.g.
    /// `https://jaeger.example.com/trace/{trace_id}`.
    #[arg(long, env = "PAYMENTS_TRACE_LINK")]
    pub trace_link: Option<String>,
}
