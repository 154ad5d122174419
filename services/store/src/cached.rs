//! [`CachedStore`]: a store whose by-id reads go to a cache first.

use crate::{Page, PageRequest, PaymentFilter, Result, Sink, Stats, Store};
use async_trait::async_trait;
use bytes::Bytes;
use payments_core::pb;
use payments_core::service_error::with_causes;
use std::sync::Arc;

/// A by-id cache of payments (the Redis sink is one).
#[async_trait]
pub trait PaymentCache: Send + Sync {
    /// The cached payment, if any.
    async fn cached(&self, payment_id: &str) -> Result<Option<pb::Payment>>;
    /// Caches a payment read from the store, unless one is cached already.
    async fn fill(&self, payment: &pb::Payment) -> Result<()>;
    /// Where the cache is, for logs.
    fn describe(&self) -> String;
}

/// Reads by id from `cache` first, then from `store` (filling the cache); everything else
/// goes to `store`. A cache that fails is logged and bypassed: it never fails a read.
pub struct CachedStore {
    store: Arc<dyn Store>,
    cache: Arc<dyn PaymentCache>,
}

impl CachedStore {
    /// `store` with `cache` in front of its by-id reads.
    pub fn new(store: Arc<dyn Store>, cache: Arc<dyn PaymentCache>) -> Self {
        Self { store, cache }
    }
}

#[async_trait]
impl Sink for CachedStore {
    async fn upsert_encoded(
        &self,
        payments: &[pb::Payment],
        encoded: &[Option<Bytes>],
    ) -> Result<u64> {
        self.store.upsert_encoded(payments, encoded).await
    }

    async fn ping(&self) -> Result<()> {
        self.store.ping().await
    }

    fn describe(&self) -> String {
        format!(
            "{} (cache {})",
            self.store.describe(),
            self.cache.describe()
        )
    }

    async fn close(&self) -> Result<()> {
        self.store.close().await
    }
}

#[async_trait]
impl Store for CachedStore {
    async fn get(&self, payment_id: &str) -> Result<Option<pb::Payment>> {
        match self.cache.cached(payment_id).await {
            Ok(Some(payment)) => return Ok(Some(payment)),
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(
                    error = with_causes(&error),
                    payment_id,
                    "cache read failed; reading the store"
                )
            }
        }
        let found = self.store.get(payment_id).await?;
        if let Some(payment) = &found
            && let Err(error) = self.cache.fill(payment).await
        {
            tracing::warn!(error = with_causes(&error), payment_id, "cache fill failed");
        }
        Ok(found)
    }

    async fn list(&self, filter: &PaymentFilter, page: &PageRequest) -> Result<Page> {
        self.store.list(filter, page).await
    }

    async fn stats(&self, filter: &PaymentFilter) -> Result<Stats> {
        self.store.stats(filter).await
    }
}
