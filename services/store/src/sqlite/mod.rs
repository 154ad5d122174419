//! `sqlite://PATH`: the embedded store (sqlx, WAL journal, migrations embedded).

mod read;
mod write;

pub use write::SqliteWriter;

use crate::{Error, Page, PageRequest, PaymentFilter, Result, Sink, Stats, Store};
use async_trait::async_trait;
use payments_core::pb;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// A SQLite database file: one writer connection ([`SqliteWriter`]) and a small pool of
/// readers.
pub struct SqliteStore {
    writer: SqliteWriter,
    reader: SqlitePool,
    url: String,
}

/// Bytes per page of a database this store creates. Measured with `paymentsctl bench-sink
/// --count 200000` (one writer, batches of 2,000, sqlx's multi-row statements and seven
/// indexes): 4 KiB 16.7k/s, 16 KiB 21.3k/s, 32 KiB 23.1k/s, 64 KiB 25.0k/s. With single-row
/// statements, the same indexes and batches of 10,000, SQLite's own cost (Python's `sqlite3` on
/// this schema): 16 KiB 72k/s, 32 KiB 73k/s, 64 KiB 91k/s. Large pages cost small commits
/// (each writes whole pages to the WAL) and spare bulk upserts many page splits.
const PAGE_SIZE: u32 = 65_536;

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
        let path = base.get_filename().to_owned();
        let open = |max: u32, options: SqliteConnectOptions| async move {
            SqlitePoolOptions::new()
                .max_connections(max)
                .connect_with(options)
                .await
                .map_err(|e| Error::backend(format!("opening {url}"), e))
        };
        let migrating = open(1, base.clone()).await?;
        MIGRATOR.run(&migrating).await.map_err(Error::Migration)?;
        migrating.close().await;
        if !path.is_file() {
            return Err(Error::InvalidUrl {
                url: url.to_owned(),
                reason: "the SQLite store keeps its payments in a file; name one \
                         (sqlite://PATH), not an in-memory database"
                    .to_owned(),
            });
        }
        let writer = SqliteWriter::open(&path)?;
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
        self.writer.upsert_batch(payments).await
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
