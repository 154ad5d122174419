//! `redis://HOST[:PORT][/DB][?prefix=P&ttl=SECONDS]`: a by-id cache of the latest revision
//! of each payment (with a TTL) and live aggregates, written by one Lua script per batch so
//! that a batch applies atomically and a replayed revision changes nothing.
//!
//! Redis is a [`Sink`], not a queryable [`crate::Store`]: it cannot list or filter. The
//! query service reads it first through [`RedisCache`] (`--cache redis://…`).

use crate::columns::encoded_at;
use crate::{Error, Result, Sink};
use async_trait::async_trait;
use bytes::Bytes;
use chrono::{TimeZone, Utc};
use payments_core::pb;
use prost::Message;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::collections::BTreeMap;

/// How long one command (a whole batch's script included) may take before it fails.
const RESPONSE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The batch script (see the comment at its top).
const APPLY_BATCH: &str = include_str!("apply_batch.lua");

/// Default key prefix.
pub const DEFAULT_PREFIX: &str = "payments:";
/// Default cache TTL: one day.
pub const DEFAULT_TTL_SECONDS: u64 = 86_400;

/// A connection to Redis with the URL's prefix and TTL.
#[derive(Clone)]
pub struct RedisSink {
    connection: ConnectionManager,
    script: std::sync::Arc<redis::Script>,
    prefix: String,
    ttl_seconds: u64,
    described: String,
}

/// Live aggregates as Redis holds them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveAggregates {
    /// Payments by rail (protobuf enum name).
    pub count_by_type: BTreeMap<String, i64>,
    /// Payments by currency.
    pub count_by_currency: BTreeMap<String, i64>,
    /// Payments now in each status.
    pub count_by_status: BTreeMap<String, i64>,
    /// Payments by the minute of their `created_at` (`yyyyMMddHHmm`, UTC).
    pub count_by_minute: BTreeMap<String, i64>,
    /// Minor units by currency.
    pub amount_by_currency: BTreeMap<String, i64>,
    /// Minor units by `RAIL|CURRENCY`.
    pub amount_by_type_currency: BTreeMap<String, i64>,
}

/// A failed batch script, as a refusal of its records when the script refused a payment
/// (or Redis refused an increment) rather than Redis being away.
fn batch_failed(error: redis::RedisError) -> Error {
    if error.code() == Some("REFUSED") || error.to_string().contains("overflow") {
        Error::refused("redis applying a batch", error)
    } else {
        backend("applying a batch", error)
    }
}

fn backend(context: &str, e: impl Into<crate::error::BoxError>) -> Error {
    Error::backend(format!("redis {context}"), e)
}

impl RedisSink {
    /// Connects to `url`; `prefix=` namespaces every key (default `payments:`) and `ttl=`
    /// sets the cache TTL in seconds (default a day).
    pub async fn open(url: &str) -> Result<Self> {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let invalid = |reason: String| Error::InvalidUrl {
            url: crate::redact(url),
            reason,
        };
        let (mut prefix, mut ttl_seconds) = (DEFAULT_PREFIX.to_owned(), DEFAULT_TTL_SECONDS);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("prefix", value)) => prefix = value.to_owned(),
                Some(("ttl", value)) => {
                    ttl_seconds = value.parse().ok().filter(|t| *t > 0).ok_or_else(|| {
                        invalid(format!(
                            "ttl must be a positive number of seconds, got {value:?}"
                        ))
                    })?;
                }
                _ => {
                    return Err(invalid(format!(
                        "unknown option {pair:?} (redis:// takes prefix and ttl)"
                    )));
                }
            }
        }
        let client = redis::Client::open(base).map_err(|e| invalid(e.to_string()))?;
        let described = crate::redact(url);
        // A batch is one script call over thousands of payments: under load it takes longer
        // than redis-rs's default half-second response timeout, which would fail a batch
        // Redis is still applying.
        let config = ConnectionManagerConfig::new().set_response_timeout(Some(RESPONSE_TIMEOUT));
        let connection = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|e| backend(&format!("connecting to {described}"), e))?;
        Ok(Self {
            connection,
            script: std::sync::Arc::new(redis::Script::new(APPLY_BATCH)),
            prefix,
            ttl_seconds,
            described,
        })
    }

    /// The cached latest revision of `payment_id`, if Redis still holds it.
    async fn get_cached(&self, payment_id: &str) -> Result<Option<pb::Payment>> {
        let mut connection = self.connection.clone();
        let body: Option<Vec<u8>> = connection
            .get(format!("{}payment:{payment_id}", self.prefix))
            .await
            .map_err(|e| backend("GET", e))?;
        body.map(|b| crate::columns::decode_body(payment_id, &b))
            .transpose()
    }

    /// Caches `payment` unless a revision of it is cached already (a read-through fill
    /// never replaces what the processor wrote).
    async fn fill_absent(&self, payment: &pb::Payment) -> Result<()> {
        let mut connection = self.connection.clone();
        let _: Option<String> = redis::cmd("SET")
            .arg(format!("{}payment:{}", self.prefix, payment.payment_id))
            .arg(payment.encode_to_vec())
            .arg("EX")
            .arg(self.ttl_seconds)
            .arg("NX")
            .query_async(&mut connection)
            .await
            .map_err(|e| backend("SET", e))?;
        Ok(())
    }

    /// The live aggregates.
    pub async fn aggregates(&self) -> Result<LiveAggregates> {
        let mut connection = self.connection.clone();
        let mut read = async |name: &str| -> Result<BTreeMap<String, i64>> {
            connection
                .hgetall(format!("{}agg:{name}", self.prefix))
                .await
                .map_err(|e| backend("HGETALL", e))
        };
        Ok(LiveAggregates {
            count_by_type: read("count:type").await?,
            count_by_currency: read("count:currency").await?,
            count_by_status: read("count:status").await?,
            count_by_minute: read("count:minute").await?,
            amount_by_currency: read("amount:currency").await?,
            amount_by_type_currency: read("amount:type_currency").await?,
        })
    }

    /// Deletes every key under this sink's prefix (for resets and tests); returns how many.
    pub async fn delete_all(&self) -> Result<u64> {
        let mut connection = self.connection.clone();
        let keys: Vec<String> = {
            let mut scan = connection
                .scan_match::<_, String>(format!("{}*", self.prefix))
                .await
                .map_err(|e| backend("SCAN", e))?;
            let mut keys = Vec::new();
            while let Some(key) = scan.next_item().await {
                keys.push(key.map_err(|e| backend("SCAN", e))?);
            }
            keys
        };
        let mut deleted = 0;
        for chunk in keys.chunks(1_000) {
            deleted += connection
                .del::<_, u64>(chunk)
                .await
                .map_err(|e| backend("DEL", e))?;
        }
        Ok(deleted)
    }

    /// The latest payment ids of `originator_id`, newest first (at most 100).
    pub async fn latest_of(&self, originator_id: &str) -> Result<Vec<String>> {
        let mut connection = self.connection.clone();
        connection
            .zrevrange(format!("{}originator:{originator_id}", self.prefix), 0, 99)
            .await
            .map_err(|e| backend("ZREVRANGE", e))
    }
}

#[async_trait]
impl Sink for RedisSink {
    async fn upsert_encoded(
        &self,
        payments: &[pb::Payment],
        encoded: &[Option<Bytes>],
    ) -> Result<u64> {
        if payments.is_empty() {
            return Ok(0);
        }
        let mut invocation = self.script.prepare_invoke();
        invocation.arg(self.ttl_seconds).arg(&self.prefix);
        for (index, payment) in payments.iter().enumerate() {
            let amount = payment.amount.as_ref();
            let created = payment
                .created_at
                .as_ref()
                .map(payments_core::time::timestamp_micros)
                .unwrap_or_default();
            let minute = Utc
                .timestamp_micros(created)
                .single()
                .map(|t| t.format("%Y%m%d%H%M").to_string())
                .unwrap_or_default();
            invocation
                .arg(&payment.payment_id)
                .arg(payment.revision)
                .arg(payment.payment_type().as_str_name())
                .arg(amount.map(|a| a.currency.as_str()).unwrap_or_default())
                .arg(payment.status().as_str_name())
                .arg(amount.map(|a| a.minor_units).unwrap_or_default())
                .arg(minute)
                .arg(
                    payment
                        .originator
                        .as_ref()
                        .map(|o| o.party_id.as_str())
                        .unwrap_or_default(),
                )
                .arg(created);
            match encoded_at(encoded, index) {
                Some(body) => invocation.arg(body.as_ref()),
                None => invocation.arg(payment.encode_to_vec()),
            };
        }
        let mut connection = self.connection.clone();
        let applied: u64 = invocation
            .invoke_async(&mut connection)
            .await
            .map_err(batch_failed)?;
        Ok(applied)
    }

    async fn ping(&self) -> Result<()> {
        let mut connection = self.connection.clone();
        let _: String = redis::cmd("PING")
            .query_async(&mut connection)
            .await
            .map_err(|e| backend("PING", e))?;
        Ok(())
    }

    fn describe(&self) -> String {
        self.described.clone()
    }

    /// Every write is complete when its call returns; the connection closes when dropped.
    async fn close(&self) -> Result<()> {
        Ok(())
    }
}

#[async_trait]
impl crate::PaymentCache for RedisSink {
    async fn cached(&self, payment_id: &str) -> Result<Option<pb::Payment>> {
        self.get_cached(payment_id).await
    }

    async fn fill(&self, payment: &pb::Payment) -> Result<()> {
        self.fill_absent(payment).await
    }

    fn describe(&self) -> String {
        self.described.clone()
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
