//! `memory://`: an in-process bus of bounded topics, one partition each.
//!
//! A topic is a log of the records some group has not committed. Producers wait while a
//! topic holds `capacity` of them (back-pressure from the slowest group, nothing dropped).
//! Each consumer group reads from its own position and commits its own offset; a new
//! consumer in a group starts again at the group's last commit, so a record is delivered at
//! least once to every group. A record is forgotten once every group that has joined the
//! topic has committed it. Dead-letter topics (names ending in `.dlq`) that nobody reads
//! keep their latest `capacity` records instead of stopping the pipeline.

use crate::shared_state::{lock, now_ms};
use crate::{BusRecord, Consumer, Delivery, Error, Producer, Receipt, Result};
use async_trait::async_trait;
use futures::FutureExt;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// The in-process bus.
pub struct MemoryBus {
    capacity: usize,
    topics: Mutex<HashMap<String, Arc<Topic>>>,
}

struct Topic {
    name: String,
    capacity: usize,
    retain_latest: bool,
    state: Mutex<TopicState>,
    /// Signalled when records are appended.
    appended: Notify,
    /// Signalled when commits free room.
    freed: Notify,
}

#[derive(Default)]
struct TopicState {
    /// Records from `base` on.
    log: VecDeque<Delivery>,
    /// Offset of `log[0]`.
    base: i64,
    /// Every group that has joined the topic, by name.
    groups: HashMap<String, GroupState>,
}

/// One consumer group's progress on a topic.
#[derive(Default)]
struct GroupState {
    /// First offset the group has not committed.
    committed: i64,
    /// Next offset to deliver to its consumer.
    position: i64,
    /// Whether a consumer of the group is attached.
    attached: bool,
}

impl TopicState {
    fn end(&self) -> i64 {
        self.base + self.log.len() as i64
    }

    /// The first offset some group has not committed (the end when no group has joined).
    fn oldest_uncommitted(&self) -> i64 {
        self.groups
            .values()
            .map(|g| g.committed.max(self.base))
            .min()
            .unwrap_or_else(|| self.end())
    }

    /// Forgets the records every group has committed.
    fn forget_committed(&mut self) {
        let upto = self.oldest_uncommitted();
        while self.base < upto && !self.log.is_empty() {
            self.log.pop_front();
            self.base += 1;
        }
    }
}

impl MemoryBus {
    /// A bus whose topics hold at most `capacity` uncommitted records each.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            topics: Mutex::new(HashMap::new()),
        }
    }

    /// Uncommitted records a topic holds before producers wait.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    fn topic(&self, name: &str) -> Arc<Topic> {
        lock(&self.topics)
            .entry(name.to_owned())
            .or_insert_with(|| {
                Arc::new(Topic {
                    name: name.to_owned(),
                    capacity: self.capacity,
                    retain_latest: name.ends_with(".dlq"),
                    state: Mutex::new(TopicState::default()),
                    appended: Notify::new(),
                    freed: Notify::new(),
                })
            })
            .clone()
    }

    /// Joins group `group` on `topic`, resuming at the group's commit (a group new to the
    /// topic starts at the oldest record it holds); one consumer per group at a time.
    pub fn consumer(&self, topic: &str, group: &str) -> Result<MemoryConsumer> {
        let topic = self.topic(topic);
        {
            let mut state = lock(&topic.state);
            let base = state.base;
            let joined = state.groups.entry(group.to_owned()).or_insert(GroupState {
                committed: base,
                ..GroupState::default()
            });
            if joined.attached {
                return Err(Error::ConsumerTaken {
                    topic: topic.name.clone(),
                    group: group.to_owned(),
                });
            }
            joined.attached = true;
            joined.position = joined.committed.max(base);
        }
        Ok(MemoryConsumer {
            topic,
            group: group.to_owned(),
        })
    }

    /// Records currently held by `topic` (committed ones are forgotten), oldest first.
    pub fn snapshot(&self, topic: &str) -> Vec<Delivery> {
        lock(&self.topic(topic).state).log.iter().cloned().collect()
    }
}

impl Topic {
    /// Appends one record, waiting for room unless the topic keeps only its latest records.
    async fn append(&self, record: BusRecord) {
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            {
                let mut state = lock(&self.state);
                let held = (state.end() - state.oldest_uncommitted()) as usize;
                let unread_only = state.groups.is_empty() && self.retain_latest;
                if held < self.capacity || unread_only {
                    if unread_only && state.log.len() >= self.capacity {
                        state.log.pop_front();
                        state.base += 1;
                        tracing::warn!(topic = %self.name, "memory topic full with no consumer; oldest record dropped");
                    }
                    let offset = state.end();
                    state.log.push_back(Delivery {
                        topic: self.name.clone(),
                        partition: 0,
                        offset,
                        timestamp_ms: now_ms(),
                        record,
                    });
                    drop(state);
                    // Every group's consumer may be waiting for it.
                    self.appended.notify_waiters();
                    return;
                }
            }
            freed.await;
        }
    }
}

#[async_trait]
impl Producer for MemoryBus {
    fn system(&self) -> &'static str {
        "memory"
    }

    fn max_record_bytes(&self) -> usize {
        crate::DEFAULT_MAX_RECORD_BYTES
    }

    async fn enqueue(&self, topic: &str, records: Vec<BusRecord>) -> Result<Receipt> {
        let topic = self.topic(topic);
        for record in records {
            topic.append(record).await;
        }
        // Appended means held: the receipt is already settled.
        Ok(futures::future::ready(Ok(())).boxed())
    }
}

/// A consumer of one memory topic in one group. Dropping it leaves the group's uncommitted
/// records for the group's next consumer.
pub struct MemoryConsumer {
    topic: Arc<Topic>,
    group: String,
}

impl MemoryConsumer {
    fn take(&self, max: usize) -> Vec<Delivery> {
        let mut state = lock(&self.topic.state);
        let base = state.base;
        let Some(position) = state.groups.get(&self.group).map(|g| g.position) else {
            return Vec::new();
        };
        let start = (position - base).max(0) as usize;
        let batch: Vec<Delivery> = state.log.iter().skip(start).take(max).cloned().collect();
        if let Some(group) = state.groups.get_mut(&self.group) {
            group.position = position.max(base) + batch.len() as i64;
        }
        batch
    }
}

#[async_trait]
impl Consumer for MemoryConsumer {
    fn durable(&self) -> bool {
        false
    }

    fn system(&self) -> &'static str {
        "memory"
    }

    async fn poll(&mut self, max: usize, wait: Duration) -> Result<Vec<Delivery>> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let appended = self.topic.appended.notified();
            let batch = self.take(max);
            if !batch.is_empty() {
                return Ok(batch);
            }
            if tokio::time::timeout_at(deadline, appended).await.is_err() {
                return Ok(Vec::new());
            }
        }
    }

    async fn commit(&mut self, batch: &[Delivery]) -> Result<()> {
        let Some(upto) = batch.iter().map(|d| d.offset + 1).max() else {
            return Ok(());
        };
        let mut state = lock(&self.topic.state);
        if let Some(group) = state.groups.get_mut(&self.group)
            && upto > group.committed
        {
            group.committed = upto;
            state.forget_committed();
        }
        drop(state);
        self.topic.freed.notify_waiters();
        Ok(())
    }

    fn lag(&self) -> u64 {
        let state = lock(&self.topic.state);
        let committed = state.groups.get(&self.group).map_or(0, |g| g.committed);
        (state.end() - committed.max(state.base)).max(0) as u64
    }
}

impl Drop for MemoryConsumer {
    fn drop(&mut self) {
        let mut state = lock(&self.topic.state);
        let base = state.base;
        if let Some(group) = state.groups.get_mut(&self.group) {
            group.attached = false;
            group.position = group.committed.max(base);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn record(n: u32) -> BusRecord {
        BusRecord {
            key: Bytes::from(n.to_string()),
            value: Bytes::from(vec![n as u8]),
            headers: vec![],
        }
    }

    #[tokio::test]
    async fn delivers_in_order_and_forgets_committed() -> Result<()> {
        let bus = MemoryBus::new(16);
        bus.send_batch("t", (0..5).map(record).collect()).await?;
        let mut consumer = bus.consumer("t", "g")?;
        let batch = consumer.poll(3, Duration::from_millis(10)).await?;
        assert_eq!(
            batch.iter().map(|d| d.offset).collect::<Vec<_>>(),
            vec![0, 1, 2]
        );
        assert_eq!(consumer.lag(), 5);
        consumer.commit(&batch).await?;
        assert_eq!(consumer.lag(), 2);
        assert_eq!(bus.snapshot("t").len(), 2);
        Ok(())
    }

    #[tokio::test]
    async fn full_topic_applies_back_pressure_and_never_drops() -> Result<()> {
        let bus = Arc::new(MemoryBus::new(4));
        let producer = bus.clone();
        let send = tokio::spawn(async move {
            producer
                .send_batch("t", (0..10).map(record).collect())
                .await
        });
        let mut consumer = bus.consumer("t", "g")?;
        let mut seen = Vec::new();
        while seen.len() < 10 {
            let batch = consumer.poll(100, Duration::from_secs(5)).await?;
            assert!(!batch.is_empty(), "producer stalled");
            assert!(bus.snapshot("t").len() <= 4);
            consumer.commit(&batch).await?;
            seen.extend(batch.into_iter().map(|d| d.offset));
        }
        assert_eq!(seen, (0..10).collect::<Vec<_>>());
        assert!(matches!(send.await, Ok(Ok(()))));
        Ok(())
    }

    #[tokio::test]
    async fn uncommitted_records_are_redelivered_to_the_next_consumer() -> Result<()> {
        let bus = MemoryBus::new(16);
        bus.send_batch("t", (0..3).map(record).collect()).await?;
        {
            let mut first = bus.consumer("t", "g")?;
            let batch = first.poll(10, Duration::from_millis(10)).await?;
            first.commit(&batch[..1]).await?;
            assert!(matches!(
                bus.consumer("t", "g"),
                Err(Error::ConsumerTaken { .. })
            ));
        }
        let mut second = bus.consumer("t", "g")?;
        let again = second.poll(10, Duration::from_millis(10)).await?;
        assert_eq!(
            again.iter().map(|d| d.offset).collect::<Vec<_>>(),
            vec![1, 2]
        );
        Ok(())
    }

    #[tokio::test]
    async fn each_group_reads_every_record_and_a_record_is_kept_until_all_committed() -> Result<()>
    {
        let bus = MemoryBus::new(16);
        let mut fast = bus.consumer("t", "fast")?;
        let mut slow = bus.consumer("t", "slow")?;
        bus.send_batch("t", (0..4).map(record).collect()).await?;
        let offsets = |batch: &[Delivery]| batch.iter().map(|d| d.offset).collect::<Vec<_>>();
        let read = fast.poll(10, Duration::from_millis(10)).await?;
        assert_eq!(offsets(&read), vec![0, 1, 2, 3]);
        fast.commit(&read).await?;
        assert_eq!((fast.lag(), slow.lag()), (0, 4));
        assert_eq!(
            bus.snapshot("t").len(),
            4,
            "the slow group has read nothing"
        );
        let read = slow.poll(2, Duration::from_millis(10)).await?;
        assert_eq!(offsets(&read), vec![0, 1]);
        slow.commit(&read).await?;
        assert_eq!(offsets(&bus.snapshot("t")), vec![2, 3]);
        drop(slow);
        let mut again = bus.consumer("t", "slow")?;
        let read = again.poll(10, Duration::from_millis(10)).await?;
        assert_eq!(offsets(&read), vec![2, 3]);
        Ok(())
    }

    #[tokio::test]
    async fn unread_dead_letter_topic_keeps_latest() -> Result<()> {
        let bus = MemoryBus::new(2);
        bus.send_batch("x.dlq", (0..5).map(record).collect())
            .await?;
        let kept: Vec<i64> = bus.snapshot("x.dlq").iter().map(|d| d.offset).collect();
        assert_eq!(kept, vec![3, 4]);
        Ok(())
    }

    #[tokio::test]
    async fn poll_times_out_empty() -> Result<()> {
        let bus = MemoryBus::new(2);
        let mut consumer = bus.consumer("t", "g")?;
        assert!(
            consumer
                .poll(10, Duration::from_millis(5))
                .await?
                .is_empty()
        );
        Ok(())
    }
}
