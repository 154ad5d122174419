//! [`RequestSpool`]: a bench's submissions encoded before its clock starts, kept in a file.
//!
//! `paymentsctl bench` times the pipeline, and its client runs on the same cores. Making and
//! encoding each payment as it was sent took 9% of the run's CPU in a `perf` profile: work a
//! client elsewhere would not take from the server. Encoded first, as `bench-kafka` encodes
//! its requests, the client only reads their bytes back. They wait in a file rather than in
//! memory, so that the bench's peak resident memory stays the pipeline's.

use super::pre_encoded::strict_request;
use anyhow::Context;
use bytes::Bytes;
use payments_core::pb;
use payments_generator::PaymentGenerator;
use payments_ingest::MessageGroups;
use prost::Message;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// `SubmitPaymentsRequest`s encoded one after another into a file, each findable by its index.
pub struct RequestSpool {
    file: File,
    /// Where each request ends in the file (it starts where the one before it ends).
    ends: Vec<u64>,
}

impl RequestSpool {
    /// Encodes a strict `SubmitPaymentsRequest` for each of the generator's payments
    /// `0..count`, all created at `now`, into a new file at `path`, calling `made` with each
    /// payment's index and the payment.
    pub fn write(
        path: &Path,
        generator: &PaymentGenerator,
        count: usize,
        now: chrono::DateTime<chrono::Utc>,
        mut made: impl FnMut(usize, &pb::Payment),
    ) -> anyhow::Result<Self> {
        let writing = || format!("writing the bench's requests to {}", path.display());
        let file = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .with_context(writing)?;
        let mut out = BufWriter::with_capacity(1 << 20, &file);
        let mut ends = Vec::with_capacity(count);
        let mut encoded = Vec::new();
        let mut end = 0u64;
        for i in 0..count {
            let payment = generator.payment_at(i as u64, now);
            made(i, &payment);
            encoded.clear();
            strict_request(payment)
                .encode(&mut encoded)
                .context("encoding a bench request")?;
            out.write_all(&encoded).with_context(writing)?;
            end += encoded.len() as u64;
            ends.push(end);
        }
        out.flush().with_context(writing)?;
        drop(out);
        Ok(Self { file, ends })
    }

    /// How many requests the spool holds.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the spool holds no request.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The bytes the spool's file takes.
    pub fn bytes(&self) -> u64 {
        self.ends.last().copied().unwrap_or(0)
    }

    /// The requests of `range` (within `0..len()`), read with one read of the file and
    /// joined into the messages a client sends, at most `per_message` requests a message
    /// (see [`joined`](super::pre_encoded::joined)): each message with the range of
    /// requests it carries, its bytes a slice of the read.
    pub fn read(
        &self,
        range: Range<usize>,
        per_message: usize,
    ) -> anyhow::Result<Vec<(Range<usize>, Bytes)>> {
        let start_of = |i: usize| if i == 0 { 0 } else { self.ends[i - 1] };
        let (first, last) = (start_of(range.start), start_of(range.end));
        let mut buffer = vec![0; usize::try_from(last - first)?];
        self.file
            .read_exact_at(&mut buffer, first)
            .context("reading the bench's requests back")?;
        let buffer = Bytes::from(buffer);
        let length = |&i: &usize| (self.ends[i] - start_of(i)) as usize;
        // The requests of a message lie back to back in the file, so the message is a slice.
        Ok(MessageGroups::with_limit(range, length, per_message)
            .map(|group| {
                let (from, to) = (group[0], group[group.len() - 1] + 1);
                let bytes = (start_of(from) - first) as usize..(start_of(to) - first) as usize;
                (from..to, buffer.slice(bytes))
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use payments_generator::GeneratorConfig;

    #[test]
    fn each_request_reads_back_as_the_payment_it_was_made_from() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let generator = PaymentGenerator::new(GeneratorConfig {
            seed: 7,
            ..Default::default()
        });
        let now = chrono::Utc::now();
        let mut ids = Vec::new();
        let spool = RequestSpool::write(&dir.path().join("r"), &generator, 10, now, |i, p| {
            assert_eq!(i, ids.len());
            ids.push(p.payment_id.clone());
        })?;
        assert_eq!(spool.len(), 10);
        let read: Vec<(Range<usize>, Bytes)> = [(0..3, 1), (3..4, 5), (4..10, 4)]
            .into_iter()
            .map(|(range, per_message)| spool.read(range, per_message))
            .collect::<anyhow::Result<Vec<_>>>()?
            .concat();
        let ranges: Vec<Range<usize>> = read.iter().map(|(range, _)| range.clone()).collect();
        assert_eq!(ranges, [0..1, 1..2, 2..3, 3..4, 4..8, 8..10]);
        for (range, bytes) in &read {
            let request = pb::SubmitPaymentsRequest::decode(bytes.as_ref())?;
            assert_eq!(request.payment, None);
            assert_eq!(request.validation_mode, pb::ValidationMode::Strict as i32);
            let expected: Vec<pb::Payment> = range
                .clone()
                .map(|i| generator.payment_at(i as u64, now))
                .collect();
            assert_eq!(request.payments, expected, "requests {range:?}");
            for (payment, i) in request.payments.iter().zip(range.clone()) {
                assert_eq!(payment.payment_id, ids[i]);
            }
        }
        assert_eq!(
            spool.bytes(),
            read.iter().map(|(_, b)| b.len() as u64).sum::<u64>()
        );
        assert!(spool.read(5..5, 4)?.is_empty());
        Ok(())
    }
}
