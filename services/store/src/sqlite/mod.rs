//! `sqlite://PATH`: the embedded store (sqlx, WAL journal, migrations embedded).

mod read;
mod write;

use crate::{Error, Page, PageRequest, PaymentFilter, Result, Sink, Stats, Store};
use async_trait::async_trait;
use payments_core::pb;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// A SQLite database file: one writer connection with a large page cache (SQLite admits one
/// writer at a time, so more would only wait on each other), and a small pool of readers.
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    url: String,
}

/// Bytes per page of a database this store creates. Measured with `paymentsctl bench-sink
/// --count 200000` (one writer, batches of 2,000): 4 KiB 16.7k/s, 16 KiB 21.3k/s, 32 KiB
/// 23.1k/s, 64 KiB 25.0k/s; 32 KiB keeps most of the gain without making every small commit
/// write 64 KiB per page it touches.
const PAGE_SIZE: u32 = 32_768;

impl SqliteStore {
    /// Opens (creating when missing) the database at `url` and applies migrations.
    pub async fn open(url: &str) -> Result<Self> {
        let base = SqliteConnectOptions::from_str(url)
            .map_err(|e| Error::InvalidUrl {
                url: url.to_owned(),
                reason: e.to_string(),
            })?
            .create_if_missing(true)
            // Applied before the first table, so it holds for databases this creates (an
            // existing one keeps its own): 4 KiB pages hold three or four of our kilobyte rows,
            // and bulk upserts then split and rewrite pages all the time.
            .page_size(PAGE_SIZE)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            // Statement journals of multi-row upserts stay in memory.
            .pragma("temp_store", "memory");
        let writer_options = base
            .clone()
            // 64 MiB of page cache keeps the indexes hot during bulk upserts.
            .pragma("cache_size", "-65536")
            // Checkpoint the WAL every ~40 MiB instead of every 4 MiB: fewer, larger copies.
            .pragma("wal_autocheckpoint", "10000");
        let open = |max: u32, options: SqliteConnectOptions| async move {
            SqlitePoolOptions::new()
                .max_connections(max)
                .connect_with(options)
                .await
                .map_err(|e| Error::backend(format!("opening {url}"), e))
        };
        let writer = open(1, writer_options).await?;
        MIGRATOR.run(&writer).await.map_err(Error::Migration)?;
        let reader = open(4, base).await?;
        Ok(Self {
            writer,
            reader,
            url: url.to_owned(),
        })
    }
}

#[async_trait]
impl Sink for SqliteStore {
    async fn upsert_batch(&self, payments: &[pb::Payment]) -> Result<u64> {
        write::upsert_batch(&self.writer, payments).await
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    fn describe(&self) -> String {
        self.url.clone()
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn get(&self, payment_id: &str) -> Result<Option<pb::Payment>> {
        read::get(&self.reader, payment_id).await
    }

    async fn list(&self, filter: &PaymentFilter, page: &PageRequest) -> Result<Page> {
        read::list(&self.reader, filter, page).await
    }

    async fn stats(&self, filter: &PaymentFilter) -> Result<Stats> {
        read::stats(&self.reader, filter).await
    }
}

#[cfg(test)]
mod tests {
    use crate::conformance;

    #[tokio::test]
    async fn sqlite_passes_the_store_suite() -> crate::Result<()> {
        let dir = std::env::temp_dir().join(format!("payments-store-{}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .map_err(|e| crate::Error::backend("creating the test directory", e))?;
        let mut n = 0;
        conformance::run(|| {
            n += 1;
            let url = format!("sqlite://{}/suite-{n}.db", dir.display());
            async move { crate::open(&url).await }
        })
        .await;
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }
}
