//! The command line: every flag has an environment variable.

use clap::{Args, Parser, Subcommand, ValueEnum};
use payments_formats::Format;
use payments_generator::Shard;
use payments_generator::presets::{Preset, UnknownPreset};
use std::path::PathBuf;

/// The payments system: realistic synthetic B2B payments through gRPC services.
///
/// `paymentsctl up` runs everything in one process on embedded defaults; the other
/// commands talk to a running server (`--server`, default 127.0.0.1:50051).
#[derive(Debug, Parser)]
#[command(name = "paymentsctl", version, propagate_version = true)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run generator, ingest, processor and query in one process (Ctrl-C drains and exits).
    Up(UpArgs),
    /// Generate payments locally to stdout or a file (deterministic for a seed).
    Generate(GenerateArgs),
    /// Submit payments from files (seed JSON, seed documents, protobuf JSON lines).
    Submit(SubmitArgs),
    /// Show one stored payment as protobuf JSON.
    Get(GetArgs),
    /// List stored payments matching a filter.
    List(ListArgs),
    /// Counts and totals by type, currency and status.
    Stats(StatsArgs),
    /// Submit generated payments and wait until all are queryable; print throughput and latency.
    ///
    /// The requests are made and encoded before the clock starts, into a file in the system's
    /// temporary directory (about 1 KB a payment, deleted at the end), so that what is timed
    /// is the pipeline and not the client's making of payments.
    Bench(BenchArgs),
    /// Start a long run on the server's generator (rate, count or duration, bursts) and follow
    /// its progress; Ctrl-C stops it.
    Run(RunArgs),
    /// Inspect the dead-letter topic and replay fixed payments (Kafka bus).
    Dlq(DlqArgs),
    /// Measure the Kafka legs on one broker: rdkafka producing straight to a topic, ingest
    /// over gRPC into Kafka (and its ratio to the first), and the processor into a store.
    BenchKafka(BenchKafkaArgs),
    /// Measure how fast a store takes batches of upserts (for PostgreSQL, also against a
    /// binary COPY of the same rows).
    BenchSink(BenchSinkArgs),
    /// Compare what several stores hold (count, and each payment's revision and digest) and
    /// list every difference; exits 1 when any.
    Verify(VerifyArgs),
    /// HBase: create the payments tables (`hbase init`).
    Hbase(HbaseArgs),
}

impl Command {
    /// The log filter when `RUST_LOG` is not set: `warn` for the benchmarks, whose progress
    /// and figures are their output (the services they run inside them would otherwise log
    /// every call), `info` for the rest.
    pub fn default_log_filter(&self) -> &'static str {
        match self {
            Self::Bench(_) | Self::BenchKafka(_) | Self::BenchSink(_) => "warn",
            _ => "info",
        }
    }
}

/// Where the server is.
#[derive(Debug, Clone, Args)]
pub struct ServerArg {
    /// gRPC address of a running payments server.
    #[arg(long, env = "PAYMENTS_SERVER", default_value = "127.0.0.1:50051")]
    pub server: String,
    /// Bearer token sent with every call, for servers started with `--auth-tokens-file`.
    #[arg(long, env = "PAYMENTS_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// PEM CA certificate to verify a TLS server with (connects over TLS).
    #[arg(long, env = "PAYMENTS_TLS_CA")]
    pub tls_ca: Option<std::path::PathBuf>,
    /// PEM client certificate, for servers that require one (mutual TLS); needs --tls-key.
    #[arg(
        long,
        env = "PAYMENTS_CLIENT_TLS_CERT",
        requires = "tls_key",
        requires = "tls_ca"
    )]
    pub tls_cert: Option<std::path::PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "PAYMENTS_CLIENT_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,
    /// Deadline of each call in seconds (e.g. 2.5), sent to the server as `grpc-timeout`:
    /// the server stops the call and answers DEADLINE_EXCEEDED, saying how far it got.
    /// No deadline by default.
    #[arg(long, env = "PAYMENTS_TIMEOUT", value_parser = parse_timeout, value_name = "SECONDS")]
    pub timeout: Option<std::time::Duration>,
}

/// A positive number of seconds, as a duration.
fn parse_timeout(value: &str) -> anyhow::Result<std::time::Duration> {
    let seconds: f64 = value
        .parse()
        .map_err(|_| anyhow::anyhow!("{value:?} is not a number of seconds"))?;
    anyhow::ensure!(seconds > 0.0, "must be more than 0 seconds, got {value}");
    Ok(std::time::Duration::try_from_secs_f64(seconds)?)
}

impl ServerArg {
    /// A plaintext server at `server`, without a token.
    pub fn plain(server: &str) -> Self {
        Self {
            server: server.to_owned(),
            token: None,
            tls_ca: None,
            tls_cert: None,
            tls_key: None,
            timeout: None,
        }
    }
}

/// `paymentsctl up`.
#[derive(Debug, Clone, Args)]
pub struct UpArgs {
    /// gRPC address for generator, ingest and query (with health and reflection).
    #[arg(long, env = "PAYMENTS_GRPC_ADDR", default_value = "127.0.0.1:50051")]
    pub grpc_addr: String,
    /// HTTP address for the seed's routes, /health, /livez and /readyz.
    #[arg(long, env = "PAYMENTS_HTTP_ADDR", default_value = "127.0.0.1:8080")]
    pub http_addr: String,
    /// Bus URL: `file://PATH` (a durable log in the directory PATH, the default: what ingest
    /// acknowledged survives even `kill -9`, and the next `up` on it stores it; an earlier
    /// version's SQLite bus file at PATH is moved into a log when first opened),
    /// `memory://` (in-process and NOT durable: what is not stored when the process ends is
    /// lost), or `kafka://host:port[,host:port][?partitions=N&…]` (the payments and
    /// dead-letter topics are created when missing).
    #[arg(long, env = "PAYMENTS_BUS", default_value = crate::stack::DEFAULT_BUS)]
    pub bus: String,
    /// Store URL: `sqlite://PATH[?cache_mib=N]` (the writer's page cache, 32 MiB by default:
    /// raise it for stores past a few hundred thousand payments), `postgres://USER@HOST/DB`,
    /// `mongodb://HOST/DB` or `hbase://HOST:9090` (after `paymentsctl hbase init`).
    #[arg(long, env = "PAYMENTS_STORE", default_value = "sqlite://payments.db")]
    pub store: String,
    /// Run steady generated traffic at this many payments per second.
    #[arg(long, env = "PAYMENTS_RATE")]
    pub rate: Option<u64>,
    /// Seed of the traffic run (default: from the clock, so each run makes new payments).
    #[arg(long, env = "PAYMENTS_SEED")]
    pub seed: Option<u64>,
    /// Seconds the drain may take after Ctrl-C or SIGTERM.
    #[arg(long, env = "PAYMENTS_SHUTDOWN_GRACE", default_value_t = 30)]
    pub shutdown_grace: u64,
    /// Where the web console links a payment's trace id, `{trace_id}` replaced, e.g.
    /// `http://localhost:16686/trace/{trace_id}` (Jaeger).
    #[arg(long, env = "PAYMENTS_TRACE_LINK")]
    pub trace_link: Option<String>,
    /// An IngestService (`host:port`) traffic runs may name as their `ingest_target`, besides
    /// this process's own --grpc-addr (repeatable, or comma-separated); a run naming any other
    /// is refused.
    #[arg(long, env = "PAYMENTS_ALLOW_INGEST_TARGETS", value_delimiter = ',')]
    pub allow_ingest_target: Vec<String>,
}

fn parse_format(name: &str) -> Result<Format, payments_formats::FormatError> {
    Format::parse(name)
}

fn parse_preset(name: &str) -> Result<&'static Preset, UnknownPreset> {
    Preset::named(name)
}

/// `paymentsctl generate`.
#[derive(Debug, Clone, Args)]
pub struct GenerateArgs {
    /// How many payments.
    #[arg(long, default_value_t = 10)]
    pub count: u64,
    /// N payments of each rail instead of --count: all nine rails, or those --type names,
    /// written rail by rail, as the seed's generate_transactions.py did ("10 of each of 9
    /// types"; with --customers 1000 and --format seed-json, its very file).
    #[arg(long, value_name = "N", conflicts_with_all = ["count", "lifecycle", "scenario"])]
    pub per_type: Option<u64>,
    /// Random seed: the same seed gives the same payments.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Rails to draw from (ach, wire, rtp, check, sepa, card, direct-debit, standing-order, p2p); repeat or comma-separate.
    #[arg(long = "type", value_delimiter = ',')]
    pub types: Vec<String>,
    /// Output format: jsonl (protobuf JSON lines), seed-json (the seed's document), csv (the
    /// seed's flat columns), nacha (ACH payments as a NACHA file), pacs008 (wires and SEPA
    /// credit transfers as ISO 20022 pacs.008 XML). The bank messages of a lifecycle (with
    /// --lifecycle), linked to the files above of the same run: nacha-returns (return
    /// entries with addenda 99 naming the NACHA file's trace numbers), pacs002 (status
    /// reports of the pacs.008 payments), pacs004 (returns of its returned payments),
    /// camt053 (end-of-day statements per account, balances carried day to day).
    #[arg(long, default_value = "jsonl", value_parser = parse_format)]
    pub format: Format,
    /// Generate only part I of N of the run (`--shard 0/4`): the N parts are disjoint and
    /// together exactly the unsharded output.
    #[arg(long, default_value = "0/1")]
    pub shard: Shard,
    /// Threads that make (and encode) payments; 0 uses every core. The output is byte for
    /// byte the same whatever the number.
    #[arg(long, default_value_t = 1, conflicts_with_all = ["lifecycle", "per_type"])]
    pub jobs: usize,
    /// Emit every lifecycle revision of each payment (received, validated, pending,
    /// completed or returned with a reason code…) in simulated-time order, instead of one
    /// snapshot per payment.
    #[arg(long)]
    pub lifecycle: bool,
    /// Share of payments that belong to injected AML scenarios, labeled on each payment
    /// (0.01 = one payment in 100; at most 0.5; 0 disables). Ten typologies: fan-in,
    /// fan-out, scatter-gather, gather-scatter, cycle, random, bipartite, stack (AMLworld's
    /// eight), structuring and rapid pass-through. [default: 0.01, or the preset's]
    #[arg(long)]
    pub scenario_rate: Option<f64>,
    /// Settings named after a reference dataset: aml-hi (AMLworld HI: 1 laundering payment
    /// in 900) or aml-li (AMLworld LI: 1 in 1,900); both run a slow simulated clock (2 s
    /// between payments) with 10,000 customers, so a scheme spreads over up to 3 days.
    /// Flags given beside it win.
    #[arg(long, value_parser = parse_preset)]
    pub preset: Option<&'static Preset>,
    /// Corporate customers in the simulated population. [default: 2000, or the preset's]
    #[arg(long)]
    pub customers: Option<usize>,
    /// Simulated milliseconds between consecutive payments (the simulated clock's speed:
    /// 10 ms is 8.6 million payments a day). [default: 10, or the preset's]
    #[arg(long)]
    pub interval_ms: Option<f64>,
    /// A scenario file (TOML): seed, count, customers, rail mix, amount models, lifecycle
    /// rates, AML scenario rate; what it sets wins (example: deploy/scenarios/example.toml).
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// Also write the ground truth, one JSON line per injected scenario (id, typology,
    /// payment ids, participants and roles), to this file.
    #[arg(long)]
    pub truth: Option<PathBuf>,
    /// Write here instead of stdout (`-` is stdout, as for other tools). A file is handed to
    /// the disk 16 MiB at a time as it is written, and leaves the page cache once written, so
    /// gigabytes of output push nothing else out of it; on a disk slower than the generator
    /// the rest of the file goes through the cache the plain way.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write the --out file past the page cache (direct I/O in whole blocks), where its file
    /// system allows. Saves the kernel's copying into the cache (0.5–0.9 s of CPU a 2 GB file
    /// on the project's machine) on a disk quicker than the generator (about 1 GB/s with
    /// --jobs 2); slower on a slower disk, where the cache would have taken the output at
    /// memory speed and written it later.
    #[arg(long)]
    pub direct_io: bool,
    /// Simulated start time (RFC 3339 or YYYY-MM-DD; default 2025-01-06T09:00:00Z).
    #[arg(long)]
    pub start: Option<String>,
}

/// `paymentsctl submit`.
#[derive(Debug, Clone, Args)]
pub struct SubmitArgs {
    /// Files to submit (`-` reads standard input).
    #[arg(required = true)]
    pub files: Vec<String>,
    /// Accept content-rule failures (check digits, dates) and store them as warnings.
    #[arg(long)]
    pub lenient: bool,
    /// Server.
    #[command(flatten)]
    pub server: ServerArg,
}

/// Output formats of `get`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GetFormat {
    /// Protobuf JSON, pretty-printed.
    Json,
    /// The seed's JSON document of one payment, with the members the model does not hold
    /// back where the producer sent them.
    Seed,
}

/// `paymentsctl get`.
#[derive(Debug, Clone, Args)]
pub struct GetArgs {
    /// The payment id.
    pub payment_id: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GetFormat::Json)]
    pub format: GetFormat,
    /// Server.
    #[command(flatten)]
    pub server: ServerArg,
}

/// Filter flags shared by `list` and `stats`.
#[derive(Debug, Clone, Default, Args)]
pub struct FilterArgs {
    /// Created at or after (RFC 3339, or YYYY-MM-DD from its midnight UTC).
    #[arg(long)]
    pub from: Option<String>,
    /// Created before (RFC 3339), or through the end of YYYY-MM-DD (UTC).
    #[arg(long)]
    pub to: Option<String>,
    /// Rails (repeat or comma-separate).
    #[arg(long = "type", value_delimiter = ',')]
    pub types: Vec<String>,
    /// Originator (customer) party id.
    #[arg(long)]
    pub originator: Option<String>,
    /// Beneficiary party id.
    #[arg(long)]
    pub beneficiary: Option<String>,
    /// Statuses (repeat or comma-separate).
    #[arg(long = "status", value_delimiter = ',')]
    pub statuses: Vec<String>,
    /// Smallest amount, in major units of --currency (two decimals without it), e.g. 1000.50.
    #[arg(long)]
    pub min_amount: Option<String>,
    /// Largest amount, in major units of --currency (two decimals without it).
    #[arg(long)]
    pub max_amount: Option<String>,
    /// ISO 4217 currency of the amount.
    #[arg(long)]
    pub currency: Option<String>,
}

/// Output formats of `list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// Aligned columns.
    Table,
    /// One protobuf-JSON payment per line.
    Jsonl,
    /// The seed's `{"transactions": [...]}` document, as its generate_transactions.py
    /// saved it.
    SeedJson,
}

/// `paymentsctl list`.
#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Filter.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Payments per page (1-1000).
    #[arg(long, default_value_t = 50)]
    pub page_size: i32,
    /// Continue from a previous page's token.
    #[arg(long, default_value = "")]
    pub page_token: String,
    /// Follow every page to the end.
    #[arg(long)]
    pub all: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
    /// Server.
    #[command(flatten)]
    pub server: ServerArg,
}

/// `paymentsctl stats`.
#[derive(Debug, Clone, Args)]
pub struct StatsArgs {
    /// Filter.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Print the response as JSON.
    #[arg(long)]
    pub json: bool,
    /// Server.
    #[command(flatten)]
    pub server: ServerArg,
}

/// `paymentsctl run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Payments per second.
    #[arg(long, env = "PAYMENTS_RATE", default_value_t = 1_000)]
    pub rate: u64,
    /// Stop after this many payments (0: no limit).
    #[arg(long, default_value_t = 0)]
    pub count: u64,
    /// Stop after this many seconds (0: no limit).
    #[arg(long, default_value_t = 0)]
    pub duration: u32,
    /// Random seed (0: from the clock).
    #[arg(long, env = "PAYMENTS_SEED", default_value_t = 0)]
    pub seed: u64,
    /// Rails (repeat or comma-separate).
    #[arg(long = "type", value_delimiter = ',')]
    pub types: Vec<String>,
    /// Share of payments that belong to injected AML scenarios (0.01 = one in 100; at most
    /// 0.5).
    #[arg(long, default_value_t = 0.01)]
    pub scenario_rate: f64,
    /// IngestService to submit to (empty: the server's own, as in `paymentsctl up`).
    #[arg(long, default_value = "")]
    pub target: String,
    /// Burst every this many seconds (with --burst-seconds and --burst-factor).
    #[arg(long, default_value_t = 0)]
    pub burst_every: u32,
    /// Length of each burst in seconds.
    #[arg(long, default_value_t = 0)]
    pub burst_seconds: u32,
    /// Rate multiplier during a burst.
    #[arg(long, default_value_t = 0.0)]
    pub burst_factor: f64,
    /// Server whose GeneratorService runs it.
    #[command(flatten)]
    pub server: ServerArg,
}

/// `paymentsctl bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Payments to submit.
    #[arg(long, default_value_t = 100_000)]
    pub count: u64,
    /// Concurrent submission streams, each on a connection of its own.
    #[arg(long, default_value_t = 2)]
    pub streams: usize,
    /// Payments per submission stream call.
    #[arg(long, default_value_t = 5_000)]
    pub chunk: usize,
    /// Most payments one message of a stream carries, as our clients send them (1 sends
    /// each in a message of its own).
    #[arg(long, default_value_t = payments_ingest::PAYMENTS_PER_MESSAGE)]
    pub per_message: usize,
    /// Benchmark this running server; without it, an embedded stack (the default file bus
    /// and a SQLite store, both fresh temporary files) is started in this process on free
    /// ports.
    #[arg(long, env = "PAYMENTS_SERVER")]
    pub server: Option<String>,
    /// The embedded stack's bus instead of a fresh file bus (`memory://` to measure without
    /// durability); not with --server.
    #[arg(long, conflicts_with = "server")]
    pub bus: Option<String>,
    /// Seed of the generated payments (default: from the clock).
    #[arg(long)]
    pub seed: Option<u64>,
}

/// `paymentsctl dlq`.
#[derive(Debug, Clone, Args)]
pub struct DlqArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: DlqCommand,
}

/// `paymentsctl dlq` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum DlqCommand {
    /// Show every dead letter: where it is, the stage and reason, where it came from.
    List(DlqListArgs),
    /// Validate dead letters (or fixed payments from a file) again and send those that
    /// pass back to the payments topic; the rest are listed with what still fails.
    Replay(DlqReplayArgs),
}

/// The bus and dead-letter topic `dlq` reads.
#[derive(Debug, Clone, Args)]
pub struct DlqBusArgs {
    /// Bus URL of the Kafka cluster.
    #[arg(long, env = "PAYMENTS_BUS", default_value = "kafka://127.0.0.1:9092")]
    pub bus: String,
    /// The dead-letter topic.
    #[arg(long, env = "PAYMENTS_DEAD_LETTER_TOPIC", default_value = payments_bus::DEAD_LETTER_TOPIC)]
    pub topic: String,
}

/// `paymentsctl dlq list`.
#[derive(Debug, Clone, Args)]
pub struct DlqListArgs {
    /// Where the dead letters are.
    #[command(flatten)]
    pub bus: DlqBusArgs,
    /// One JSON object per line (with the payment as protobuf JSON, ready to fix and
    /// replay with `dlq replay --file`).
    #[arg(long)]
    pub json: bool,
    /// Show at most this many.
    #[arg(long, default_value_t = 10_000)]
    pub limit: usize,
}

/// `paymentsctl dlq replay`.
#[derive(Debug, Clone, Args)]
pub struct DlqReplayArgs {
    /// Where the dead letters are.
    #[command(flatten)]
    pub bus: DlqBusArgs,
    /// Replay the payments in this file instead (e.g. `dlq list --json` output, fixed;
    /// or any file `submit` reads).
    #[arg(long)]
    pub file: Option<String>,
    /// Only these dead letters, as PARTITION/OFFSET (repeat or comma-separate).
    #[arg(long = "offset", value_delimiter = ',')]
    pub offsets: Vec<String>,
    /// Accept content-rule failures (check digits) as warnings, as `submit --lenient` does.
    #[arg(long)]
    pub lenient: bool,
    /// Topic to send the replayed payments to.
    #[arg(long, default_value = payments_bus::PAYMENTS_TOPIC)]
    pub to: String,
    /// Say what would be replayed without sending anything.
    #[arg(long)]
    pub dry_run: bool,
}

/// `paymentsctl bench-kafka`.
#[derive(Debug, Clone, Args)]
pub struct BenchKafkaArgs {
    /// The Kafka cluster (fresh topics named bench-<run>-… are created on it, and deleted
    /// after the run unless --keep-topics).
    #[arg(long, env = "PAYMENTS_BUS", default_value = "kafka://127.0.0.1:9092")]
    pub bus: String,
    /// Payments per leg.
    #[arg(long, default_value_t = 200_000)]
    pub count: u64,
    /// Concurrent submission streams in the ingest leg, each on a connection of its own.
    #[arg(long, default_value_t = 2)]
    pub streams: usize,
    /// Payments per submission stream call in the ingest leg.
    #[arg(long, default_value_t = 10_000)]
    pub chunk: usize,
    /// Most payments one message of a stream carries in the ingest leg, as our clients send
    /// them (1 sends each in a message of its own).
    #[arg(long, default_value_t = payments_ingest::PAYMENTS_PER_MESSAGE)]
    pub per_message: usize,
    /// Rounds of the produce and ingest legs, run in turn; each figure printed is the
    /// median of its rounds.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..))]
    pub rounds: u16,
    /// Sink the process leg writes to, any `--sink` the processor takes (default: a fresh
    /// temporary SQLite file).
    #[arg(long)]
    pub sink: Option<String>,
    /// Processor batch size in the process leg.
    #[arg(long, default_value_t = 2_000)]
    pub batch_size: usize,
    /// Most records one write takes in the process leg, as the processor's
    /// `--max-batch-size`.
    #[arg(long, default_value_t = payments_processor::DEFAULT_MAX_BATCH_SIZE)]
    pub max_batch_size: usize,
    /// Keep the run's topics on the cluster afterwards (deleted by default: each holds
    /// --count records, and repeated runs would fill the broker's disk).
    #[arg(long)]
    pub keep_topics: bool,
}

/// `paymentsctl verify`.
#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    /// A store to compare (repeat or comma-separate; at least two), e.g.
    /// `--store sqlite://payments.db --store postgres://postgres@127.0.0.1/payments`.
    #[arg(
        long = "store",
        env = "PAYMENTS_VERIFY_STORES",
        value_delimiter = ',',
        required = true
    )]
    pub stores: Vec<String>,
    /// Print at most this many differences (all are counted).
    #[arg(long, default_value_t = 100)]
    pub max_differences: u64,
}

/// `paymentsctl hbase`.
#[derive(Debug, Clone, Args)]
pub struct HbaseArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: HbaseCommand,
}

/// `paymentsctl hbase` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum HbaseCommand {
    /// Create table `payments` (family `cf`, as the seed's create_table.hbase) and its id
    /// index `payments_by_id`, unless they exist.
    Init(HbaseInitArgs),
}

/// `paymentsctl hbase init`.
#[derive(Debug, Clone, Args)]
pub struct HbaseInitArgs {
    /// The HBase Thrift gateway, `hbase://HOST[:PORT][?table=NAME]` (port 9090 and table
    /// `payments` by default).
    #[arg(long, env = "PAYMENTS_HBASE", default_value = "hbase://127.0.0.1:9090")]
    pub hbase: String,
}

/// `paymentsctl bench-sink`.
#[derive(Debug, Clone, Args)]
pub struct BenchSinkArgs {
    /// The store to write to (use a fresh one: the payments are new, but its size matters).
    #[arg(long, env = "PAYMENTS_SINK")]
    pub sink: String,
    /// Payments to write.
    #[arg(long, default_value_t = 100_000)]
    pub count: u64,
    /// Payments per upsert batch (the processor's default batch size).
    #[arg(long, default_value_t = 2_000)]
    pub batch: usize,
    /// Give every payment a random id, as UETRs (UUID v4) and the seed's own ids are, in place
    /// of the generator's sequential ones. A store's id index then takes every payment at a
    /// place of its own, rather than a batch at one place: the figure for traffic that does
    /// not number its payments in sequence.
    #[arg(long)]
    pub random_ids: bool,
}
