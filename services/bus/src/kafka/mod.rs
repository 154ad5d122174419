//! `kafka://`: the Kafka bus over librdkafka.
//!
//! The producer is idempotent with `acks=all`, so a record is held by every in-sync
//! replica, once, before its [`crate::Receipt`] resolves. Consumers join a consumer group,
//! store offsets only when told to ([`crate::Consumer::commit`]), commit them every
//! second, on partition revoke and on close, and report their lag from librdkafka's
//! statistics.

mod admin;
mod consumer;
mod group_context;
mod producer;
mod reader;

pub use consumer::KafkaConsumer;
pub use producer::KafkaProducer;

use crate::{KafkaOptions, Result};
use rdkafka::ClientConfig;
use std::sync::Arc;
use std::time::Duration;

/// A connected Kafka cluster: one shared producer, and consumers on demand.
pub struct KafkaBus {
    options: KafkaOptions,
    producer: Arc<KafkaProducer>,
}

impl KafkaBus {
    /// Connects to the brokers `options` names; fails with [`crate::Error::Unreachable`]
    /// when none answers within the connect timeout.
    pub async fn connect(options: KafkaOptions) -> Result<Self> {
        admin::check_reachable(&options, options.connect_timeout).await?;
        let producer = Arc::new(KafkaProducer::new(&options)?);
        Ok(Self { options, producer })
    }

    /// Creates each of `topics` that does not exist yet, with the URL's partitions and
    /// replication.
    pub async fn ensure_topics(&self, topics: &[&str]) -> Result<()> {
        admin::create_missing(&self.options, topics).await
    }

    /// Deletes `topics` with every record they hold (a missing one is no error).
    pub async fn delete_topics(&self, topics: &[&str]) -> Result<()> {
        admin::delete(&self.options, topics).await
    }

    /// The shared producer.
    pub fn producer(&self) -> Arc<KafkaProducer> {
        self.producer.clone()
    }

    /// Joins consumer group `group` on `topic`, as static member `instance_id` if given.
    pub fn consumer(
        &self,
        topic: &str,
        group: &str,
        instance_id: Option<&str>,
    ) -> Result<KafkaConsumer> {
        KafkaConsumer::new(&self.options, topic, group, instance_id)
    }

    /// Every record of `topic` as it is now (at most `limit`), outside any group.
    pub async fn read_topic(&self, topic: &str, limit: usize) -> Result<Vec<crate::Delivery>> {
        reader::read_topic(&self.options, topic, limit).await
    }

    /// Whether a broker answers a metadata request within a second.
    pub async fn ready(&self) -> bool {
        admin::check_reachable(&self.options, Duration::from_secs(1))
            .await
            .is_ok()
    }

    /// The URL, normalized.
    pub fn describe(&self) -> String {
        self.options.describe()
    }
}

/// The settings every client shares: brokers and the URL's `librdkafka.*` extras.
fn client_config(options: &KafkaOptions) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", &options.brokers);
    for (name, value) in &options.extra {
        config.set(name, value);
    }
    config
}

/// A librdkafka error as this crate's error, saying what was being done.
fn kafka_error(operation: &'static str, error: impl std::fmt::Display) -> crate::Error {
    crate::Error::Kafka {
        operation,
        reason: error.to_string(),
    }
}
