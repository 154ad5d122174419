//! `generate --jobs N`: payments made (and, in a streaming format, encoded) on N threads in
//! chunks, then written in order by one writer, so the output is byte for byte what one
//! thread writes. Memory stays bounded: at most a few chunks a thread are in flight.

use payments_core::pb;
use payments_formats::{Format, FormatError, PaymentWriter, encode_record};
use payments_generator::PaymentGenerator;
use std::collections::BTreeMap;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

/// Payments a thread makes at a time.
const CHUNK: usize = 2048;

/// Chunks queued for the threads, and finished chunks waiting to be written, a thread.
const IN_FLIGHT_PER_JOB: usize = 2;

/// One chunk, made: its payments and, in a streaming format, their records back to back.
struct Made {
    sequence: u64,
    payments: Vec<pb::Payment>,
    records: Vec<u8>,
    /// Where each payment's record ends in `records`.
    ends: Vec<usize>,
}

/// Makes `generator`'s payments `indices` on `jobs` threads and writes them to `writer` in
/// order, calling `observe` with each payment, in order, as it is written.
pub fn write_in_parallel(
    generator: &PaymentGenerator,
    indices: impl Iterator<Item = u64> + Send,
    jobs: usize,
    format: Format,
    writer: &mut PaymentWriter<'_>,
    mut observe: impl FnMut(&pb::Payment),
) -> Result<(), FormatError> {
    let jobs = jobs.max(1);
    let (work_tx, work_rx) = sync_channel::<(u64, Vec<u64>)>(jobs * IN_FLIGHT_PER_JOB);
    let (made_tx, made_rx) = sync_channel::<Result<Made, FormatError>>(jobs * IN_FLIGHT_PER_JOB);
    let work_rx = Arc::new(Mutex::new(work_rx));
    std::thread::scope(|scope| {
        scope.spawn(move || feed(indices, work_tx));
        for _ in 0..jobs {
            let work_rx = work_rx.clone();
            let made_tx = made_tx.clone();
            scope.spawn(move || make(generator, format, &work_rx, &made_tx));
        }
        drop(made_tx);
        // Dropped on return, which ends the threads: their sends fail.
        let made_rx = made_rx;
        write_in_order(&made_rx, format, writer, &mut observe)
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
) {
    loop {
        let job = match work.lock() {
            Ok(work) => work.recv(),
            Err(_) => return,
        };
        let Ok((sequence, chunk)) = job else {
            return;
        };
        let outcome = make_chunk(generator, format, sequence, &chunk);
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
) -> Result<Made, FormatError> {
    let payments: Vec<pb::Payment> = chunk.iter().map(|i| generator.payment(*i)).collect();
    let mut records = Vec::new();
    let mut ends = Vec::new();
    if format.is_streaming() {
        records.reserve(payments.len() * 1024);
        for payment in &payments {
            encode_record(format, payment, &mut records)?;
            ends.push(records.len());
        }
    }
    Ok(Made {
        sequence,
        payments,
        records,
        ends,
    })
}

/// Writes the chunks as they come, each once every chunk before it is written.
fn write_in_order(
    made: &Receiver<Result<Made, FormatError>>,
    format: Format,
    writer: &mut PaymentWriter<'_>,
    observe: &mut impl FnMut(&pb::Payment),
) -> Result<(), FormatError> {
    let mut waiting: BTreeMap<u64, Made> = BTreeMap::new();
    let mut next = 0;
    for chunk in made {
        let chunk = chunk?;
        waiting.insert(chunk.sequence, chunk);
        while let Some(chunk) = waiting.remove(&next) {
            let mut start = 0;
            for (i, payment) in chunk.payments.into_iter().enumerate() {
                observe(&payment);
                if format.is_streaming() {
                    let end = chunk.ends[i];
                    writer.push_encoded(&chunk.records[start..end])?;
                    start = end;
                } else {
                    writer.push(payment)?;
                }
            }
            next += 1;
        }
    }
    Ok(())
}
