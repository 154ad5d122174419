//! The [`Store`] contract and its backends, chosen by URL.
//!
//! - `sqlite://PATH` (embedded default): one file, migrations applied at start-up.
//! - `postgres://USER[:PASSWORD]@HOST[:PORT]/DB` (cargo feature `postgres`): PostgreSQL,
//!   migrations applied at start-up, batches upserted through UNNEST arrays.
//!
//! Every write is an upsert keyed by `payment_id` that keeps the highest `revision`, so
//! replaying a batch leaves exactly one row per payment. [`conformance`] is the one test
//! suite every backend runs.

mod columns;
pub mod conformance;
mod error;
mod filter;
#[cfg(feature = "postgres")]
mod postgres;
mod sql_where;
mod sqlite;
mod stats;

pub use error::{Error, Result};
pub use filter::{Cursor, MAX_PAGE_SIZE, Page, PageRequest, PaymentFilter};
pub use stats::{Stats, StatsBucket};

use async_trait::async_trait;
use payments_core::pb;
use std::sync::Arc;

/// Where payments are kept and read back.
#[async_trait]
pub trait Store: Send + Sync {
    /// Upserts a batch atomically: each payment replaces the stored one only when its
    /// revision is higher. Returns how many rows were inserted or replaced.
    async fn upsert_batch(&self, payments: &[pb::Payment]) -> Result<u64>;

    /// The stored payment with this id, if any.
    async fn get(&self, payment_id: &str) -> Result<Option<pb::Payment>>;

    /// Payments matching `filter`, ordered by (`created_at`, `payment_id`), one page after
    /// `page.after`.
    async fn list(&self, filter: &PaymentFilter, page: &PageRequest) -> Result<Page>;

    /// Counts and totals of the payments matching `filter`.
    async fn stats(&self, filter: &PaymentFilter) -> Result<Stats>;

    /// Checks that the backend answers.
    async fn ping(&self) -> Result<()>;

    /// The backend and where it is, without credentials, e.g. `sqlite://payments.db`.
    fn describe(&self) -> String;
}

/// Opens the store at `url`, applying migrations; unknown schemes are an error naming the
/// supported ones.
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    let scheme = url.split_once("://").map(|(s, _)| s).unwrap_or_default();
    match scheme {
        "sqlite" => Ok(Arc::new(sqlite::SqliteStore::open(url).await?)),
        #[cfg(feature = "postgres")]
        "postgres" | "postgresql" => Ok(Arc::new(postgres::PostgresStore::open(url).await?)),
        #[cfg(not(feature = "postgres"))]
        "postgres" | "postgresql" => Err(Error::InvalidUrl {
            url: url.split('@').next_back().unwrap_or_default().to_owned(),
            reason: "this build has no postgres:// store; rebuild with the `postgres` feature of payments-store".into(),
        }),
        _ => Err(Error::InvalidUrl {
            url: url.to_owned(),
            reason: format!(
                "unsupported scheme {scheme:?}; supported: sqlite://PATH, postgres://USER@HOST/DB"
            ),
        }),
    }
}
