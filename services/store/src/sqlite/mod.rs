//! `sqlite://PATH`: the embedded store (sqlx, WAL journal, migrations embedded).

mod read;
mod write;

use crate::{Error, Page, PageRequest, PaymentFilter, Result, Stats, Store};
use async_trait::async_trait;
use payments_core::pb;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// A SQLite database file.
pub struct SqliteStore {
    pool: SqlitePool,
    url: String,
}

impl SqliteStore {
    /// Opens (creating when missing) the database at `url` and applies migrations.
    pub async fn open(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| Error::InvalidUrl {
                url: url.to_owned(),
                reason: e.to_string(),
            })?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|e| Error::Backend(format!("opening {url}: {e}")))?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| Error::Migration(e.to_string()))?;
        Ok(Self {
            pool,
            url: url.to_owned(),
        })
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn upsert_batch(&self, payments: &[pb::Payment]) -> Result<u64> {
        write::upsert_batch(&self.pool, payments).await
    }

    async fn get(&self, payment_id: &str) -> Result<Option<pb::Payment>> {
        read::get(&self.pool, payment_id).await
    }

    async fn list(&self, filter: &PaymentFilter, page: &PageRequest) -> Result<Page> {
        read::list(&self.pool, filter, page).await
    }

    async fn stats(&self, filter: &PaymentFilter) -> Result<Stats> {
        read::stats(&self.pool, filter).await
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn describe(&self) -> String {
        self.url.clone()
    }
}

#[cfg(test)]
mod tests {
    use crate::conformance;

    #[tokio::test]
    async fn sqlite_passes_the_store_suite() -> crate::Result<()> {
        let dir = std::env::temp_dir().join(format!("payments-store-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| crate::Error::Backend(e.to_string()))?;
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
