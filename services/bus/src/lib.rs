//! The message bus between ingest and processor, chosen by URL.
//!
//! - `file://PATH`: in one process, durable: a segment log in the directory `PATH` that
//!   outlives the process, even a `kill -9` (see [`mod@file`]). `paymentsctl up`'s default.
//! - `memory://[?capacity=N]`: in-process, bounded, back-pressure (a full topic makes
//!   producers wait; it never drops a payment), and gone with the process. For tests, and
//!   `up` when asked.
//! - `kafka://host:port[,host:port][?option=value&…]` (cargo feature `kafka`): a Kafka
//!   cluster through librdkafka; see [`KafkaOptions`] for the options.
//!
//! Producers ([`Producer`]) return only once the bus holds a record; consumers
//! ([`Consumer`]) deliver records at least once and forget them only when committed.

mod error;
pub mod file;
#[cfg(feature = "kafka")]
pub mod kafka;
mod kafka_options;
pub mod memory;
mod record;
mod shared_state;
mod url;

pub use error::{Error, Result};
pub use kafka_options::{COMPRESSION_CODECS, KafkaOptions};
pub use record::{BusRecord, DeadLetterHeaders, Delivery, Header, ValueEncoding, headers};
pub use url::{BusUrl, parse_bus_url};

use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

/// The topic payments travel on (the seed's name).
pub const PAYMENTS_TOPIC: &str = "payment-transactions";
/// Where records that cannot be processed go, with headers that say why.
pub const DEAD_LETTER_TOPIC: &str = "payment-transactions.dlq";

/// Resolves once the bus durably holds every record of one [`Producer::enqueue`] call, or
/// with the first delivery error.
pub type Receipt = futures::future::BoxFuture<'static, Result<()>>;

/// Puts records on the bus.
#[async_trait]
pub trait Producer: Send + Sync {
    /// Hands `records` to the bus in order, waiting while its queue is full (back-pressure),
    /// and returns a [`Receipt`] for their delivery. Calls made one after another keep
    /// their order; many receipts may be outstanding at once (pipelining).
    async fn enqueue(&self, topic: &str, records: Vec<BusRecord>) -> Result<Receipt>;

    /// Appends `records` to `topic` in order and returns once the bus holds every one of
    /// them; waits while the bus is full.
    async fn send_batch(&self, topic: &str, records: Vec<BusRecord>) -> Result<()> {
        self.enqueue(topic, records).await?.await
    }

    /// Appends one record; see [`Producer::send_batch`].
    async fn send(&self, topic: &str, record: BusRecord) -> Result<()> {
        self.send_batch(topic, vec![record]).await
    }

    /// The bus's OpenTelemetry `messaging.system`: `kafka`, or `memory` in-process. Every
    /// backend names itself: there is no default to inherit by mistake.
    fn system(&self) -> &'static str;

    /// The largest record ([`BusRecord::size`]) this producer carries; a caller refuses a
    /// larger one on its own instead of letting it fail the records sent with it.
    fn max_record_bytes(&self) -> usize;
}

/// The largest record a producer carries unless configured otherwise: librdkafka's
/// `message.max.bytes` default, which the in-process bus keeps too so that both refuse alike.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 1_000_000;

/// Reads records from one topic as a member of a consumer group.
#[async_trait]
pub trait Consumer: Send + Sync {
    /// Up to `max` records after the last one delivered; waits at most `wait` for the first
    /// one and returns an empty batch when none arrived.
    async fn poll(&mut self, max: usize, wait: Duration) -> Result<Vec<Delivery>>;

    /// Marks every record of `batch` (and, per partition, every record delivered before
    /// it) as processed: a restarted group resumes after them.
    async fn commit(&mut self, batch: &[Delivery]) -> Result<()>;

    /// Records of the topic this consumer has not yet processed (lag).
    fn lag(&self) -> u64;

    /// Whether this consumer has read to the end of every partition it holds, asked of the
    /// bus now (where [`Consumer::lag`] may be a periodic estimate).
    async fn caught_up(&mut self) -> Result<bool> {
        Ok(self.lag() == 0)
    }

    /// Partitions of the topic assigned to this consumer now.
    fn assigned_partitions(&self) -> usize {
        1
    }

    /// Whether records survive this process: when true, a stopping consumer need not
    /// drain its topic, because the next member of its group resumes from the commit.
    fn durable(&self) -> bool;

    /// The bus's OpenTelemetry `messaging.system` (`kafka`, `memory`).
    fn system(&self) -> &'static str;

    /// Commits what [`Consumer::commit`] marked, synchronously, and leaves the group.
    async fn close(&mut self) -> Result<()> {
        Ok(())
    }
}

/// Refuses a bus URL that only works inside one process (`memory://`) for `service`, a
/// binary that must reach its peers over the network.
pub fn require_networked(url: &str, service: &str) -> Result<()> {
    match parse_bus_url(url)? {
        BusUrl::Memory { .. } | BusUrl::File { .. } => Err(Error::InProcessOnly {
            url: url.to_owned(),
            service: service.to_owned(),
        }),
        BusUrl::Kafka(_) => Ok(()),
    }
}

/// A connected bus: a shared producer and a way to join consumer groups.
#[derive(Clone)]
pub struct Bus {
    backend: Backend,
    encoding: ValueEncoding,
}

#[derive(Clone)]
enum Backend {
    Memory(Arc<memory::MemoryBus>),
    File(Arc<file::FileBus>),
    #[cfg(feature = "kafka")]
    Kafka(Arc<kafka::KafkaBus>),
}

impl Bus {
    /// Connects to the bus at `url`. Unknown schemes are an error that names the
    /// supported ones; an unreachable Kafka cluster is [`Error::Unreachable`].
    pub async fn connect(url: &str) -> Result<Self> {
        let (backend, encoding) = match parse_bus_url(url)? {
            BusUrl::Memory { capacity } => (
                Backend::Memory(Arc::new(memory::MemoryBus::new(capacity))),
                ValueEncoding::Protobuf,
            ),
            BusUrl::File { path } => (
                Backend::File(Arc::new(file::FileBus::open(&path).await?)),
                ValueEncoding::Protobuf,
            ),
            #[cfg(feature = "kafka")]
            BusUrl::Kafka(options) => {
                let encoding = options.encoding;
                (
                    Backend::Kafka(Arc::new(kafka::KafkaBus::connect(options).await?)),
                    encoding,
                )
            }
            #[cfg(not(feature = "kafka"))]
            BusUrl::Kafka(_) => return Err(Error::FeatureDisabled { scheme: "kafka" }),
        };
        Ok(Self { backend, encoding })
    }

    /// How this bus's producers encode payments (the URL's `encoding=`; protobuf unless
    /// it says `json`). Consumers read either.
    pub fn value_encoding(&self) -> ValueEncoding {
        self.encoding
    }

    /// The start-up of a process that must reach its peers over the network: refuses an
    /// in-process URL for `service`, connects, and makes sure `topics` exist.
    pub async fn connect_networked(url: &str, service: &str, topics: &[&str]) -> Result<Self> {
        require_networked(url, service)?;
        let bus = Self::connect(url).await?;
        bus.ensure_topics(topics).await?;
        tracing::info!(bus = %bus.describe(), ?topics, "bus connected");
        Ok(bus)
    }

    /// Makes sure `topics` exist (Kafka creates the missing ones through its admin API;
    /// memory topics exist on first use).
    pub async fn ensure_topics(&self, topics: &[&str]) -> Result<()> {
        match &self.backend {
            // Memory and file topics come into being when first used.
            Backend::Memory(_) | Backend::File(_) => {
                let _ = topics;
                Ok(())
            }
            #[cfg(feature = "kafka")]
            Backend::Kafka(bus) => bus.ensure_topics(topics).await,
        }
    }

    /// Deletes `topics` with every record they hold, on Kafka (a missing topic is no error);
    /// the buses inside this process keep theirs until they end.
    pub async fn delete_topics(&self, topics: &[&str]) -> Result<()> {
        match &self.backend {
            Backend::Memory(_) | Backend::File(_) => {
                let _ = topics;
                Ok(())
            }
            #[cfg(feature = "kafka")]
            Backend::Kafka(bus) => bus.delete_topics(topics).await,
        }
    }

    /// The producer side.
    pub fn producer(&self) -> Arc<dyn Producer> {
        match &self.backend {
            Backend::Memory(bus) => bus.clone(),
            Backend::File(bus) => bus.clone(),
            #[cfg(feature = "kafka")]
            Backend::Kafka(bus) => bus.producer(),
        }
    }

    /// Joins consumer group `group` on `topic`.
    pub fn consumer(&self, topic: &str, group: &str) -> Result<Box<dyn Consumer>> {
        self.consumer_as(topic, group, None)
    }

    /// Joins consumer group `group` on `topic`, as static member `instance_id` when given
    /// (Kafka's `group.instance.id`): a restarted member with the same id takes back its
    /// partitions at once instead of waiting for the group to give up on its old self.
    pub fn consumer_as(
        &self,
        topic: &str,
        group: &str,
        instance_id: Option<&str>,
    ) -> Result<Box<dyn Consumer>> {
        Ok(match &self.backend {
            Backend::Memory(bus) => {
                let _ = instance_id;
                Box::new(bus.consumer(topic, group)?)
            }
            Backend::File(bus) => Box::new(bus.consumer(topic, group)?),
            #[cfg(feature = "kafka")]
            Backend::Kafka(bus) => Box::new(bus.consumer(topic, group, instance_id)?),
        })
    }

    /// Every record `topic` holds now, oldest first per partition, at most `limit`, read
    /// outside any consumer group (nothing is committed). For inspecting dead letters.
    pub async fn read_topic(&self, topic: &str, limit: usize) -> Result<Vec<Delivery>> {
        match &self.backend {
            Backend::Memory(bus) => Ok(bus.snapshot(topic).into_iter().take(limit).collect()),
            Backend::File(bus) => bus.snapshot(topic, limit).await,
            #[cfg(feature = "kafka")]
            Backend::Kafka(bus) => bus.read_topic(topic, limit).await,
        }
    }

    /// How many records of `topic` group `group` has not committed, on a bus inside this
    /// process (`None` for Kafka, whose own tools say): what a drain that ran out of time
    /// left behind.
    pub async fn uncommitted(&self, topic: &str, group: &str) -> Result<Option<u64>> {
        match &self.backend {
            Backend::Memory(bus) => Ok(Some(bus.snapshot(topic).len() as u64)),
            Backend::File(bus) => bus.uncommitted(topic, group).await.map(Some),
            #[cfg(feature = "kafka")]
            Backend::Kafka(_) => Ok(None),
        }
    }

    /// Ends the bus at the end of its process (for a file bus: its log is flushed to the
    /// disk; see `FileBus::close`). Use nothing of it afterwards.
    pub async fn close(&self) -> Result<()> {
        match &self.backend {
            Backend::File(bus) => bus.close().await,
            Backend::Memory(_) => Ok(()),
            #[cfg(feature = "kafka")]
            Backend::Kafka(_) => Ok(()),
        }
    }

    /// Whether the bus can take traffic now (the in-process buses always can; Kafka when a
    /// broker answers); the error says which bus is unreachable, for readiness probes.
    pub async fn check_ready(&self) -> Result<()> {
        let ready = match &self.backend {
            Backend::Memory(_) | Backend::File(_) => true,
            #[cfg(feature = "kafka")]
            Backend::Kafka(bus) => bus.ready().await,
        };
        if ready {
            Ok(())
        } else {
            Err(Error::Unreachable {
                brokers: self.describe(),
                reason: "no broker answered a metadata request".to_owned(),
            })
        }
    }

    /// Whether records outlive this process (a file or networked bus).
    pub fn durable(&self) -> bool {
        !matches!(self.backend, Backend::Memory(_))
    }

    /// A description of the bus for logs, e.g. `memory://?capacity=10000`.
    pub fn describe(&self) -> String {
        match &self.backend {
            Backend::Memory(bus) => format!("memory://?capacity={}", bus.capacity()),
            Backend::File(bus) => format!("file://{}", bus.path().display()),
            #[cfg(feature = "kafka")]
            Backend::Kafka(bus) => bus.describe(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standalone_services_refuse_the_in_process_bus() {
        let err = require_networked("memory://", "payments-ingest")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("standalone payments-ingest would have no peer"),
            "{err}"
        );
        assert!(matches!(
            require_networked("nats://x", "payments-ingest"),
            Err(Error::InvalidUrl { .. })
        ));
    }
}
