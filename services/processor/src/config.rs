//! Command-line flags of `payments-processor` (each with an environment variable).

use clap::Parser;

/// Consumes payments from the bus and upserts them into every sink.
#[derive(Debug, Parser)]
#[command(name = "payments-processor", version)]
pub struct ProcessorArgs {
    /// Address to serve gRPC health and reflection on.
    #[arg(long, env = "PAYMENTS_GRPC_ADDR", default_value = "127.0.0.1:50055")]
    pub grpc_addr: String,
    /// Address to serve /livez and /readyz on.
    #[arg(long, env = "PAYMENTS_HTTP_ADDR", default_value = "127.0.0.1:8085")]
    pub http_addr: String,
    /// Bus URL of a networked bus (required), e.g. `kafka://127.0.0.1:9092?partitions=6`.
    /// In production add `replication=3&min_insync_replicas=2`; the default (1) is for a
    /// single development broker.
    /// `memory://` lives inside one process and works only in `paymentsctl up`.
    #[arg(long, env = "PAYMENTS_BUS")]
    pub bus: String,
    /// Topic to consume.
    #[arg(long, env = "PAYMENTS_TOPIC", default_value = payments_bus::PAYMENTS_TOPIC)]
    pub topic: String,
    /// Topic undecodable and invalid records are sent to, with headers saying why.
    #[arg(long, env = "PAYMENTS_DEAD_LETTER_TOPIC", default_value = payments_bus::DEAD_LETTER_TOPIC)]
    pub dead_letter_topic: String,
    /// Consumer group prefix: each sink reads in group `<group>.<sink name>`, and
    /// processors with the same groups share the topic's partitions.
    #[arg(long, env = "PAYMENTS_GROUP", default_value = "payments-processor")]
    pub group: String,
    /// Static group membership (Kafka `group.instance.id`), e.g. the pod name of a
    /// StatefulSet: restarted with the same id, the processor takes back its partitions at
    /// once. Unique per processor; unset, each start is a new member.
    #[arg(long, env = "PAYMENTS_INSTANCE_ID")]
    pub instance_id: Option<String>,
    /// Sink to write to, `URL` or `NAME=URL`: `sqlite://PATH[?cache_mib=N]` (the writer's
    /// page cache, 32 MiB by default: raise it for stores past a few hundred thousand
    /// payments), `postgres://USER@HOST/DB`,
    /// `mongodb://HOST/DB`, `hbase://HOST:9090` (after `paymentsctl hbase init`) or
    /// `redis://HOST` (cache and live aggregates); repeat (or comma-separate) to fan out to
    /// several. Each sink has a pipeline of its own, in consumer group `<group>.<NAME>`
    /// (NAME defaults to the URL's scheme): a sink that is slow or away never holds back the
    /// others, and catches up from its own offsets when it is back.
    #[arg(
        long = "sink",
        env = "PAYMENTS_SINKS",
        value_delimiter = ',',
        default_value = "sqlite://payments.db"
    )]
    pub sinks: Vec<String>,
    /// Most records per batch.
    #[arg(long, env = "PAYMENTS_BATCH_SIZE", default_value_t = 2_000)]
    pub batch_size: usize,
    /// Most records one write takes: while a sink is still writing, what arrives joins its
    /// next batch up to this many (never fewer than --batch-size). Larger is faster for a
    /// sink that sets the pace and holds more in memory: two batches this large at most, per
    /// sink. A SQLite sink stored about 1.3x as fast with 10,000 (and ~100 MiB more resident).
    #[arg(long, env = "PAYMENTS_MAX_BATCH_SIZE", default_value_t = crate::processor::DEFAULT_MAX_BATCH_SIZE)]
    pub max_batch_size: usize,
    /// Longest a record waits for its batch to fill, in milliseconds.
    #[arg(long, env = "PAYMENTS_LINGER_MS", default_value_t = 20)]
    pub linger_ms: u64,
    /// Validation mode for records (ingest's lenient acceptances stay lenient).
    #[arg(long, env = "PAYMENTS_VALIDATION", value_enum, default_value_t = Validation::Strict)]
    pub validation: Validation,
    /// Seconds to finish in-flight work after SIGTERM.
    #[arg(long, env = "PAYMENTS_SHUTDOWN_GRACE", default_value_t = 30)]
    pub shutdown_grace: u64,
    /// TLS for the gRPC port.
    #[command(flatten)]
    pub tls: payments_runtime::tls::ServerTlsArgs,
}

/// `--validation` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Validation {
    /// Content-rule failures go to the dead-letter topic.
    Strict,
    /// Content-rule failures are stored as warnings.
    Lenient,
}

impl From<Validation> for payments_core::ValidationMode {
    fn from(v: Validation) -> Self {
        match v {
            Validation::Strict => Self::Strict,
            Validation::Lenient => Self::Lenient,
        }
    }
}
