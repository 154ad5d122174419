//! A consumer-group member that stores offsets only when told to.

use super::group_context::GroupContext;
use super::{client_config, kafka_error};
use crate::{BusRecord, Consumer, Delivery, KafkaOptions, Result};
use async_trait::async_trait;
use bytes::Bytes;
use futures::FutureExt;
use rdkafka::ClientConfig;
use rdkafka::consumer::{CommitMode, Consumer as _, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Headers, Message};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use rdkafka::types::RDKafkaErrorCode;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::Duration;

/// Reads one topic as a member of a consumer group; see [`Consumer`].
pub struct KafkaConsumer {
    consumer: StreamConsumer<GroupContext>,
    /// What [`KafkaConsumer::new`] configured, kept to replace a consumer that librdkafka
    /// declared failed for good.
    config: ClientConfig,
    topic: String,
    lag: Arc<AtomicI64>,
    assigned: Arc<AtomicUsize>,
}

impl KafkaConsumer {
    /// Joins `group` (as static member `instance_id`, if given) and subscribes to `topic`;
    /// a new group starts at the earliest record.
    pub fn new(
        options: &KafkaOptions,
        topic: &str,
        group: &str,
        instance_id: Option<&str>,
    ) -> Result<Self> {
        let mut config = client_config(options);
        config
            .set("group.id", group)
            .set("enable.auto.commit", "true")
            .set("auto.commit.interval.ms", "1000")
            .set("enable.auto.offset.store", "false")
            // The group context gives the partitions a group never committed this start itself.
            .set("auto.offset.reset", "earliest")
            .set("statistics.interval.ms", "1000")
            .set(
                "session.timeout.ms",
                options.session_timeout.as_millis().to_string(),
            );
        if let Some(instance_id) = instance_id {
            config.set("group.instance.id", instance_id);
        }
        let lag = Arc::new(AtomicI64::new(0));
        let assigned = Arc::new(AtomicUsize::new(0));
        let consumer = subscribe(&config, topic, &lag, &assigned)?;
        Ok(Self {
            consumer,
            config,
            topic: topic.to_owned(),
            lag,
            assigned,
        })
    }

    /// When librdkafka has declared this consumer failed for good (a fatal error, such as a
    /// static member fenced after the broker restarted and the group moved on without it),
    /// replaces it with a new one that joins the group again. What was delivered but not
    /// committed is delivered again, which the sinks' upserts make harmless.
    fn recover_from_fatal_error(&mut self) -> Result<()> {
        let Some((code, reason)) = self.consumer.client().fatal_error() else {
            return Ok(());
        };
        tracing::warn!(
            error = %code,
            reason,
            "kafka consumer failed for good; joining the group again with a new consumer"
        );
        self.assigned.store(0, Ordering::Relaxed);
        self.consumer = subscribe(&self.config, &self.topic, &self.lag, &self.assigned)?;
        Ok(())
    }
}

/// A new consumer from `config`, subscribed to `topic`, reporting into `lag` and `assigned`.
fn subscribe(
    config: &ClientConfig,
    topic: &str,
    lag: &Arc<AtomicI64>,
    assigned: &Arc<AtomicUsize>,
) -> Result<StreamConsumer<GroupContext>> {
    let context = GroupContext {
        topic: topic.to_owned(),
        lag: lag.clone(),
        assigned: assigned.clone(),
    };
    let consumer: StreamConsumer<GroupContext> = config
        .create_with_context(context)
        .map_err(|e| kafka_error("create consumer", e))?;
    consumer
        .subscribe(&[topic])
        .map_err(|e| kafka_error("subscribe", e))?;
    Ok(consumer)
}

/// Copies a message out of librdkafka's buffer.
pub(super) fn to_delivery(message: &BorrowedMessage<'_>) -> Delivery {
    let headers = message
        .headers()
        .map(|headers| {
            headers
                .iter()
                .map(|h| {
                    (
                        crate::headers::name(h.key),
                        Bytes::copy_from_slice(h.value.unwrap_or_default()),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Delivery {
        topic: message.topic().to_owned(),
        partition: message.partition(),
        offset: message.offset(),
        timestamp_ms: message.timestamp().to_millis().unwrap_or(0),
        record: BusRecord {
            key: Bytes::copy_from_slice(message.key().unwrap_or_default()),
            value: Bytes::copy_from_slice(message.payload().unwrap_or_default()),
            headers,
        },
    }
}

#[async_trait]
impl Consumer for KafkaConsumer {
    async fn poll(&mut self, max: usize, wait: Duration) -> Result<Vec<Delivery>> {
        let first = match tokio::time::timeout(wait, self.consumer.recv()).await {
            Err(_) => return Ok(Vec::new()),
            Ok(Ok(message)) => to_delivery(&message),
            Ok(Err(error)) => {
                // Transient (a broker away, a rebalance): librdkafka reconnects by itself.
                // Fatal: only a new consumer gets going again.
                tracing::warn!(%error, "kafka poll failed; retrying");
                self.recover_from_fatal_error()?;
                tokio::time::sleep(Duration::from_millis(100)).await;
                return Ok(Vec::new());
            }
        };
        let mut batch = Vec::with_capacity(max.min(4_096));
        batch.push(first);
        // Take what is already fetched without waiting.
        while batch.len() < max {
            match self.consumer.recv().now_or_never() {
                Some(Ok(message)) => batch.push(to_delivery(&message)),
                Some(Err(error)) => {
                    tracing::warn!(%error, "kafka poll failed");
                    break;
                }
                None => break,
            }
        }
        Ok(batch)
    }

    async fn commit(&mut self, batch: &[Delivery]) -> Result<()> {
        let mut next: HashMap<(&str, i32), i64> = HashMap::new();
        for delivery in batch {
            let offset = next
                .entry((delivery.topic.as_str(), delivery.partition))
                .or_insert(0);
            *offset = (*offset).max(delivery.offset + 1);
        }
        let mut list = TopicPartitionList::with_capacity(next.len());
        for ((topic, partition), offset) in next {
            list.add_partition_offset(topic, partition, Offset::Offset(offset))
                .map_err(|e| kafka_error("store offsets", e))?;
        }
        if let Err(error) = self.consumer.store_offsets(&list) {
            // A partition revoked while its batch was being written: its new owner
            // processes those records again (the sinks' upserts make that harmless).
            tracing::warn!(%error, "offsets not stored; their records will be redelivered");
        }
        Ok(())
    }

    fn lag(&self) -> u64 {
        self.lag.load(Ordering::Relaxed).max(0) as u64
    }

    fn durable(&self) -> bool {
        true
    }

    fn system(&self) -> &'static str {
        "kafka"
    }

    async fn caught_up(&mut self) -> Result<bool> {
        let assignment = self
            .consumer
            .assignment()
            .map_err(|e| kafka_error("read assignment", e))?;
        let positions = self
            .consumer
            .position()
            .map_err(|e| kafka_error("read positions", e))?;
        let committed = self
            .consumer
            .committed_offsets(assignment.clone(), Duration::from_secs(5))
            .map_err(|e| kafka_error("read committed offsets", e))?;
        for element in assignment.elements() {
            let (topic, partition) = (element.topic(), element.partition());
            let (_, high) = self
                .consumer
                .fetch_watermarks(topic, partition, Duration::from_secs(5))
                .map_err(|e| kafka_error("read watermarks", e))?;
            // Where this member stands: what it read this session, else the group's commit.
            let offset_of = |list: &TopicPartitionList| match list
                .find_partition(topic, partition)
                .map(|e| e.offset())
            {
                Some(Offset::Offset(offset)) => Some(offset),
                _ => None,
            };
            let at = offset_of(&positions).or_else(|| offset_of(&committed));
            if at.is_none_or(|at| at < high) && high > 0 {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn assigned_partitions(&self) -> usize {
        self.assigned.load(Ordering::Relaxed)
    }

    async fn close(&mut self) -> Result<()> {
        if let Some((code, reason)) = self.consumer.client().fatal_error() {
            // Nothing can be committed any more; the group's next member gets the records
            // after the last commit again.
            tracing::warn!(error = %code, reason, "kafka consumer failed for good; left without a commit");
            return Ok(());
        }
        match self.consumer.commit_consumer_state(CommitMode::Sync) {
            Ok(()) | Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => {}
            Err(error) => return Err(kafka_error("commit on close", error)),
        }
        self.consumer.unsubscribe();
        tracing::info!("consumer left its group with its offsets committed");
        Ok(())
    }
}
