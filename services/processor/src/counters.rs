//! [`SinkCounters`]: one sink pipeline's live counters, and [`ProcessorCounters`]: the
//! processor's, over all of its sinks.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Live counters of one sink's pipeline.
#[derive(Debug, Default)]
pub struct SinkCounters {
    /// Records its consumer read from the bus.
    pub consumed: AtomicU64,
    /// Payments the sink took.
    pub stored: AtomicU64,
    /// Records it sent to the dead-letter topic: those the sink refused and, for the first
    /// sink only, those that could not be decoded or validated.
    pub dead_lettered: AtomicU64,
    /// Batches written.
    pub batches: AtomicU64,
    /// Write attempts that failed (and were retried or split).
    pub sink_failures: AtomicU64,
    /// Payments the sink already held at the same or a higher revision (replays).
    pub unchanged: AtomicU64,
    /// Records on the topic its consumer group has not processed (as of its last poll).
    pub lag: AtomicU64,
    /// Partitions of the topic assigned to its consumer (as of its last poll).
    pub assigned_partitions: AtomicU64,
    /// 1 while its last write went through, 0 while the sink fails writes as being away.
    pub ready: AtomicU64,
}

impl SinkCounters {
    /// Counters of a pipeline that has not written yet (and so is not known to be away).
    pub fn new() -> Self {
        Self {
            ready: AtomicU64::new(1),
            ..Self::default()
        }
    }

    /// The value of `counter`, for reading.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// Live counters of a processor: each sink's, and totals over them.
#[derive(Debug, Default)]
pub struct ProcessorCounters {
    /// Each sink's name and counters, in the order of the sinks.
    pub sinks: Vec<(String, Arc<SinkCounters>)>,
}

impl ProcessorCounters {
    fn each(&self, counter: impl Fn(&SinkCounters) -> &AtomicU64) -> impl Iterator<Item = u64> {
        self.sinks
            .iter()
            .map(move |(_, c)| counter(c).load(Ordering::Relaxed))
    }

    /// Payments every sink has stored: the slowest sink's count.
    pub fn stored(&self) -> u64 {
        self.each(|c| &c.stored).min().unwrap_or(0)
    }

    /// Records read from the bus by the sink that has read the most.
    pub fn consumed(&self) -> u64 {
        self.each(|c| &c.consumed).max().unwrap_or(0)
    }

    /// Records sent to the dead-letter topic, by every sink's pipeline.
    pub fn dead_lettered(&self) -> u64 {
        self.each(|c| &c.dead_lettered).sum()
    }

    /// Batches written, over every sink.
    pub fn batches(&self) -> u64 {
        self.each(|c| &c.batches).sum()
    }

    /// Failed write attempts, over every sink.
    pub fn sink_failures(&self) -> u64 {
        self.each(|c| &c.sink_failures).sum()
    }

    /// Payments the first sink already held at the same or a higher revision (replays).
    pub fn unchanged(&self) -> u64 {
        self.each(|c| &c.unchanged).next().unwrap_or(0)
    }

    /// The largest lag of any sink's consumer group.
    pub fn lag(&self) -> u64 {
        self.each(|c| &c.lag).max().unwrap_or(0)
    }

    /// The most partitions assigned to any sink's consumer.
    pub fn assigned_partitions(&self) -> u64 {
        self.each(|c| &c.assigned_partitions).max().unwrap_or(0)
    }
}
