//! [`Processor`]: one topic consumed into several sinks, each through a
//! [`SinkPipeline`] of its own.

use crate::counters::{ProcessorCounters, SinkCounters};
use crate::pipeline::SinkPipeline;
use crate::sink_name::NamedSink;
use crate::sink_writer::SinkWriter;
use payments_bus::{Bus, Consumer, Producer};
use payments_core::ValidationMode;
use payments_core::service_error::with_causes;
use payments_runtime::Shutdown;
use std::sync::Arc;
use std::time::Duration;

/// [`ProcessorConfig::max_batch_size`] unless set: larger batches are faster, and cost
/// memory. `paymentsctl bench-sink --sink sqlite://… --count 200000` (one transaction a
/// batch): batches of 2,000 took 60k/s, of 10,000 88k/s, of 20,000 101k/s. `paymentsctl bench
/// --count 200000` (embedded: file bus, SQLite) with at most 2,000: 23–24k payments/s, peak
/// resident memory 193–199 MiB; 4,000: 25–28k/s, 236–249 MiB; 8,000: 27–28k/s, 267–280
/// MiB; 10,000: 29–34k/s, 310–365 MiB. Later, with the same code, 4,000 peaked at 236–261 MiB
/// (over the 256 MiB budget once in seven runs) and 3,000 at 212–230 MiB, both 27–31k/s; once
/// sink writes started without waiting (`SinkPipeline::run`), 3,000 peaked at 209–244 MiB at
/// 30–32k/s. Once mimalloc stopped asking for transparent huge pages, interleaved: 3,000
/// 34.8–37.3k/s at 215–225 MiB, 4,000 39.2–42.6k/s at 217–242 MiB (eight runs), 5,000
/// 36.7–41.5k/s at 220–262 MiB. 4,000 keeps the embedded stack under 256 MiB.
pub const DEFAULT_MAX_BATCH_SIZE: usize = 4_000;

/// How the processor batches and validates.
#[derive(Debug, Clone)]
pub struct ProcessorConfig {
    /// Most records read for one batch.
    pub batch_size: usize,
    /// Most records one write takes: while a sink is still writing the batch before, the
    /// records that arrive join the next batch up to this many, so a sink that sets the
    /// pace gets fewer, larger transactions, and light traffic still goes in small batches.
    pub max_batch_size: usize,
    /// Longest a record waits for its batch to fill.
    pub linger: Duration,
    /// Validation mode; records that ingest accepted leniently are always lenient.
    pub validation: ValidationMode,
    /// Where undecodable or invalid records go.
    pub dead_letter_topic: String,
    /// On a drain, store everything on the topic before committing and leaving, rather
    /// than only the batch in hand. For an app whose intake (ingest) drains before it, so
    /// that the topic's end is final; a standalone processor leaves the rest to its group.
    /// A bus inside this process is always emptied.
    pub drain_to_end: bool,
}

impl Default for ProcessorConfig {
    fn default() -> Self {
        Self {
            batch_size: 2_000,
            max_batch_size: DEFAULT_MAX_BATCH_SIZE,
            linger: Duration::from_millis(20),
            validation: ValidationMode::Strict,
            dead_letter_topic: payments_bus::DEAD_LETTER_TOPIC.to_owned(),
            drain_to_end: false,
        }
    }
}

/// Consumes one topic and writes to each of its sinks through a pipeline of the sink's
/// own: every sink reads in its own consumer group (`<group>.<sink name>`), so a slow or
/// stopped sink never holds back the others, and catches up from its own offsets.
pub struct Processor {
    pipelines: Vec<SinkPipeline>,
    counters: Arc<ProcessorCounters>,
}

/// Why the processor stopped before draining.
#[derive(Debug, thiserror::Error)]
pub enum ProcessorError {
    /// The bus failed (reading, committing or dead-lettering).
    #[error(transparent)]
    Bus(#[from] payments_bus::Error),
    /// A sink kept failing until the shutdown grace period ran out; the batch was not
    /// committed and will be redelivered.
    #[error("sink {sink} kept failing until shutdown")]
    SinkGaveUp {
        /// The sink.
        sink: String,
        /// Its last error.
        #[source]
        error: payments_store::Error,
    },
}

impl Processor {
    /// A processor with one pipeline per `(consumer, sink)` pair, dead-lettering through
    /// `dead_letters`. The first sink's pipeline also dead-letters the records that cannot
    /// be decoded or validated (each pipeline finds the same ones).
    pub fn new(
        pipelines: Vec<(Box<dyn Consumer>, NamedSink)>,
        dead_letters: Arc<dyn Producer>,
        config: ProcessorConfig,
    ) -> Self {
        let mut counters = ProcessorCounters::default();
        let pipelines = pipelines
            .into_iter()
            .enumerate()
            .map(|(n, (consumer, sink))| {
                let sink_counters = Arc::new(SinkCounters::new());
                counters
                    .sinks
                    .push((sink.name.clone(), sink_counters.clone()));
                let writer = SinkWriter {
                    sink,
                    dead_letters: dead_letters.clone(),
                    dead_letter_topic: config.dead_letter_topic.clone(),
                    counters: sink_counters,
                    primary: n == 0,
                };
                SinkPipeline::new(consumer, writer, config.clone())
            })
            .collect();
        Self {
            pipelines,
            counters: Arc::new(counters),
        }
    }

    /// A processor of `topic` on `bus` whose sinks each read in consumer group
    /// `<group>.<sink name>` (as static member `instance_id` when given).
    pub fn on_bus(
        bus: &Bus,
        topic: &str,
        group: &str,
        instance_id: Option<&str>,
        sinks: Vec<NamedSink>,
        config: ProcessorConfig,
    ) -> Result<Self, payments_bus::Error> {
        let mut pipelines = Vec::with_capacity(sinks.len());
        for sink in sinks {
            let consumer = bus.consumer_as(topic, &sink.group(group), instance_id)?;
            pipelines.push((consumer, sink));
        }
        Ok(Self::new(pipelines, bus.producer(), config))
    }

    /// Its live counters.
    pub fn counters(&self) -> Arc<ProcessorCounters> {
        self.counters.clone()
    }

    /// Runs every sink's pipeline until `drain` is cancelled and each has finished its
    /// batches and committed (see [`SinkPipeline::run`]). If one pipeline fails, the others
    /// are stopped where they are (their batches in hand stay uncommitted and come again)
    /// and its error is returned.
    pub async fn run(self, drain: Shutdown, abort: Shutdown) -> Result<(), ProcessorError> {
        tracing::info!(sinks = self.pipelines.len(), "processor started");
        let mut running = tokio::task::JoinSet::new();
        for pipeline in self.pipelines {
            let name = pipeline.name().to_owned();
            let run = pipeline.run(drain.clone(), abort.clone());
            running.spawn(async move { (name, run.await) });
        }
        while let Some(joined) = running.join_next().await {
            let (sink, outcome) = match joined {
                Ok(done) => done,
                Err(joined) if joined.is_panic() => std::panic::resume_unwind(joined.into_panic()),
                Err(_) => continue,
            };
            if let Err(error) = outcome {
                tracing::error!(%sink, error = with_causes(&error), "sink pipeline failed; stopping the others");
                return Err(error);
            }
        }
        let c = &self.counters;
        tracing::info!(
            stored = c.stored(),
            dead_lettered = c.dead_lettered(),
            "processor drained"
        );
        Ok(())
    }
}

#[cfg(test)]
#[path = "processor_tests.rs"]
mod tests;
