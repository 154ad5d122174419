//! The [`Store`] contract and its backends, chosen by URL.
//!
//! - `sqlite://PATH` (embedded default): one file, migrations applied at start-up.
//! - `postgres://USER[:PASSWORD]@HOST[:PORT]/DB` (cargo feature `postgres`): PostgreSQL,
//!   migrations applied at start-up, batches upserted through UNNEST arrays.
//! - `mongodb://HOST/DB` (cargo feature `mongodb`): one document per payment.
//! - `hbase://HOST:9090` (cargo feature `hbase`): HBase through its Thrift gateway, row
//!   keys as the seed wrote them; `paymentsctl hbase init` creates the tables.
//! - `redis://HOST` (cargo feature `redis`, a sink only): by-id cache and live aggregates.
//!
//! Every write is an upsert keyed by `payment_id` that keeps the highest `revision`, so
//! replaying a batch leaves exactly one row per payment. `conformance` (in tests, or with
//! the `testsuite` feature) is the one test suite every backend runs.

mod cached;
mod columns;
#[cfg(any(test, feature = "testsuite"))]
pub mod conformance;
mod error;
mod filter;
mod filter_text;
#[cfg(feature = "hbase")]
pub mod hbase;
#[cfg(any(feature = "postgres", feature = "mongodb", feature = "hbase"))]
mod latest;
#[cfg(feature = "mongodb")]
mod mongo;
mod observed;
#[cfg(feature = "postgres")]
mod postgres;
mod redact;
#[cfg(feature = "redis")]
pub mod redis;
mod sql_read;
mod sql_where;
mod sqlite;
mod stats;
mod url_option;

pub use cached::{CachedStore, PaymentCache};
pub use error::{Error, Result};
pub use filter::{Cursor, MAX_PAGE_SIZE, Page, PageRequest, PaymentFilter};
pub use filter_text::{
    DEFAULT_PAGE_SIZE, FilterError, FilterText, RangeEnd, check_order, range_bound,
};
pub use observed::Observed;
pub use redact::redact;
pub use stats::{Stats, StatsBucket};

use async_trait::async_trait;
use bytes::Bytes;
use payments_core::pb;
use std::sync::Arc;

/// Where the processor writes payments: every store, and write-only sinks such as the
/// Redis cache and aggregates.
#[async_trait]
pub trait Sink: Send + Sync {
    /// Upserts a batch atomically: each payment replaces the stored one only when its
    /// revision is higher. Returns how many rows were inserted or replaced.
    async fn upsert_batch(&self, payments: &[pb::Payment]) -> Result<u64> {
        self.upsert_encoded(payments, &[]).await
    }

    /// [`Sink::upsert_batch`], given for each payment its protobuf encoding where the caller
    /// holds it already (`encoded[i]` for `payments[i]`; missing ones are `None`). The caller
    /// promises that each decodes to exactly its payment. A sink that stores the encoding
    /// keeps these bytes rather than encoding the payment again; others ignore them. The one
    /// write every sink implements, so that no wrapper can pass on one way of writing and not
    /// the other.
    async fn upsert_encoded(
        &self,
        payments: &[pb::Payment],
        encoded: &[Option<Bytes>],
    ) -> Result<u64>;

    /// Checks that the backend answers.
    async fn ping(&self) -> Result<()>;

    /// The backend and where it is, without credentials, e.g. `sqlite://payments.db`.
    fn describe(&self) -> String;

    /// Ends the sink at the end of its process, once nothing more is written or read: what
    /// it stored is left where its readers, and copies of its files, find it, and its
    /// connections are closed. Required of every sink, so that no wrapper forgets to pass
    /// it on.
    async fn close(&self) -> Result<()>;
}

/// A sink that can also be queried: what the query service reads.
#[async_trait]
pub trait Store: Sink {
    /// The stored payment with this id, if any.
    async fn get(&self, payment_id: &str) -> Result<Option<pb::Payment>>;

    /// Payments matching `filter`, ordered by (`created_at`, `payment_id`), one page after
    /// `page.after`.
    async fn list(&self, filter: &PaymentFilter, page: &PageRequest) -> Result<Page>;

    /// Counts and totals of the payments matching `filter`.
    async fn stats(&self, filter: &PaymentFilter) -> Result<Stats>;
}

/// A feature this build left out, as an error naming the feature.
#[allow(dead_code)]
fn disabled(url: &str, scheme: &str) -> Error {
    Error::InvalidUrl {
        url: redact(url),
        reason: format!(
            "this build has no {scheme}:// backend; rebuild with the `{scheme}` feature of payments-store"
        ),
    }
}

/// Opens the queryable store at `url`, applying migrations; unknown schemes are an error
/// naming the supported ones, and a write-only sink (`redis://`) says what to use it for.
/// Its calls are traced ([`Observed`]).
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    Ok(Arc::new(Observed::new(open_backend(url).await?)))
}

async fn open_backend(url: &str) -> Result<Arc<dyn Store>> {
    let scheme = url.split_once("://").map(|(s, _)| s).unwrap_or_default();
    match scheme {
        "sqlite" => Ok(Arc::new(sqlite::SqliteStore::open(url).await?)),
        #[cfg(feature = "postgres")]
        "postgres" | "postgresql" => Ok(Arc::new(postgres::PostgresStore::open(url).await?)),
        #[cfg(not(feature = "postgres"))]
        "postgres" | "postgresql" => Err(disabled(url, "postgres")),
        #[cfg(feature = "mongodb")]
        "mongodb" => Ok(Arc::new(mongo::MongoStore::open(url).await?)),
        #[cfg(not(feature = "mongodb"))]
        "mongodb" => Err(disabled(url, "mongodb")),
        #[cfg(feature = "hbase")]
        "hbase" => Ok(Arc::new(hbase::HbaseStore::open(url).await?)),
        #[cfg(not(feature = "hbase"))]
        "hbase" => Err(disabled(url, "hbase")),
        "redis" => Err(Error::InvalidUrl {
            url: redact(url),
            reason: "redis:// is a cache and live aggregates, not a queryable store: give it \
                     to the processor as --sink and to the query service as --cache"
                .into(),
        }),
        _ => Err(Error::InvalidUrl {
            url: redact(url),
            reason: format!(
                "unsupported scheme {scheme:?}; supported: sqlite://PATH, postgres://USER@HOST/DB, \
                 mongodb://HOST/DB, hbase://HOST:9090 (and redis://HOST as a sink)"
            ),
        }),
    }
}

/// Opens the sink at `url`: any store, or `redis://` (cache and live aggregates).
pub async fn open_sink(url: &str) -> Result<Arc<dyn Sink>> {
    let scheme = url.split_once("://").map(|(s, _)| s).unwrap_or_default();
    match scheme {
        #[cfg(feature = "redis")]
        "redis" => Ok(Arc::new(Observed::new(Arc::new(
            redis::RedisSink::open(url).await?,
        )))),
        #[cfg(not(feature = "redis"))]
        "redis" => Err(disabled(url, "redis")),
        _ => Ok(open(url).await?),
    }
}
