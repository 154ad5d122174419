//! The whole system in one process (`paymentsctl up`): every role on one app, sharing one
//! bus and one store. The generator submits to the ingest beside it; the console reads the
//! generator's runs and the bus's dead letters.

use anyhow::Context;
use payments_bus::Bus;
use payments_console::{
    Console, DeadLetterSource, MetricsSource, PipelineSampler, TrafficRuns, console_routes,
};
use payments_core::ValidationMode;
use payments_generator::runs::RunRegistry;
use payments_generator::{GeneratorRole, TrafficCounters};
use payments_ingest::{AllowedTargets, IngestConnection, IngestRole, RecordKey};
use payments_processor::{NamedSink, ProcessorConfig, ProcessorCounters, ProcessorRole};
use payments_query::{AccountView, QueryRole};
use payments_runtime::{App, AppConfig, RunningApp, Shutdown};
use payments_store::Store;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// The stack's bus unless told otherwise: a durable log in the working directory, so that
/// what ingest acknowledged survives even a `kill -9`.
pub const DEFAULT_BUS: &str = "file://payments-bus.db";

/// The processor's consumer group prefix: its one sink reads in `payments-processor.<scheme>`.
const PROCESSOR_GROUP: &str = "payments-processor";

/// How to run the stack.
#[derive(Debug, Clone)]
pub struct StackConfig {
    /// gRPC listen address (`127.0.0.1:0` picks a free port).
    pub grpc_addr: String,
    /// HTTP listen address.
    pub http_addr: String,
    /// Bus URL.
    pub bus: String,
    /// Store URL.
    pub store: String,
    /// Steady traffic in payments per second, if any.
    pub rate: Option<u64>,
    /// Seed of the traffic run.
    pub seed: u64,
    /// Processor validation mode.
    pub validation: ValidationMode,
    /// Processor batch size.
    pub batch_size: usize,
    /// Processor linger.
    pub linger: Duration,
    /// Longest the drain may take after shutdown begins.
    pub shutdown_grace: Duration,
    /// Customers in generated populations.
    pub customers: usize,
    /// URL template from a trace id to its trace, for the console (`{trace_id}`).
    pub trace_link: Option<String>,
    /// IngestServices runs may name as their target, besides this stack's own gRPC address.
    pub allow_ingest_targets: Vec<String>,
}

impl Default for StackConfig {
    fn default() -> Self {
        Self {
            grpc_addr: "127.0.0.1:50051".into(),
            http_addr: "127.0.0.1:8080".into(),
            bus: DEFAULT_BUS.into(),
            store: "sqlite://payments.db".into(),
            rate: None,
            seed: 0,
            validation: ValidationMode::Strict,
            batch_size: 2_000,
            linger: Duration::from_millis(20),
            shutdown_grace: Duration::from_secs(30),
            customers: 2_000,
            trace_link: None,
            allow_ingest_targets: Vec::new(),
        }
    }
}

/// Says how many acknowledged payments the processor has not stored, when any: kept on a
/// durable bus for the next `up` on it, or lost with a `memory://` bus.
async fn report_left_behind(bus: &Bus, group: &str) {
    let left = match bus.uncommitted(payments_bus::PAYMENTS_TOPIC, group).await {
        Ok(Some(left)) if left > 0 => left,
        Ok(_) => return,
        Err(error) => {
            tracing::warn!(error = %error, "cannot count the payments left on the bus");
            return;
        }
    };
    let where_ = bus.describe();
    if bus.durable() {
        tracing::warn!(left, bus = %where_, "acknowledged payments not stored yet stay on the bus; the next up on it stores them");
        eprintln!(
            "{left} acknowledged payments are not stored yet: they stay in {where_}, and the next \
             `paymentsctl up` on it stores them"
        );
    } else {
        tracing::error!(left, bus = %where_, "acknowledged payments not stored are lost with the memory bus");
        eprintln!(
            "{left} acknowledged payments were not stored and are lost: {where_} is not durable \
             (the default bus, {DEFAULT_BUS}, keeps them)"
        );
    }
}

/// A running stack.
pub struct RunningStack {
    /// Where gRPC listens.
    pub grpc_addr: SocketAddr,
    /// Where HTTP listens.
    pub http_addr: SocketAddr,
    /// The store, as the query service reads it.
    pub store: Arc<dyn Store>,
    /// Processor counters.
    pub processor: Arc<ProcessorCounters>,
    /// Traffic counters (zero without `--rate`).
    pub traffic: Arc<TrafficCounters>,
    bus: Bus,
    /// The consumer group of the processor's sink.
    processor_group: String,
    runs: Arc<RunRegistry>,
    app: RunningApp,
}

impl RunningStack {
    /// Starts every role and returns once all listen.
    pub async fn start(config: StackConfig) -> anyhow::Result<Self> {
        let topic = payments_bus::PAYMENTS_TOPIC;
        let bus = Bus::connect(&config.bus)
            .await
            .with_context(|| format!("connecting to bus {}", config.bus))?;
        bus.ensure_topics(&[topic, payments_bus::DEAD_LETTER_TOPIC])
            .await
            .context("creating the bus topics")?;
        let store = payments_store::open(&config.store)
            .await
            .with_context(|| format!("opening store {}", config.store))?;

        let ingest = IngestRole::new(bus.clone(), topic, RecordKey::PaymentId);
        let mut generator = GeneratorRole::new(
            config.customers,
            Some(ingest.local()),
            IngestConnection {
                allowed: AllowedTargets::new(&config.allow_ingest_targets).with(&config.grpc_addr),
                ..Default::default()
            },
        );
        if let Some(rate) = config.rate.filter(|r| *r > 0) {
            generator = generator.with_steady_traffic(rate, config.seed, config.customers);
        }
        let sink = NamedSink::by_scheme(store.clone());
        let processor_group = sink.group(PROCESSOR_GROUP);
        let processor = ProcessorRole::new(
            bus.clone(),
            topic,
            PROCESSOR_GROUP,
            None,
            vec![sink],
            ProcessorConfig {
                batch_size: config.batch_size,
                linger: config.linger,
                validation: config.validation,
                // Ingest drains before the processor here, so the topic's end is final.
                drain_to_end: true,
                ..Default::default()
            },
        )?;
        let query = QueryRole::new(store.clone(), AccountView::Full);
        let runs = generator.runs();
        let console = Console {
            pipeline: PipelineSampler::start(MetricsSource::Local, query.console_stop()),
            store: store.clone(),
            dead_letters: Some(DeadLetterSource {
                bus: bus.clone(),
                topic: payments_bus::DEAD_LETTER_TOPIC.to_owned(),
            }),
            runs: Some(runs.clone() as Arc<dyn TrafficRuns>),
            trace_link: config.trace_link.clone(),
        };
        let query = query.with_console(console_routes(console));
        let (processor_counters, traffic) = (processor.counters(), generator.traffic_counters());
        let app = AppConfig::new(
            "payments",
            &config.grpc_addr,
            &config.http_addr,
            config.shutdown_grace,
        );
        let app = App::builder(app)
            .with_role(generator)
            .with_role(ingest)
            .with_role(query)
            .with_role(processor)
            .start()
            .await?;
        Ok(Self {
            grpc_addr: app.grpc_addr,
            http_addr: app.http_addr,
            store,
            processor: processor_counters,
            traffic,
            bus,
            processor_group,
            runs,
            app,
        })
    }

    /// The generator's long runs (StartRun).
    pub fn runs(&self) -> Arc<RunRegistry> {
        self.runs.clone()
    }

    /// Cancelled when a part of the stack stopped on its own (the processor failed).
    pub fn failure(&self) -> Shutdown {
        self.app.drain().failure_token()
    }

    /// The bus, for display.
    pub fn bus(&self) -> String {
        self.bus.describe()
    }

    /// Drains in order: traffic stops (its batch in flight completes), servers stop taking
    /// calls and finish those in flight, then the processor stores everything on the bus.
    /// Fails if the drain takes longer than the grace period or a part failed; either way,
    /// says what acknowledged payments were left unstored, and where. A drained stack then
    /// closes its bus and store: a file bus's log is flushed to the disk, and a SQLite store's
    /// payments end up in its file alone, with no log beside it.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let drained = self.app.shutdown().await;
        report_left_behind(&self.bus, &self.processor_group).await;
        drained?;
        // A file bus's records are in its log already; closing it flushes them to the disk.
        if let Err(error) = self.bus.close().await {
            tracing::warn!(error = %error, "closing the bus failed; its records stay in its log");
        }
        if let Err(error) = self.store.close().await {
            tracing::warn!(error = %error, "closing the store failed; its log stays beside it");
        }
        Ok(())
    }
}
