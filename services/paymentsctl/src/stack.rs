//! The whole system in one process: generator, ingest and query on one gRPC port, the
//! processor consuming an in-process bus, the seed's routes and probes on one HTTP port.

use anyhow::Context;
use payments_bus::Bus;
use payments_console::{
    Console, DeadLetterSource, MetricsSource, PipelineSampler, TrafficRuns, console_routes,
};
use payments_core::ValidationMode;
use payments_generator::runs::RunRegistry;
use payments_generator::{
    GeneratorConfig, GeneratorGrpc, IngestorSink, PaymentGenerator, TrafficCounters, TrafficRun,
};
use payments_ingest::{IngestGrpc, Ingestor, RecordKey};
use payments_processor::{Processor, ProcessorConfig, ProcessorCounters};
use payments_query::{AccountView, QueryGrpc, http_routes};
use payments_runtime::{GrpcRoutes, Shutdown, grpc::bind, http};
use payments_store::Store;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

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
}

impl Default for StackConfig {
    fn default() -> Self {
        Self {
            grpc_addr: "127.0.0.1:50051".into(),
            http_addr: "127.0.0.1:8080".into(),
            bus: "memory://".into(),
            store: "sqlite://payments.db".into(),
            rate: None,
            seed: 0,
            validation: ValidationMode::Strict,
            batch_size: 2_000,
            linger: Duration::from_millis(20),
            shutdown_grace: Duration::from_secs(30),
            customers: 2_000,
            trace_link: None,
        }
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
    bus: String,
    stop_traffic: Shutdown,
    stop_servers: Shutdown,
    drain: Shutdown,
    abort: Shutdown,
    grace: Duration,
    traffic_task: Option<JoinHandle<()>>,
    server_tasks: Vec<JoinHandle<anyhow::Result<()>>>,
    processor_task: JoinHandle<Result<(), payments_processor::ProcessorError>>,
    failed: Shutdown,
    runs: Arc<RunRegistry>,
}

impl RunningStack {
    /// Starts every part and returns once all listen.
    pub async fn start(config: StackConfig) -> anyhow::Result<Self> {
        let bus = Bus::connect(&config.bus)
            .await
            .with_context(|| format!("connecting to bus {}", config.bus))?;
        bus.ensure_topics(&[
            payments_bus::PAYMENTS_TOPIC,
            payments_bus::DEAD_LETTER_TOPIC,
        ])
        .await
        .context("creating the bus topics")?;
        let store = payments_store::open(&config.store)
            .await
            .with_context(|| format!("opening store {}", config.store))?;
        let (grpc_listener, grpc_addr) = bind(&config.grpc_addr).await?;
        let (http_listener, http_addr) = bind(&config.http_addr).await?;

        let processor = Processor::new(
            bus.consumer(payments_bus::PAYMENTS_TOPIC, "payments-processor")?,
            vec![store.clone()],
            bus.producer(),
            ProcessorConfig {
                batch_size: config.batch_size,
                linger: config.linger,
                validation: config.validation,
                ..Default::default()
            },
        );
        let processor_counters = processor.counters();
        payments_processor::publish_metrics(processor_counters.clone());
        let (drain, abort) = (Shutdown::new(), Shutdown::new());
        // A processor that stops early (a bus error) makes the stack unready and asks `up`
        // to shut down, rather than leaving ingest to acknowledge into a bus nobody reads.
        let failed = Shutdown::new();
        let processor_failed = failed.clone();
        let processor_run = processor.run(drain.clone(), abort.clone());
        let processor_task = tokio::spawn(async move {
            let result = processor_run.await;
            if let Err(error) = &result {
                tracing::error!(%error, "processor stopped");
                processor_failed.cancel();
            }
            result
        });

        let ingestor = Ingestor::new(
            bus.producer(),
            payments_bus::PAYMENTS_TOPIC,
            RecordKey::PaymentId,
        )
        .with_encoding(bus.value_encoding());
        // Traffic runs (`--rate` and StartRun) stop first when the stack drains.
        let stop_traffic = Shutdown::new();
        let generator = GeneratorGrpc::new(
            config.customers,
            Some(Arc::new(IngestorSink(ingestor.clone()))),
            payments_generator::ingest_client::IngestClient::default(),
            stop_traffic.clone(),
        );
        let runs = generator.runs();
        let routes = GrpcRoutes::new()
            .add_service(generator.into_server())
            .add_service(IngestGrpc::new(ingestor.clone()).into_server())
            .add_service(QueryGrpc::new(store.clone()).into_server());
        let (ready_store, ready_failed) = (store.clone(), failed.clone());
        let ready = http::readiness(move || {
            let (store, failed) = (ready_store.clone(), ready_failed.clone());
            async move {
                if failed.is_cancelled() {
                    return Err("the processor stopped".to_owned());
                }
                store.ping().await.map_err(|e| e.to_string())
            }
        });
        let stop_servers = Shutdown::new();
        let console = Console {
            pipeline: PipelineSampler::start(MetricsSource::Local, stop_servers.clone()),
            store: store.clone(),
            dead_letters: Some(DeadLetterSource {
                bus: bus.clone(),
                topic: payments_bus::DEAD_LETTER_TOPIC.to_owned(),
            }),
            runs: Some(runs.clone() as Arc<dyn TrafficRuns>),
            trace_link: config.trace_link.clone(),
        };
        let router = http_routes(store.clone(), AccountView::Full)
            .merge(console_routes(console))
            .merge(http::probe_routes(ready, stop_servers.clone()));
        let grpc_stop = stop_servers.clone();
        let http_stop = stop_servers.clone();
        let server_tasks = vec![
            tokio::spawn(async move {
                routes
                    .serve(grpc_listener, grpc_stop)
                    .await
                    .context("grpc server")
            }),
            tokio::spawn(async move {
                http::serve(http_listener, router, http_stop)
                    .await
                    .context("http server")
            }),
        ];

        let traffic = Arc::new(TrafficCounters::default());
        let traffic_task = config.rate.filter(|r| *r > 0).map(|rate| {
            let generator = PaymentGenerator::new(GeneratorConfig {
                seed: config.seed,
                customers: config.customers,
                ..Default::default()
            });
            let run = TrafficRun {
                rate,
                count: None,
                duration: None,
                burst: None,
                generator,
            };
            tokio::spawn(run.run(
                Arc::new(IngestorSink(ingestor)),
                traffic.clone(),
                stop_traffic.clone(),
            ))
        });
        Ok(Self {
            grpc_addr,
            http_addr,
            store,
            processor: processor_counters,
            traffic,
            bus: bus.describe(),
            stop_traffic,
            stop_servers,
            drain,
            abort,
            grace: config.shutdown_grace,
            traffic_task,
            server_tasks,
            processor_task,
            failed,
            runs,
        })
    }

    /// The generator's long runs (StartRun).
    pub fn runs(&self) -> Arc<RunRegistry> {
        self.runs.clone()
    }

    /// Cancelled when a part of the stack stopped on its own (the processor failed).
    pub fn failure(&self) -> Shutdown {
        self.failed.clone()
    }

    /// The bus, for display.
    pub fn bus(&self) -> &str {
        &self.bus
    }

    /// Drains in order: traffic stops (its batch in flight completes), servers stop taking
    /// calls and finish those in flight, then the processor stores everything on the bus.
    /// Fails if the drain takes longer than the grace period or a part failed.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let abort = self.abort.clone();
        let grace = self.grace;
        let drain = async move {
            self.stop_traffic.cancel();
            if let Some(task) = self.traffic_task {
                task.await.context("traffic task")?;
            }
            self.runs.wait_stopped().await;
            self.stop_servers.cancel();
            for task in self.server_tasks {
                task.await.context("server task")??;
            }
            self.drain.cancel();
            self.processor_task.await.context("processor task")??;
            anyhow::Ok(())
        };
        match tokio::time::timeout(grace, drain).await {
            Ok(result) => result,
            Err(_) => {
                abort.cancel();
                anyhow::bail!(
                    "drain did not finish within the {}s grace period",
                    grace.as_secs()
                )
            }
        }
    }
}
