//! [`SinkPipeline`]: one sink's consume → validate → write → commit loop, in a consumer
//! group of its own. It decodes and validates the next batch while the current one is being
//! written, commits the batch before it meanwhile, and keeps one batch in flight, so that
//! each key's payments reach the sink in the order they were sent.

use crate::batch_span::batch_span;
use crate::prepare::Prepared;
use crate::sink_writer::SinkWriter;
use crate::{ProcessorConfig, ProcessorError};
use payments_bus::{Consumer, Delivery};
use payments_core::metric_names as names;
use payments_core::pb;
use payments_core::service_error::with_causes;
use payments_runtime::Shutdown;
use payments_runtime::retry::Backoff;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::Instrument;

/// Commits tried for one batch before it is left to be delivered again.
const COMMIT_ATTEMPTS: u32 = 5;

/// The batch being written, in a task of its own (it yields the batch back for its commit),
/// and how many records it holds.
type InFlight = (JoinHandle<Result<Written, ProcessorError>>, usize);

/// A batch its sink has taken: its records, to commit, and its payments, freed only once
/// the next batch is being written (see [`SinkWriter::write`]), as the batch after it
/// starts to grow in their room.
struct Written {
    batch: Vec<Delivery>,
    payments: Vec<pb::Payment>,
}

/// Longest one read waits while a batch grows during a write (the write's end is checked
/// between reads).
const GROW_POLL: Duration = Duration::from_millis(5);

/// Most records read (and then decoded and validated) in one step while a batch grows: the
/// end of the write is noticed between steps, so a sink waits at most one step's preparing
/// (about 2 ms) for its next batch, rather than a whole batch's (16 ms for 2,000).
const GROW_STEP: usize = 250;

/// How often the lag is refreshed while a write waits on its sink.
const LAG_REFRESH: Duration = Duration::from_secs(1);

/// One sink's pipeline: its own consumer, batching, retries and commits.
pub struct SinkPipeline {
    consumer: Box<dyn Consumer>,
    writer: Arc<SinkWriter>,
    config: ProcessorConfig,
    /// The payments of the last batch committed: the next batch is decoded into them
    /// ([`Prepared::recycling`]).
    spare: Vec<pb::Payment>,
    /// An empty vector with the room of a batch, for the next batch to grow in.
    room: Vec<pb::Payment>,
}

impl SinkPipeline {
    /// A pipeline reading `consumer` and writing with `writer`.
    pub fn new(consumer: Box<dyn Consumer>, writer: SinkWriter, config: ProcessorConfig) -> Self {
        Self {
            consumer,
            writer: Arc::new(writer),
            config,
            spare: Vec::new(),
            room: Vec::new(),
        }
    }

    /// The name of its sink.
    pub fn name(&self) -> &str {
        &self.writer.sink.name
    }

    /// Runs until `drain` is cancelled, then finishes its batches and commits. With
    /// [`ProcessorConfig::drain_to_end`], or on a bus that lives in this process, it first
    /// stores everything on the topic; otherwise the rest stays for its group's next member.
    /// Once `abort` is cancelled it stops emptying the topic, and gives up (with an error)
    /// when its sink keeps failing.
    pub async fn run(mut self, drain: Shutdown, abort: Shutdown) -> Result<(), ProcessorError> {
        tracing::info!(
            sink = %self.name(),
            batch_size = self.config.batch_size,
            "sink pipeline started"
        );
        let to_end = self.config.drain_to_end || !self.consumer.durable();
        let mut in_flight: Option<InFlight> = None;
        loop {
            if drain.is_cancelled() && (!to_end || abort.is_cancelled()) {
                break;
            }
            let mut batch = self
                .next_batch_retrying(&drain, &abort, in_flight.is_some())
                .await?;
            let counters = &self.writer.counters;
            counters.lag.store(self.consumer.lag(), Ordering::Relaxed);
            counters.assigned_partitions.store(
                self.consumer.assigned_partitions() as u64,
                Ordering::Relaxed,
            );
            if batch.is_empty() {
                self.finish(in_flight.take(), 0, &abort).await?;
                if drain.is_cancelled() && self.caught_up().await {
                    break;
                }
                continue;
            }
            // The next batch is decoded and validated while the one before it is written,
            // and grows with what arrives until that write is done.
            let span = batch_span(&batch, self.consumer.system());
            let mut prepared = Prepared::recycling(
                std::mem::take(&mut self.spare),
                std::mem::take(&mut self.room),
            );
            self.prepare(&mut prepared, &batch, 0, &span);
            self.grow_while_writing(&mut batch, &mut prepared, in_flight.as_ref(), &span)
                .await;
            self.room = prepared.take_room();
            span.record("messaging.batch.message_count", batch.len());
            let counters = &self.writer.counters;
            counters
                .consumed
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
            metrics::histogram!(names::PROCESSOR_BATCH_SIZE).record(batch.len() as f64);
            let written = self.written(in_flight.take(), batch.len()).await?;
            let (writer, write_abort) = (self.writer.clone(), abort.clone());
            let records = batch.len();
            let write = async move {
                let payments = writer.write(&batch, prepared, &write_abort).await?;
                Ok(Written { batch, payments })
            };
            in_flight = Some((tokio::spawn(write.instrument(span)), records));
            // Tokio runs a task spawned from a worker on that worker once the spawner yields,
            // and no other worker may take it before: without this, the write waited until
            // the next batch was read and prepared (about 18 ms of a 45 ms cycle, Kafka →
            // SQLite, batches of 3,000), and the sink stood idle meanwhile.
            tokio::task::yield_now().await;
            // The batch written before is committed while this one is written: committed
            // first, its commit had held the sink idle (a file bus commit deletes what every
            // group has read and copies its log back: 0.8 s of a 6 s run of `paymentsctl
            // bench`, 65 ms at worst).
            if let Some(written) = written {
                self.commit_retrying(&written.batch, &abort).await;
                self.spare = written.payments;
            }
        }
        self.finish(in_flight.take(), 0, &abort).await?;
        self.consumer.close().await?;
        let c = &self.writer.counters;
        tracing::info!(
            sink = %self.name(),
            stored = c.stored.load(Ordering::Relaxed),
            dead_lettered = c.dead_lettered.load(Ordering::Relaxed),
            "sink pipeline drained"
        );
        Ok(())
    }

    /// Waits for the batch in flight, if any, and commits it.
    async fn finish(
        &mut self,
        in_flight: Option<InFlight>,
        waiting: usize,
        abort: &Shutdown,
    ) -> Result<(), ProcessorError> {
        if let Some(written) = self.written(in_flight, waiting).await? {
            self.commit_retrying(&written.batch, abort).await;
        }
        Ok(())
    }

    /// Waits for the batch in flight, if any, and yields it once written (`None` when there
    /// was none, or its task was cancelled). While it waits (a sink that is away), the lag is
    /// refreshed every second and counts at least the records in hand: the batch in flight
    /// and the `waiting` one read after it. The consumer is not polled then, so records
    /// arriving meanwhile are counted from its next poll on.
    async fn written(
        &mut self,
        in_flight: Option<InFlight>,
        waiting: usize,
    ) -> Result<Option<Written>, ProcessorError> {
        let Some((mut in_flight, records)) = in_flight else {
            return Ok(None);
        };
        let mut refresh = tokio::time::interval_at(Instant::now() + LAG_REFRESH, LAG_REFRESH);
        let joined = loop {
            tokio::select! {
                joined = &mut in_flight => break joined,
                _ = refresh.tick() => {
                    let in_hand = (records + waiting) as u64;
                    let lag = self.consumer.lag().max(in_hand);
                    self.writer.counters.lag.store(lag, Ordering::Relaxed);
                }
            }
        };
        match joined {
            Ok(written) => written.map(Some),
            Err(joined) if joined.is_panic() => std::panic::resume_unwind(joined.into_panic()),
            Err(_) => Ok(None),
        }
    }

    /// Decodes and validates `batch`, which follows the `delivered` records `prepared` was
    /// prepared from, into `prepared`, in a span of its own within the batch's `span`.
    fn prepare(
        &self,
        prepared: &mut Prepared,
        batch: &[Delivery],
        delivered: usize,
        span: &tracing::Span,
    ) {
        span.in_scope(|| {
            tracing::info_span!("validate batch", records = batch.len())
                .in_scope(|| prepared.extend_from(batch, delivered, self.config.validation))
        });
    }

    /// Adds to `batch` (and `prepared`) the records that arrive while `in_flight` is still
    /// being written, up to [`ProcessorConfig::max_batch_size`]. A bus that fails meanwhile
    /// only ends the growing: the next read meets the failure again and handles it.
    async fn grow_while_writing(
        &mut self,
        batch: &mut Vec<Delivery>,
        prepared: &mut Prepared,
        in_flight: Option<&InFlight>,
        span: &tracing::Span,
    ) {
        let max = self.config.max_batch_size.max(self.config.batch_size);
        let Some((writing, writing_records)) = in_flight else {
            return;
        };
        while !writing.is_finished() && batch.len() < max {
            // What is read stays in the lag until it is stored.
            let in_hand = (writing_records + batch.len()) as u64;
            let lag = self.consumer.lag().max(in_hand);
            self.writer.counters.lag.store(lag, Ordering::Relaxed);
            let wanted = (max - batch.len()).min(GROW_STEP);
            let more = match self.consumer.poll(wanted, GROW_POLL).await {
                Ok(more) => more,
                Err(error) => {
                    tracing::debug!(
                        sink = %self.name(),
                        error = with_causes(&error),
                        "reading more while the sink writes failed"
                    );
                    return;
                }
            };
            if more.is_empty() {
                continue;
            }
            self.prepare(prepared, &more, batch.len(), span);
            batch.extend(more);
        }
    }

    /// Whether the topic is read to its end; a bus that cannot say now is asked again.
    async fn caught_up(&mut self) -> bool {
        match self.consumer.caught_up().await {
            Ok(caught_up) => caught_up,
            Err(error) => {
                tracing::warn!(
                    sink = %self.name(),
                    error = with_causes(&error),
                    "cannot tell whether the topic is read to its end"
                );
                false
            }
        }
    }

    /// [`SinkPipeline::next_batch`], waiting out a bus that is away (with backoff) rather
    /// than stopping: only a failure that will not pass, or `abort`, ends the pipeline.
    async fn next_batch_retrying(
        &mut self,
        drain: &Shutdown,
        abort: &Shutdown,
        writing: bool,
    ) -> Result<Vec<Delivery>, ProcessorError> {
        let mut backoff = Backoff::default();
        loop {
            match self.next_batch(drain, writing).await {
                Ok(batch) => return Ok(batch),
                Err(error) if error.is_transient() => {
                    let delay = backoff.next_delay();
                    tracing::warn!(
                        sink = %self.name(),
                        error = with_causes(&error),
                        retry_in_ms = delay.as_millis() as u64,
                        "reading the bus failed; retrying"
                    );
                    if !Backoff::wait(delay, abort).await {
                        return Err(ProcessorError::Bus(error));
                    }
                }
                Err(other) => return Err(ProcessorError::Bus(other)),
            }
        }
    }

    /// Collects up to `batch_size` records, waiting at most `linger` after the first. While
    /// a batch is `writing`, an empty topic is not waited on for long, so that the batch is
    /// committed soon.
    async fn next_batch(
        &mut self,
        drain: &Shutdown,
        writing: bool,
    ) -> Result<Vec<Delivery>, payments_bus::Error> {
        let wait = if drain.is_cancelled() {
            Duration::from_millis(5)
        } else if writing {
            self.config.linger.max(Duration::from_millis(5))
        } else {
            Duration::from_millis(100)
        };
        let mut batch = self.consumer.poll(self.config.batch_size, wait).await?;
        if batch.is_empty() {
            return Ok(batch);
        }
        let deadline = Instant::now() + self.config.linger;
        while batch.len() < self.config.batch_size {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let more = self
                .consumer
                .poll(self.config.batch_size - batch.len(), left)
                .await?;
            if more.is_empty() {
                break;
            }
            batch.extend(more);
        }
        Ok(batch)
    }

    /// Commits `batch`, retrying a transient failure while the backoff is short. A commit
    /// that still fails is left undone: the batch is delivered again (to this pipeline or,
    /// after a rebalance, to another member of its group) and stored again without change,
    /// so nothing is lost and the pipeline goes on.
    async fn commit_retrying(&mut self, batch: &[Delivery], abort: &Shutdown) {
        let mut backoff = Backoff::default();
        for attempt in 1..=COMMIT_ATTEMPTS {
            let error = match self.consumer.commit(batch).await {
                Ok(()) => return,
                Err(error) => error,
            };
            let delay = backoff.next_delay();
            let last = attempt == COMMIT_ATTEMPTS || !error.is_transient();
            let then = if last {
                "left: the batch comes again and is stored again unchanged"
            } else {
                "retrying"
            };
            tracing::warn!(
                sink = %self.name(),
                error = with_causes(&error),
                attempt,
                records = batch.len(),
                then,
                "committing offsets failed"
            );
            if last || !Backoff::wait(delay, abort).await {
                return;
            }
        }
    }
}
