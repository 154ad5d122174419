//! [`SinkWriter`]: writes prepared batches to one sink, waiting out a sink that is away and
//! isolating the records a sink refuses, then dead-letters what it could not store.

use crate::ProcessorError;
use crate::counters::SinkCounters;
use crate::dead_letter::dead_letter;
use crate::prepare::Prepared;
use crate::sink_name::NamedSink;
use bytes::Bytes;
use payments_bus::{BusRecord, Delivery, Producer};
use payments_core::metric_names as names;
use payments_core::pb;
use payments_core::service_error::with_causes;
use payments_runtime::Shutdown;
use payments_runtime::retry::Backoff;
use payments_store::Sink;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Failed attempts of one write, as the backend being away, before the writer asks the
/// sink whether it answers; if it does, the records are suspected and the batch is split.
const ATTEMPTS_BEFORE_SUSPECTING_RECORDS: u32 = 3;

/// Writes one sink's batches and sends its dead letters.
pub struct SinkWriter {
    /// The sink.
    pub sink: NamedSink,
    /// Where dead letters go.
    pub dead_letters: Arc<dyn Producer>,
    /// The dead-letter topic.
    pub dead_letter_topic: String,
    /// This sink's counters.
    pub counters: Arc<SinkCounters>,
    /// Whether this writer also dead-letters the records that could not be decoded or
    /// validated, and records the processor-wide metrics (latency, stored by type). Every
    /// pipeline decodes the same records alike, so one of them (the first sink's) does.
    pub primary: bool,
}

/// A payment the sink refused as the record's own fault, found by splitting its batch.
struct Refusal {
    /// Its index in the batch's payments.
    payment: usize,
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

impl SinkWriter {
    /// Writes `prepared` (made from `batch`) to the sink, then sends the dead letters: the
    /// records the sink refused and, for the primary writer, those `prepared` holds. Returns
    /// once the batch may be committed; fails only when `abort` is cancelled while the sink
    /// or the bus is away (the batch is then left uncommitted, and comes again).
    ///
    /// Hands the batch's payments back rather than freeing them: freeing 10,000 payments
    /// takes about 5 ms, and the caller does it once the sink is busy with the next batch
    /// (freed here, they held the sink idle for that long between batches).
    pub async fn write(
        &self,
        batch: &[Delivery],
        prepared: Prepared,
        abort: &Shutdown,
    ) -> Result<Vec<pb::Payment>, ProcessorError> {
        let Prepared {
            payments,
            encoded,
            origins,
            dead,
            ..
        } = prepared;
        let mut dead = if self.primary { dead } else { Vec::new() };
        let mut refusals = Vec::new();
        let written = if payments.is_empty() {
            0
        } else {
            self.write_isolating(&payments, &encoded, abort, &mut refusals)
                .await?
        };
        let stage = self.sink.stage();
        for refusal in &refusals {
            let delivery = &batch[origins[refusal.payment]];
            dead.push(dead_letter(delivery, &stage, &with_causes(&refusal.error)));
        }
        if !dead.is_empty() {
            let n = dead.len() as u64;
            self.send_dead_letters(dead, abort).await?;
            self.counters.dead_lettered.fetch_add(n, Ordering::Relaxed);
        }
        let taken = (payments.len() - refusals.len()) as u64;
        let c = &self.counters;
        c.stored.fetch_add(taken, Ordering::Relaxed);
        c.unchanged
            .fetch_add(taken.saturating_sub(written), Ordering::Relaxed);
        c.batches.fetch_add(1, Ordering::Relaxed);
        if self.primary && !payments.is_empty() {
            record_end_to_end_latency(batch);
            count_stored_by_type(&payments);
        }
        Ok(payments)
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
        let topic = &self.dead_letter_topic;
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

    /// Writes `payments`, splitting refused slices until each refused payment is alone
    /// (added to `refusals`); returns how many rows the sink changed. A failure that looks
    /// like the backend being away (refused connection, timeout) is retried with backoff
    /// until the sink takes the batch; one the backend blames on the records
    /// ([`payments_store::Error::is_caused_by_records`]), or one that keeps coming while the
    /// sink answers pings, splits the batch in halves, so that a bad record costs its batch
    /// a few extra writes and never stalls the good ones.
    async fn write_isolating(
        &self,
        payments: &[pb::Payment],
        encoded: &[Option<Bytes>],
        abort: &Shutdown,
        refusals: &mut Vec<Refusal>,
    ) -> Result<u64, ProcessorError> {
        let sink = self.sink.sink.as_ref();
        let mut written = 0;
        // Each slice, and whether its parent was split on suspicion (an unexplained failure
        // while the sink answers): its own failures are then suspected at once.
        let mut slices = vec![(0..payments.len(), false)];
        while let Some((slice, suspected)) = slices.pop() {
            let slice_encoded = encoded.get(slice.clone()).unwrap_or_default();
            let attempt = self
                .write_with_retry(
                    sink,
                    &payments[slice.clone()],
                    slice_encoded,
                    abort,
                    suspected,
                )
                .await?;
            match attempt {
                Attempt::Written(n) => written += n,
                Attempt::Refused(error) if slice.len() == 1 => {
                    tracing::warn!(
                        sink = %self.sink.name,
                        payment_id = %payments[slice.start].payment_id,
                        error = with_causes(&error),
                        "sink refused a payment; sending it to the dead-letter topic"
                    );
                    refusals.push(Refusal {
                        payment: slice.start,
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
        encoded: &[Option<Bytes>],
        abort: &Shutdown,
        suspected: bool,
    ) -> Result<Attempt, ProcessorError> {
        let suspect_after = if suspected {
            1
        } else {
            ATTEMPTS_BEFORE_SUSPECTING_RECORDS
        };
        let name = &self.sink.name;
        let mut backoff = Backoff::default();
        let mut failures = 0;
        loop {
            let error = match sink.upsert_encoded(payments, encoded).await {
                Ok(written) => {
                    self.counters.ready.store(1, Ordering::Relaxed);
                    return Ok(Attempt::Written(written));
                }
                Err(error) => error,
            };
            self.counters.sink_failures.fetch_add(1, Ordering::Relaxed);
            if error.is_caused_by_records() {
                tracing::debug!(sink = %name, records = payments.len(), error = with_causes(&error), "sink refused records; splitting the batch");
                return Ok(Attempt::Refused(error));
            }
            failures += 1;
            if failures >= suspect_after && sink.ping().await.is_ok() {
                tracing::warn!(sink = %name, records = payments.len(), error = with_causes(&error), "sink answers but keeps failing these records; splitting the batch");
                return Ok(Attempt::Refused(error));
            }
            self.counters.ready.store(0, Ordering::Relaxed);
            let delay = backoff.next_delay();
            tracing::warn!(sink = %name, error = with_causes(&error), retry_in_ms = delay.as_millis() as u64, "sink write failed; retrying");
            if !Backoff::wait(delay, abort).await {
                return Err(ProcessorError::SinkGaveUp {
                    sink: sink.describe(),
                    error,
                });
            }
        }
    }
}

/// Records of one batch whose latency is sampled: enough for percentiles over a minute of
/// batches, few enough to keep the histogram off the hot path.
const LATENCY_SAMPLES_PER_BATCH: usize = 16;

/// Records `payments_end_to_end_latency_seconds` (from the bus accepting a record to its
/// batch being stored) for records spread evenly over `batch`.
fn record_end_to_end_latency(batch: &[Delivery]) {
    let now_ms = chrono::Utc::now().timestamp_millis();
    let step = batch.len().div_ceil(LATENCY_SAMPLES_PER_BATCH).max(1);
    let histogram = metrics::histogram!(names::END_TO_END_LATENCY);
    for delivery in batch.iter().step_by(step) {
        let millis = (now_ms - delivery.timestamp_ms).max(0);
        histogram.record(millis as f64 / 1e3);
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
        metrics::counter!(names::PROCESSOR_STORED_BY_TYPE, "type" => name).increment(count);
    }
}
