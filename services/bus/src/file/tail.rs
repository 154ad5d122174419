//! The latest records appended in this process, kept in memory so that a consumer keeping up
//! reads them without touching the disk.

use crate::Delivery;
use std::collections::VecDeque;

/// Records the tail keeps at most.
const TAIL_RECORDS: usize = 20_000;

/// Bytes of records ([`crate::BusRecord::size`]) the tail keeps at most: a fast producer
/// and a slow consumer cost this much memory, and the consumer reads older records from
/// the log.
const TAIL_BYTES: usize = 16 << 20;

/// The latest records of a topic, oldest first, consecutive, ending at the topic's end.
#[derive(Default)]
pub(super) struct MemoryTail {
    records: VecDeque<Delivery>,
    bytes: usize,
}

impl MemoryTail {
    /// Appends `deliveries` (the offsets after the last one held), then lets the oldest go
    /// past either bound.
    pub fn extend(&mut self, deliveries: impl IntoIterator<Item = Delivery>) {
        for delivery in deliveries {
            self.bytes += delivery.record.size();
            self.records.push_back(delivery);
        }
        while self.records.len() > TAIL_RECORDS
            || (self.bytes > TAIL_BYTES && self.records.len() > 1)
        {
            self.pop_front();
        }
    }

    /// Lets go of the records before `offset`.
    pub fn drop_before(&mut self, offset: i64) {
        while self.records.front().is_some_and(|d| d.offset < offset) {
            self.pop_front();
        }
    }

    fn pop_front(&mut self) {
        if let Some(delivery) = self.records.pop_front() {
            self.bytes -= delivery.record.size();
        }
    }

    /// The offset of the oldest record held, or `None` when it holds none.
    pub fn first_offset(&self) -> Option<i64> {
        self.records.front().map(|d| d.offset)
    }

    /// Up to `max` records from `offset` on, or `None` when the tail begins after `offset`
    /// (older records are read from the log).
    pub fn read(&self, offset: i64, max: usize) -> Option<Vec<Delivery>> {
        let first = self.first_offset()?;
        let skip = usize::try_from(offset - first).ok()?;
        Some(self.records.iter().skip(skip).take(max).cloned().collect())
    }

    /// The offsets held, oldest first.
    #[cfg(test)]
    pub fn offsets(&self) -> Vec<i64> {
        self.records.iter().map(|d| d.offset).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BusRecord;
    use bytes::Bytes;

    fn delivery(offset: i64, value_len: usize) -> Delivery {
        Delivery {
            topic: "t".into(),
            partition: 0,
            offset,
            timestamp_ms: 0,
            record: BusRecord {
                key: Bytes::new(),
                value: Bytes::from(vec![0; value_len]),
                headers: vec![],
            },
        }
    }

    #[test]
    fn the_tail_keeps_the_latest_within_its_bounds() {
        let mut tail = MemoryTail::default();
        tail.extend((0..TAIL_RECORDS as i64 + 5).map(|o| delivery(o, 10)));
        assert_eq!(tail.first_offset(), Some(5));
        let mut large = MemoryTail::default();
        large.extend((0..20).map(|o| delivery(o, 1 << 20)));
        assert_eq!(
            large.offsets(),
            (5..20).collect::<Vec<_>>(),
            "16 MiB of 1 MiB records"
        );
        large.extend([delivery(20, 64 << 20)]);
        assert_eq!(
            large.offsets(),
            vec![20],
            "one record larger than the bound stays"
        );
    }

    #[test]
    fn reads_come_from_the_tail_only_when_it_holds_the_offset() {
        let mut tail = MemoryTail::default();
        tail.extend((10..20).map(|o| delivery(o, 1)));
        assert!(tail.read(9, 5).is_none());
        let offsets = |read: Option<Vec<Delivery>>| {
            read.map(|r| r.iter().map(|d| d.offset).collect::<Vec<_>>())
        };
        assert_eq!(offsets(tail.read(12, 3)), Some(vec![12, 13, 14]));
        assert_eq!(offsets(tail.read(20, 3)), Some(vec![]));
        tail.drop_before(15);
        assert_eq!(tail.first_offset(), Some(15));
        assert!(tail.read(12, 3).is_none());
    }
}
