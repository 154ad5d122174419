//! `memory://`: an in-process bus of bounded topics, one partition each.
//!
//! A topic is a log of uncommitted records. Producers wait while a topic holds `capacity`
//! uncommitted records (back-pressure, nothing dropped). A consumer reads from its position
//! and commits; a new consumer in the same group starts again at the last commit, so a
//! record is delivered at least once. Dead-letter topics (names ending in `.dlq`) that
//! nobody reads keep their latest `capacity` records instead of stopping the pipeline.

use crate::{BusRecord, Consumer, Delivery, Error, Producer, Receipt, Result};
use async_trait::async_trait;
use futures::FutureExt;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
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
    /// First offset not yet committed.
    committed: i64,
    /// Next offset to deliver.
    position: i64,
    /// Group of the attached consumer, if any.
    consumer: Option<String>,
}

impl TopicState {
    fn end(&self) -> i64 {
        self.base + self.log.len() as i64
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind; keep using it.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
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

    /// Joins group `group` on `topic`; one consumer per topic at a time.
    pub fn consumer(&self, topic: &str, group: &str) -> Result<MemoryConsumer> {
        let topic = self.topic(topic);
        {
            let mut state = lock(&topic.state);
            if let Some(existing) = &state.consumer {
                return Err(Error::ConsumerTaken {
                    topic: topic.name.clone(),
                    group: existing.clone(),
                });
            }
            state.consumer = Some(group.to_owned());
            state.position = state.committed.max(state.base);
        }
        Ok(MemoryConsumer { topic })
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
                let held = (state.end() - state.committed.max(state.base)) as usize;
                let unread_only = state.consumer.is_none() && self.retain_latest;
                if held < self.capacity || unread_only {
                    if unread_only && state.log.len() >= self.capacity {
                        state.log.pop_front();
                        state.base += 1;
                        state.committed = state.committed.max(state.base);
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
                    self.appended.notify_one();
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

/// The consumer of one memory topic. Dropping it leaves uncommitted records for the next
/// consumer of the topic.
pub struct MemoryConsumer {
    topic: Arc<Topic>,
}

impl MemoryConsumer {
    fn take(&self, max: usize) -> Vec<Delivery> {
        let mut state = lock(&self.topic.state);
        let start = (state.position - state.base).max(0) as usize;
        let batch: Vec<Delivery> = state.log.iter().skip(start).take(max).cloned().collect();
        state.position += batch.len() as i64;
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
        if upto > state.committed {
            state.committed = upto;
            while state.base < upto && !state.log.is_empty() {
                state.log.pop_front();
                state.base += 1;
            }
        }
        drop(state);
        self.topic.freed.notify_waiters();
        Ok(())
    }

    fn lag(&self) -> u64 {
        let state = lock(&self.topic.state);
        (state.end() - state.committed.max(state.base)).max(0) as u64
    }
}

impl Drop for MemoryConsumer {
    fn drop(&mut self) {
        let mut state = lock(&self.topic.state);
        state.consumer = None;
        state.position = state.committed.max(state.base);
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
