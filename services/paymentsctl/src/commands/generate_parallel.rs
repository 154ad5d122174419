//! `generate --jobs N`: payments made (and, in a streaming format, encoded and counted) on N
//! threads in chunks, then written in order by one writer, so the output, the summary and
//! the ground truth are byte for byte what one thread writes. The writing thread only writes
//! each chunk's bytes, in one piece where the format allows; memory stays bounded, at most a
//! few chunks a thread being in flight, and their buffers are used again rather than freed.

use super::generate_summary::GenerationSummary;
use payments_core::pb;
use payments_formats::{Format, FormatError, PaymentWriter, encode_record};
use payments_generator::PaymentGenerator;
use payments_generator::truth::TruthCollector;
use std::collections::BTreeMap;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

/// Payments a thread makes at a time.
const CHUNK: usize = 1024;

/// Chunks queued for the threads, and finished chunks waiting to be written, a thread.
const IN_FLIGHT_PER_JOB: usize = 8;

/// Written chunks' record buffers, kept for the threads to fill again: a fresh 2 MiB buffer
/// a chunk cost its growth copies and the kernel's zeroing of new pages. With the record by
/// record copy that [`PaymentWriter::push_encoded_run`] replaced, `--jobs 2` took 5.8 s of
/// CPU for a million JSON lines; 3.9 s without both.
#[derive(Default)]
struct SpareBuffers {
    buffers: Mutex<Vec<Vec<u8>>>,
}

impl SpareBuffers {
    /// An empty buffer: a written chunk's, or a new one.
    fn take(&self) -> Vec<u8> {
        self.lock().pop().unwrap_or_default()
    }

    /// Keeps `buffer` for another chunk, unless `limit` are kept already.
    fn give_back(&self, mut buffer: Vec<u8>, limit: usize) {
        buffer.clear();
        let mut buffers = self.lock();
        if buffers.len() < limit {
            buffers.push(buffer);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Vec<u8>>> {
        self.buffers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// One chunk, made: in a streaming format its records back to back, its summary and the
/// payments of injected scenarios (all the ground truth needs); otherwise its payments.
struct Made {
    sequence: u64,
    records: Vec<u8>,
    /// Where each payment's record ends in `records`.
    ends: Vec<usize>,
    summary: GenerationSummary,
    /// In a streaming format, the payments with a scenario label; otherwise every payment.
    payments: Vec<pb::Payment>,
}

/// What the writing thread keeps up to date as chunks are written, in order.
pub struct Observers<'a> {
    /// The seed's summary of what was written.
    pub summary: &'a mut GenerationSummary,
    /// The injected scenarios' ground truth.
    pub truth: &'a mut TruthCollector,
    /// Told how many payments are written so far.
    pub progress: &'a mut dyn FnMut(u64),
}

/// Makes `generator`'s payments `indices` on `jobs` threads and writes them to `writer` in
/// order, keeping `observers` up to date as it goes; stops early, after a whole chunk, once
/// `stop` says so.
pub fn write_in_parallel(
    generator: &PaymentGenerator,
    indices: impl Iterator<Item = u64> + Send,
    jobs: usize,
    format: Format,
    writer: &mut PaymentWriter<'_>,
    observers: Observers<'_>,
    stop: &dyn Fn() -> bool,
) -> Result<(), FormatError> {
    let jobs = jobs.max(1);
    let (work_tx, work_rx) = sync_channel::<(u64, Vec<u64>)>(jobs * IN_FLIGHT_PER_JOB);
    let (made_tx, made_rx) = sync_channel::<Result<Made, FormatError>>(jobs * IN_FLIGHT_PER_JOB);
    let work_rx = Arc::new(Mutex::new(work_rx));
    let spares = SpareBuffers::default();
    std::thread::scope(|scope| {
        scope.spawn(move || feed(indices, work_tx));
        for _ in 0..jobs {
            let work_rx = work_rx.clone();
            let made_tx = made_tx.clone();
            let spares = &spares;
            scope.spawn(move || make(generator, format, &work_rx, &made_tx, spares));
        }
        // Only the threads hold the channels' other ends, so that when writing stops (a
        // reader closed the pipe) every thread ends and the scope can join them: `made_rx`
        // dropped on return fails the makers' sends, and once they have ended, `work_rx`
        // with them fails the feeder's.
        drop(made_tx);
        drop(work_rx);
        let made_rx = made_rx;
        let spare_limit = jobs * IN_FLIGHT_PER_JOB;
        write_in_order(&made_rx, format, writer, observers, stop, |records| {
            spares.give_back(records, spare_limit);
        })
    })
}

/// Sends the payment numbers in chunks, until they run out or no thread takes more.
fn feed(indices: impl Iterator<Item = u64>, work: SyncSender<(u64, Vec<u64>)>) {
    let mut indices = indices.peekable();
    let mut sequence = 0;
    while indices.peek().is_some() {
        let chunk: Vec<u64> = indices.by_ref().take(CHUNK).collect();
        if work.send((sequence, chunk)).is_err() {
            return;
        }
        sequence += 1;
    }
}

/// One thread: makes chunks until there are no more or the writer has gone.
fn make(
    generator: &PaymentGenerator,
    format: Format,
    work: &Mutex<Receiver<(u64, Vec<u64>)>>,
    made: &SyncSender<Result<Made, FormatError>>,
    spares: &SpareBuffers,
) {
    loop {
        let job = match work.lock() {
            Ok(work) => work.recv(),
            Err(_) => return,
        };
        let Ok((sequence, chunk)) = job else {
            return;
        };
        let outcome = make_chunk(generator, format, sequence, &chunk, spares.take());
        if made.send(outcome).is_err() {
            return;
        }
    }
}

fn make_chunk(
    generator: &PaymentGenerator,
    format: Format,
    sequence: u64,
    chunk: &[u64],
    records: Vec<u8>,
) -> Result<Made, FormatError> {
    let mut made = Made {
        sequence,
        records,
        ends: Vec::with_capacity(chunk.len()),
        summary: GenerationSummary::default(),
        payments: Vec::new(),
    };
    if !format.is_streaming() {
        for i in chunk {
            let payment = generator.payment(*i);
            made.summary.observe(&payment);
            made.payments.push(payment);
        }
        return Ok(made);
    }
    // Each payment is written and let go, so the next is made into it (see
    // `PaymentGenerator::payment_into`); the laundering ones are kept for the truth file.
    let mut payment = pb::Payment::default();
    for i in chunk {
        generator.payment_into(*i, &mut payment);
        made.summary.observe(&payment);
        encode_record(format, &payment, &mut made.records)?;
        made.ends.push(made.records.len());
        if payment.scenario.is_some() {
            made.payments.push(payment.clone());
        }
    }
    Ok(made)
}

/// Writes the chunks as they come, each once every chunk before it is written, until they
/// run out or `stop` says so (then the chunks made but not written are dropped).
fn write_in_order(
    made: &Receiver<Result<Made, FormatError>>,
    format: Format,
    writer: &mut PaymentWriter<'_>,
    observers: Observers<'_>,
    stop: &dyn Fn() -> bool,
    mut written_records: impl FnMut(Vec<u8>),
) -> Result<(), FormatError> {
    let mut waiting: BTreeMap<u64, Made> = BTreeMap::new();
    let (mut next, mut written) = (0, 0);
    for chunk in made {
        if stop() {
            break;
        }
        let chunk = chunk?;
        waiting.insert(chunk.sequence, chunk);
        while let Some(chunk) = waiting.remove(&next) {
            for payment in &chunk.payments {
                observers.truth.observe(payment);
            }
            if format.is_streaming() {
                writer.push_encoded_run(&chunk.records, &chunk.ends)?;
                written += chunk.ends.len() as u64;
                written_records(chunk.records);
            } else {
                written += chunk.payments.len() as u64;
                for payment in chunk.payments {
                    writer.push(payment)?;
                }
            }
            observers.summary.merge(chunk.summary);
            (observers.progress)(written);
            next += 1;
        }
    }
    Ok(())
}
