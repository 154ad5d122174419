//! [`Processor`]: the consume → validate → upsert → commit loop.

use crate::batch_span::batch_span;
use crate::decode::decode_payment;
use bytes::Bytes;
use payments_bus::{BusRecord, Consumer, Delivery, Producer, headers};
use payments_core::metric_names as names;
use payments_core::service_error::with_causes;
use payments_core::{PaymentValidator, ValidationMode, ValidationOutcome, normalize, pb};
use payments_runtime::Shutdown;
use payments_runtime::retry::Backoff;
use payments_store::Sink;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;
use tracing::Instrument;

/// How the processor batches and validates.
#[derive(Debug, Clone)]
pub struct ProcessorConfig {
    /// Most records written per batch.
    pub batch_size: usize,
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
            linger: Duration::from_millis(20),
            validation: ValidationMode::Strict,
            dead_letter_topic: payments_bus::DEAD_LETTER_TOPIC.to_owned(),
            drain_to_end: false,
        }
    }
}

/// Live counters.
#[derive(Debug, Default)]
pub struct ProcessorCounters {
    /// Records read from the bus.
    pub consumed: AtomicU64,
    /// Payments written to every sink.
    pub stored: AtomicU64,
    /// Records sent to the dead-letter topic.
    pub dead_lettered: AtomicU64,
    /// Batches written.
    pub batches: AtomicU64,
    /// Sink write attempts that failed (and were retried).
    pub sink_failures: AtomicU64,
    /// Payments the first sink already held at the same or a higher revision (replays).
    pub unchanged: AtomicU64,
    /// Records on the topic not yet processed by this consumer (as of its last poll).
    pub lag: AtomicU64,
    /// Partitions of the topic assigned to this processor (as of its last poll).
    pub assigned_partitions: AtomicU64,
}

/// Consumes one topic and writes to every sink.
pub struct Processor {
    consumer: Box<dyn Consumer>,
    sinks: Vec<Arc<dyn Sink>>,
    dead_letters: Arc<dyn Producer>,
    config: ProcessorConfig,
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

/// One batch after decoding and validation.
#[derive(Default)]
struct Prepared {
    payments: Vec<pb::Payment>,
    /// For each of `payments`, its delivery's index in the batch.
    origins: Vec<usize>,
    dead: Vec<BusRecord>,
}

/// A payment one sink refused as the record's own fault, found by splitting its batch.
struct Refusal {
    /// Its index in the batch's payments.
    payment: usize,
    /// The sink, as its dead-letter stage names it (`sink:postgres`).
    stage: String,
    /// What the sink said.
    error: payments_store::Error,
}

/// What one write of a slice of the batch came to.
enum Attempt {
    /// The sink took every record; this many rows changed.
    Written(u64),
    /// The sink refused the records (or keeps failing them while it answers pings).
    Refused(payments_store::Error),
}

/// Commits tried for one batch before it is left to be delivered again.
const COMMIT_ATTEMPTS: u32 = 5;

/// Failed attempts of one write, as the backend being away, before the processor asks the
/// sink whether it answers; if it does, the records are suspected and the batch is split.
const ATTEMPTS_BEFORE_SUSPECTING_RECORDS: u32 = 3;

/// The dead-letter stage of records `sink` refused: `sink:` and its URL scheme.
fn sink_stage(sink: &dyn Sink) -> String {
    let described = sink.describe();
    let scheme = described.split("://").next().unwrap_or_default();
    format!("sink:{scheme}")
}

impl Processor {
    /// A processor reading from `consumer`, writing to `sinks`, dead-lettering through
    /// `dead_letters`.
    pub fn new(
        consumer: Box<dyn Consumer>,
        sinks: Vec<Arc<dyn Sink>>,
        dead_letters: Arc<dyn Producer>,
        config: ProcessorConfig,
    ) -> Self {
        Self {
            consumer,
            sinks,
            dead_letters,
            config,
            counters: Arc::default(),
        }
    }

    /// Its live counters.
    pub fn counters(&self) -> Arc<ProcessorCounters> {
        self.counters.clone()
    }

    /// Runs until `drain` is cancelled, then finishes its batch and commits. With
    /// [`ProcessorConfig::drain_to_end`], or on a bus that lives in this process, it first
    /// stores everything on the topic; otherwise the rest stays for the group's next member.
    /// Once `abort` is cancelled it stops emptying the topic, and gives up (with an error)
    /// when a sink keeps failing.
    pub async fn run(mut self, drain: Shutdown, abort: Shutdown) -> Result<(), ProcessorError> {
        tracing::info!(
            sinks = self.sinks.len(),
            batch_size = self.config.batch_size,
            "processor started"
        );
        let to_end = self.config.drain_to_end || !self.consumer.durable();
        loop {
            if drain.is_cancelled() && (!to_end || abort.is_cancelled()) {
                break;
            }
            let batch = self.next_batch_retrying(&drain, &abort).await?;
            self.counters
                .lag
                .store(self.consumer.lag(), Ordering::Relaxed);
            self.counters.assigned_partitions.store(
                self.consumer.assigned_partitions() as u64,
                Ordering::Relaxed,
            );
            if batch.is_empty() {
                if drain.is_cancelled() && self.caught_up().await {
                    break;
                }
                continue;
            }
            self.process(batch, &abort).await?;
        }
        self.consumer.close().await?;
        tracing::info!(
            stored = self.counters.stored.load(Ordering::Relaxed),
            dead_lettered = self.counters.dead_lettered.load(Ordering::Relaxed),
            "processor drained"
        );
        Ok(())
    }

    /// Whether the topic is read to its end; a bus that cannot say now is asked again.
    async fn caught_up(&mut self) -> bool {
        match self.consumer.caught_up().await {
            Ok(caught_up) => caught_up,
            Err(error) => {
                tracing::warn!(
                    error = with_causes(&error),
                    "cannot tell whether the topic is read to its end"
                );
                false
            }
        }
    }

    /// [`Processor::next_batch`], waiting out a bus that is away (with backoff) rather than
    /// stopping: only a failure that will not pass, or `abort`, ends the processor.
    async fn next_batch_retrying(
        &mut self,
        drain: &Shutdown,
        abort: &Shutdown,
    ) -> Result<Vec<Delivery>, ProcessorError> {
        let mut backoff = Backoff::default();
        loop {
            match self.next_batch(drain).await {
                Ok(batch) => return Ok(batch),
                Err(ProcessorError::Bus(error)) if error.is_transient() => {
                    let delay = backoff.next_delay();
                    tracing::warn!(
                        error = with_causes(&error),
                        retry_in_ms = delay.as_millis() as u64,
                        "reading the bus failed; retrying"
                    );
                    if !Backoff::wait(delay, abort).await {
                        return Err(ProcessorError::Bus(error));
                    }
                }
                Err(other) => return Err(other),
            }
        }
    }

    /// Commits `batch`, retrying a transient failure while the backoff is short. A commit
    /// that still fails is left undone: the batch is delivered again (to this processor or,
    /// after a rebalance, to another member of its group) and stored again without change,
    /// so nothing is lost and the processor goes on.
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

    /// Collects up to `batch_size` records, waiting at most `linger` after the first.
    async fn next_batch(&mut self, drain: &Shutdown) -> Result<Vec<Delivery>, ProcessorError> {
        let wait = if drain.is_cancelled() {
            Duration::from_millis(5)
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

    async fn process(
        &mut self,
        batch: Vec<Delivery>,
        abort: &Shutdown,
    ) -> Result<(), ProcessorError> {
        let span = batch_span(&batch, self.consumer.system());
        self.process_in_span(batch, abort).instrument(span).await
    }

    async fn process_in_span(
        &mut self,
        batch: Vec<Delivery>,
        abort: &Shutdown,
    ) -> Result<(), ProcessorError> {
        self.counters
            .consumed
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        metrics::histogram!(names::PROCESSOR_BATCH_SIZE).record(batch.len() as f64);
        let mut prepared = tracing::info_span!("validate batch", records = batch.len())
            .in_scope(|| self.prepare(&batch));
        let refusals = self.write_everywhere(&prepared.payments, abort).await?;
        let mut refused_payments: Vec<usize> = refusals.iter().map(|r| r.payment).collect();
        refused_payments.sort_unstable();
        refused_payments.dedup();
        for refusal in &refusals {
            let delivery = &batch[prepared.origins[refusal.payment]];
            prepared.dead.push(dead_letter(
                delivery,
                &refusal.stage,
                &with_causes(&refusal.error),
            ));
        }
        if !prepared.dead.is_empty() {
            let n = prepared.dead.len() as u64;
            self.send_dead_letters(prepared.dead, abort).await?;
            self.counters.dead_lettered.fetch_add(n, Ordering::Relaxed);
        }
        self.commit_retrying(&batch, abort).await;
        let stored = prepared.payments.len() - refused_payments.len();
        self.counters
            .stored
            .fetch_add(stored as u64, Ordering::Relaxed);
        self.counters.batches.fetch_add(1, Ordering::Relaxed);
        if !prepared.payments.is_empty() {
            record_end_to_end_latency(&batch);
            count_stored_by_type(&prepared.payments);
        }
        Ok(())
    }

    fn prepare(&self, batch: &[Delivery]) -> Prepared {
        let exporting = payments_runtime::telemetry::exporting();
        let mut out = Prepared {
            payments: Vec::with_capacity(batch.len()),
            origins: Vec::with_capacity(batch.len()),
            dead: Vec::new(),
        };
        for (index, delivery) in batch.iter().enumerate() {
            let mut payment = match decode_payment(&delivery.record) {
                Ok(p) => p,
                Err(e) => {
                    out.dead
                        .push(dead_letter(delivery, "decode", &e.to_string()));
                    continue;
                }
            };
            let ingest_lenient =
                delivery.record.header(headers::VALIDATION_MODE) == Some("lenient");
            let mode = if ingest_lenient {
                ValidationMode::Lenient
            } else {
                self.config.validation
            };
            normalize(&mut payment);
            keep_trace_id(&mut payment, &delivery.record, exporting);
            match PaymentValidator::new(mode).validate(&payment) {
                ValidationOutcome::Accepted { warnings } => {
                    if payment.warnings.is_empty() && !warnings.is_empty() {
                        payment.warnings = warnings.iter().map(|w| w.to_warning()).collect();
                    }
                    out.payments.push(payment);
                    out.origins.push(index);
                }
                ValidationOutcome::Rejected { violations } => {
                    let reason: Vec<String> = violations
                        .iter()
                        .map(|v| format!("{}: {}", v.field, v.description))
                        .collect();
                    out.dead
                        .push(dead_letter(delivery, "validate", &reason.join("; ")));
                }
            }
        }
        out
    }

    /// Sends `dead` to the dead-letter topic, retrying with backoff (as sink writes are)
    /// until the bus takes them: a bus that is away for a while stalls the batch, it does not
    /// stop the processor. Gives up only when `abort` is cancelled; the batch then stays
    /// uncommitted and comes again.
    async fn send_dead_letters(
        &self,
        dead: Vec<BusRecord>,
        abort: &Shutdown,
    ) -> Result<(), ProcessorError> {
        let topic = &self.config.dead_letter_topic;
        let mut backoff = Backoff::default();
        loop {
            // Records are cheap to clone (shared buffers); a retry may repeat some that the
            // bus took before failing, so a dead letter is delivered at least once.
            match self.dead_letters.send_batch(topic, dead.clone()).await {
                Ok(()) => return Ok(()),
                Err(error) => {
                    let delay = backoff.next_delay();
                    tracing::warn!(
                        %topic,
                        records = dead.len(),
                        error = with_causes(&error),
                        retry_in_ms = delay.as_millis() as u64,
                        "dead-letter send failed; retrying"
                    );
                    if !Backoff::wait(delay, abort).await {
                        return Err(ProcessorError::Bus(error));
                    }
                }
            }
        }
    }

    /// Writes the batch to every sink and returns the payments a sink refused as their own
    /// fault. A failure that looks like the backend being away (refused connection,
    /// timeout) is retried with backoff until the sink takes the batch; one the backend
    /// blames on the records ([`payments_store::Error::is_caused_by_records`]), or one that
    /// keeps coming while the sink answers pings, splits the batch in halves until each
    /// refused payment stands alone, so that a bad record costs its batch a few extra
    /// writes and never stalls the good ones. The batch is not committed until every sink
    /// has written or refused each payment.
    async fn write_everywhere(
        &self,
        payments: &[pb::Payment],
        abort: &Shutdown,
    ) -> Result<Vec<Refusal>, ProcessorError> {
        let mut refusals = Vec::new();
        if payments.is_empty() {
            return Ok(refusals);
        }
        for (n, sink) in self.sinks.iter().enumerate() {
            let refused_before = refusals.len();
            let written = self
                .write_isolating(sink.as_ref(), payments, abort, &mut refusals)
                .await?;
            if n == 0 {
                let taken = payments.len() - (refusals.len() - refused_before);
                let unchanged = (taken as u64).saturating_sub(written);
                self.counters
                    .unchanged
                    .fetch_add(unchanged, Ordering::Relaxed);
            }
        }
        Ok(refusals)
    }

    /// Writes `payments` to `sink`, splitting refused slices until each refused payment is
    /// alone (added to `refusals`); returns how many rows the sink changed.
    async fn write_isolating(
        &self,
        sink: &dyn Sink,
        payments: &[pb::Payment],
        abort: &Shutdown,
        refusals: &mut Vec<Refusal>,
    ) -> Result<u64, ProcessorError> {
        let mut written = 0;
        // Each slice, and whether its parent was split on suspicion (an unexplained failure
        // while the sink answers): its own failures are then suspected at once.
        let mut slices = vec![(0..payments.len(), false)];
        while let Some((slice, suspected)) = slices.pop() {
            let attempt = self
                .write_with_retry(sink, &payments[slice.clone()], abort, suspected)
                .await?;
            match attempt {
                Attempt::Written(n) => written += n,
                Attempt::Refused(error) if slice.len() == 1 => {
                    tracing::warn!(
                        sink = %sink.describe(),
                        payment_id = %payments[slice.start].payment_id,
                        error = with_causes(&error),
                        "sink refused a payment; sending it to the dead-letter topic"
                    );
                    refusals.push(Refusal {
                        payment: slice.start,
                        stage: sink_stage(sink),
                        error,
                    });
                }
                Attempt::Refused(error) => {
                    let suspected = !error.is_caused_by_records();
                    let middle = slice.start + slice.len() / 2;
                    slices.push((middle..slice.end, suspected));
                    slices.push((slice.start..middle, suspected));
                }
            }
        }
        Ok(written)
    }

    /// One write of `payments` to `sink`, retried with backoff while the sink looks away.
    /// A `suspected` slice (split from one that failed while the sink answered) is refused
    /// at its first unexplained failure if the sink still answers.
    async fn write_with_retry(
        &self,
        sink: &dyn Sink,
        payments: &[pb::Payment],
        abort: &Shutdown,
        suspected: bool,
    ) -> Result<Attempt, ProcessorError> {
        let suspect_after = if suspected {
            1
        } else {
            ATTEMPTS_BEFORE_SUSPECTING_RECORDS
        };
        let mut backoff = Backoff::default();
        let mut failures = 0;
        loop {
            let error = match sink.upsert_batch(payments).await {
                Ok(written) => return Ok(Attempt::Written(written)),
                Err(error) => error,
            };
            self.counters.sink_failures.fetch_add(1, Ordering::Relaxed);
            if error.is_caused_by_records() {
                tracing::debug!(sink = %sink.describe(), records = payments.len(), error = with_causes(&error), "sink refused records; splitting the batch");
                return Ok(Attempt::Refused(error));
            }
            failures += 1;
            if failures >= suspect_after && sink.ping().await.is_ok() {
                tracing::warn!(sink = %sink.describe(), records = payments.len(), error = with_causes(&error), "sink answers but keeps failing these records; splitting the batch");
                return Ok(Attempt::Refused(error));
            }
            let delay = backoff.next_delay();
            tracing::warn!(sink = %sink.describe(), error = with_causes(&error), retry_in_ms = delay.as_millis() as u64, "sink write failed; retrying");
            if !Backoff::wait(delay, abort).await {
                return Err(ProcessorError::SinkGaveUp {
                    sink: sink.describe(),
                    error,
                });
            }
        }
    }
}

/// The dead-letter record for `delivery`: its key, value and headers, plus why, where
/// from and when.
fn dead_letter(delivery: &Delivery, stage: &str, reason: &str) -> BusRecord {
    tracing::warn!(topic = %delivery.topic, partition = delivery.partition, offset = delivery.offset, stage, reason, "record sent to dead-letter topic");
    let mut record = delivery.record.clone();
    let text = |s: String| Bytes::from(s);
    record
        .headers
        .push((headers::DLQ_REASON.into(), text(reason.to_owned())));
    record
        .headers
        .push((headers::DLQ_STAGE.into(), text(stage.to_owned())));
    record.headers.push((
        headers::DLQ_SOURCE.into(),
        text(format!(
            "{}/{}/{}",
            delivery.topic, delivery.partition, delivery.offset
        )),
    ));
    record.headers.push((
        headers::DLQ_TIME.into(),
        text(chrono::Utc::now().to_rfc3339()),
    ));
    record
}

#[cfg(test)]
#[path = "processor_tests.rs"]
mod tests;

/// The metadata attribute holding the producer's trace id.
pub const TRACE_ID_ATTRIBUTE: &str = "trace_id";

/// Records of one batch whose latency is sampled: enough for percentiles over a minute of
/// batches, few enough to keep the histogram off the hot path.
const LATENCY_SAMPLES_PER_BATCH: usize = 16;

/// Records `payments_end_to_end_latency_seconds` (from the bus accepting a record to its
/// batch being stored and committed) for records spread evenly over `batch`.
fn record_end_to_end_latency(batch: &[Delivery]) {
    let now_ms = chrono::Utc::now().timestamp_millis();
    let step = batch.len().div_ceil(LATENCY_SAMPLES_PER_BATCH).max(1);
    let histogram = metrics::histogram!("payments_end_to_end_latency_seconds");
    for delivery in batch.iter().step_by(step) {
        let millis = (now_ms - delivery.timestamp_ms).max(0);
        histogram.record(millis as f64 / 1e3);
    }
}

/// Keeps the trace id of the record's producer in `metadata.attributes["trace_id"]` when
/// spans are exported, so a stored payment leads to its trace in Jaeger. The key is ours: a
/// value a client sent is dropped, so that it never leads anywhere else.
fn keep_trace_id(payment: &mut pb::Payment, record: &payments_bus::BusRecord, exporting: bool) {
    if let Some(metadata) = payment.metadata.as_mut() {
        metadata.attributes.remove(TRACE_ID_ATTRIBUTE);
    }
    if !exporting {
        return;
    }
    let trace_id = record
        .header(headers::TRACEPARENT)
        .and_then(|traceparent| traceparent.split('-').nth(1))
        .filter(|id| id.len() == 32);
    if let Some(trace_id) = trace_id {
        payment
            .metadata
            .get_or_insert_with(Default::default)
            .attributes
            .insert(TRACE_ID_ATTRIBUTE.to_owned(), trace_id.to_owned());
    }
}

/// Counts stored payments by rail (`payments_processor_stored_by_type_total{type}`), one
/// increment per rail present in the batch.
fn count_stored_by_type(payments: &[pb::Payment]) {
    let mut by_type = [0u64; 16];
    for payment in payments {
        let slot = usize::try_from(payment.payment_type).unwrap_or(0).min(15);
        by_type[slot] += 1;
    }
    for (value, &count) in by_type.iter().enumerate() {
        if count == 0 {
            continue;
        }
        let name = i32::try_from(value)
            .ok()
            .and_then(|v| pb::PaymentType::try_from(v).ok())
            .map_or("UNKNOWN", |t| {
                t.as_str_name().trim_start_matches("PAYMENT_TYPE_")
            });
        metrics::counter!("payments_processor_stored_by_type_total", "type" => name)
            .increment(count);
    }
}
