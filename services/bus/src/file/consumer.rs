//! [`FileConsumer`]: a member of a consumer group on one topic of the file bus.

use super::{FileBus, Topic};
use crate::shared_state::lock;
use crate::{Consumer, Delivery, Result};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

/// A consumer of one topic of the file bus. Dropping it leaves its uncommitted records for
/// the group's next consumer.
pub struct FileConsumer {
    bus: Arc<FileBus>,
    topic: Arc<Topic>,
    group: String,
    /// Next offset to deliver.
    position: i64,
    /// First offset not yet committed.
    committed: i64,
    /// Records read from the log past what a poll asked for (the rest of a frame), from
    /// `position` on: the next polls take them rather than read the frame again.
    read_ahead: VecDeque<Delivery>,
}

impl FileConsumer {
    /// Group `group`'s consumer of `topic`, attached already, starting at its commit
    /// `committed`.
    pub(super) fn new(bus: Arc<FileBus>, topic: Arc<Topic>, group: &str, committed: i64) -> Self {
        Self {
            bus,
            topic,
            group: group.to_owned(),
            position: committed,
            committed,
            read_ahead: VecDeque::new(),
        }
    }
}

#[async_trait::async_trait]
impl Consumer for FileConsumer {
    fn durable(&self) -> bool {
        true
    }

    fn system(&self) -> &'static str {
        "file"
    }

    async fn poll(&mut self, max: usize, wait: Duration) -> Result<Vec<Delivery>> {
        if self
            .read_ahead
            .front()
            .is_some_and(|d| d.offset == self.position)
        {
            let take = max.min(self.read_ahead.len());
            let batch: Vec<Delivery> = self.read_ahead.drain(..take).collect();
            if let Some(last) = batch.last() {
                self.position = last.offset + 1;
            }
            return Ok(batch);
        }
        self.read_ahead.clear();
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let appended = self.topic.appended.notified();
            tokio::pin!(appended);
            appended.as_mut().enable();
            let (end, from_tail) = {
                let state = lock(&self.topic.state);
                let from_tail = state.tail.read(self.position, max).unwrap_or_default();
                (state.end, from_tail)
            };
            if end > self.position {
                let before = self.position;
                let batch = if from_tail.is_empty() {
                    let mut read = self.bus.read(&self.topic.name, self.position, max).await?;
                    self.position = self.position.max(read.reached);
                    if read.deliveries.len() > max {
                        self.read_ahead = read.deliveries.split_off(max).into();
                    }
                    read.deliveries
                } else {
                    from_tail
                };
                if let Some(last) = batch.last() {
                    self.position = last.offset + 1;
                    return Ok(batch);
                }
                if self.position > before {
                    // Past records the log lost or found damaged: read on.
                    continue;
                }
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
        if upto > self.committed {
            self.bus.commit(&self.topic.name, &self.group, upto).await?;
            self.committed = upto;
        }
        Ok(())
    }

    fn lag(&self) -> u64 {
        (lock(&self.topic.state).end - self.committed).max(0) as u64
    }

    async fn caught_up(&mut self) -> Result<bool> {
        Ok(self.position >= lock(&self.topic.state).end)
    }
}

impl Drop for FileConsumer {
    fn drop(&mut self) {
        lock(&self.topic.state)
            .attached
            .retain(|g| g != &self.group);
    }
}
