//! The message bus between ingest and processor, chosen by URL.
//!
//! - `memory://[?capacity=N]`: in-process, bounded, back-pressure (a full topic makes
//!   producers wait; it never drops a payment). For `paymentsctl up` and tests.
//!
//! Producers ([`Producer`]) return only once the bus holds a record; consumers
//! ([`Consumer`]) deliver records at least once and forget them only when committed.

mod error;
pub mod memory;
mod record;
mod url;

pub use error::{Error, Result};
pub use record::{BusRecord, Delivery, Header, headers};
pub use url::{BusUrl, parse_bus_url};

use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

/// The topic payments travel on (the seed's name).
pub const PAYMENTS_TOPIC: &str = "payment-transactions";
/// Where records that cannot be processed go, with headers that say why.
pub const DEAD_LETTER_TOPIC: &str = "payment-transactions.dlq";

/// Puts records on the bus.
#[async_trait]
pub trait Producer: Send + Sync {
    /// Appends `records` to `topic` in order and returns once the bus holds every one of
    /// them; waits while the bus is full.
    async fn send_batch(&self, topic: &str, records: Vec<BusRecord>) -> Result<()>;

    /// Appends one record; see [`Producer::send_batch`].
    async fn send(&self, topic: &str, record: BusRecord) -> Result<()> {
        self.send_batch(topic, vec![record]).await
    }
}

/// Reads records from one topic as a member of a consumer group.
#[async_trait]
pub trait Consumer: Send + Sync {
    /// Up to `max` records after the last one delivered; waits at most `wait` for the first
    /// one and returns an empty batch when none arrived.
    async fn poll(&mut self, max: usize, wait: Duration) -> Result<Vec<Delivery>>;

    /// Marks every delivered record up to and including `delivery` as processed; the bus
    /// may forget it, and a restarted group resumes after it.
    async fn commit(&mut self, delivery: &Delivery) -> Result<()>;

    /// Records delivered to the group but not yet committed, plus those waiting (lag).
    fn lag(&self) -> u64;
}

/// Refuses a bus URL that only works inside one process (`memory://`) for `service`, a
/// binary that must reach its peers over the network.
pub fn require_networked(url: &str, service: &str) -> Result<()> {
    match parse_bus_url(url)? {
        BusUrl::Memory { .. } => Err(Error::InProcessOnly {
            url: url.to_owned(),
            service: service.to_owned(),
        }),
    }
}

/// A connected bus: a shared producer and a way to join consumer groups.
#[derive(Clone)]
pub struct Bus {
    inner: Arc<memory::MemoryBus>,
}

impl Bus {
    /// Connects to the bus at `url`; unknown schemes are an error that names the
    /// supported ones.
    pub fn connect(url: &str) -> Result<Self> {
        match parse_bus_url(url)? {
            BusUrl::Memory { capacity } => Ok(Self {
                inner: Arc::new(memory::MemoryBus::new(capacity)),
            }),
        }
    }

    /// The producer side.
    pub fn producer(&self) -> Arc<dyn Producer> {
        self.inner.clone()
    }

    /// Joins consumer group `group` on `topic`.
    pub fn consumer(&self, topic: &str, group: &str) -> Result<Box<dyn Consumer>> {
        Ok(Box::new(self.inner.consumer(topic, group)?))
    }

    /// Whether the bus can take traffic (the in-process bus always can).
    pub async fn ready(&self) -> bool {
        true
    }

    /// A description of the bus for logs, e.g. `memory://?capacity=10000`.
    pub fn describe(&self) -> String {
        format!("memory://?capacity={}", self.inner.capacity())
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
