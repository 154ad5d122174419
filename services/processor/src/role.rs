//! [`ProcessorRole`]: the processor on an app. It drains last: once intake has stopped it
//! stores its batch, commits its offsets and returns; past the grace period a sink that
//! keeps failing is given up on (its batch stays uncommitted and is redelivered).

use crate::config::ProcessorArgs;
use crate::sink_name::{NamedSink, SinkNameError, name_sinks};
use crate::{Processor, ProcessorConfig, ProcessorCounters, publish_metrics};
use payments_bus::Bus;
use payments_core::service_error::with_causes;
use payments_runtime::http::{NotReady, readiness};
use payments_runtime::{AppConfig, AppError, Mount, Role, ServeFlags, Stage};
use std::sync::Arc;
use std::time::Duration;

/// Why the processor role could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ProcessorRoleError {
    /// The bus could not be reached, or its consumer not made.
    #[error("connecting to bus {url}")]
    Bus {
        /// The bus URL.
        url: String,
        /// What the bus answered.
        #[source]
        source: payments_bus::Error,
    },
    /// A `--sink` value's name is unusable, or two sinks share one.
    #[error(transparent)]
    SinkName(#[from] SinkNameError),
    /// A sink could not be opened.
    #[error("opening sink {url}")]
    Sink {
        /// The sink URL (credentials as given).
        url: String,
        /// What the store answered.
        #[source]
        source: payments_store::Error,
    },
}

/// The processor role.
pub struct ProcessorRole {
    processor: Processor,
    bus: Bus,
    sinks: Vec<NamedSink>,
}

impl ProcessorRole {
    /// A processor of `topic` on `bus` writing each of `sinks` through a pipeline in
    /// consumer group `<group>.<sink name>` (static member `instance_id` when given).
    pub fn new(
        bus: Bus,
        topic: &str,
        group: &str,
        instance_id: Option<&str>,
        sinks: Vec<NamedSink>,
        config: ProcessorConfig,
    ) -> Result<Self, payments_bus::Error> {
        let processor = Processor::on_bus(&bus, topic, group, instance_id, sinks.clone(), config)?;
        Ok(Self {
            processor,
            bus,
            sinks,
        })
    }

    /// The processor as the `payments-processor` flags describe, on a networked bus.
    pub async fn connect(args: &ProcessorArgs) -> Result<Self, ProcessorRoleError> {
        let bus_error = |source| ProcessorRoleError::Bus {
            url: args.bus.clone(),
            source,
        };
        let topics = [args.topic.as_str(), args.dead_letter_topic.as_str()];
        let bus = Bus::connect_networked(&args.bus, "payments-processor", &topics)
            .await
            .map_err(bus_error)?;
        let mut sinks = Vec::new();
        for (name, url) in name_sinks(&args.sinks)? {
            let sink = payments_store::open_sink(&url)
                .await
                .map_err(|source| ProcessorRoleError::Sink { url, source })?;
            sinks.push(NamedSink { name, sink });
        }
        let config = ProcessorConfig {
            batch_size: args.batch_size.max(1),
            max_batch_size: args.max_batch_size.max(args.batch_size).max(1),
            linger: Duration::from_millis(args.linger_ms),
            validation: args.validation.into(),
            dead_letter_topic: args.dead_letter_topic.clone(),
            // Producers elsewhere keep writing: the group's next member takes the rest.
            drain_to_end: false,
        };
        let (group, instance) = (&args.group, args.instance_id.as_deref());
        Self::new(bus, &args.topic, group, instance, sinks, config).map_err(bus_error)
    }

    /// Its live counters.
    pub fn counters(&self) -> Arc<ProcessorCounters> {
        self.processor.counters()
    }
}

impl Role for ProcessorRole {
    fn name(&self) -> &'static str {
        "processor"
    }

    fn mount(self: Box<Self>, mount: &mut Mount) {
        let Self {
            processor,
            bus,
            sinks,
        } = *self;
        publish_metrics(processor.counters());
        let drain = mount.drain();
        let run = processor.run(drain.token(Stage::Pipeline), drain.abort_token());
        let closing = sinks.clone();
        let run = async move {
            run.await?;
            // Drained: each sink leaves what it stored where a copy of its files finds it.
            for named in &closing {
                if let Err(error) = named.sink.close().await {
                    tracing::warn!(sink = %named.name, error = %with_causes(&error), "closing the sink failed");
                }
            }
            Ok::<(), crate::ProcessorError>(())
        };
        drain.spawn(Stage::Pipeline, "processor", run);
        mount.add_readiness(readiness(move || {
            let (bus, sinks) = (bus.clone(), sinks.clone());
            async move {
                bus.check_ready()
                    .await
                    .map_err(|e| NotReady::failed("bus", e))?;
                for named in &sinks {
                    let ping = named.sink.ping().await;
                    ping.map_err(|e| NotReady::failed(format!("sink {}", named.name), e))?;
                }
                Ok(())
            }
        }));
    }
}

impl ServeFlags for ProcessorArgs {
    fn app_config(&self) -> Result<AppConfig, AppError> {
        let grace = Duration::from_secs(self.shutdown_grace);
        AppConfig::new(
            "payments-processor",
            &self.grpc_addr,
            &self.http_addr,
            grace,
        )
        .with_tls_flags(&self.tls)
        .map_err(AppError::from)
    }
}
