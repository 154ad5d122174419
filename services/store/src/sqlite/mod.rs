//! `sqlite://PATH`: the embedded store (sqlx, WAL journal, migrations embedded).

mod checkpoint;
mod connection;
mod read;
mod write;

pub use write::SqliteWriter;

use crate::{Error, Page, PageRequest, PaymentFilter, Result, Sink, Stats, Store};
use async_trait::async_trait;
use bytes::Bytes;
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

/// Connections that serve queries.
const READERS: u32 = 4;

/// Each reading connection's page cache, in KiB: eight of its 64 KiB pages.
const READER_CACHE_KIB: u32 = 512;

/// The URL option that sets the writer's page cache, in MiB (`sqlite://PATH?cache_mib=128`).
const CACHE_OPTION: &str = "cache_mib";

/// The writer's page cache when the URL does not set it, in MiB. It keeps `paymentsctl bench
/// --count 200000` under its 256 MiB budget (with batches of up to 4,000: 239 MiB; 268 MiB with
/// 64 MiB of cache). A store whose indexes outgrow the cache slows down, because each batch
/// then reads and rewrites index pages it has just let go: `paymentsctl bench-sink --count
/// 600000 --batch 4000` into a fresh file took 13.7k/s with 32 MiB, 22.2k/s with 64 MiB and
/// 32.0k/s with 128 MiB (200,000 payments: 50.3k/s with 32 MiB, 46.1k/s with 128 MiB). The
/// indexes take about 175 MiB a million payments.
pub const DEFAULT_CACHE_MIB: u32 = 32;

/// The largest page cache the URL may ask for, in MiB.
const MAX_CACHE_MIB: u32 = 65_536;

/// `url` without the `cache_mib` option, and the writer's page cache in MiB.
fn take_cache_option(url: &str) -> Result<(String, u32)> {
    let (rest, value) = crate::url_option::take_url_option(url, CACHE_OPTION);
    let Some(value) = value else {
        return Ok((rest, DEFAULT_CACHE_MIB));
    };
    match value.parse::<u32>() {
        Ok(mib) if (1..=MAX_CACHE_MIB).contains(&mib) => Ok((rest, mib)),
        _ => Err(Error::InvalidUrl {
            url: url.to_owned(),
            reason: format!(
                "{CACHE_OPTION}={value:?}: give the writer's page cache in MiB, a whole number \
                 from 1 to {MAX_CACHE_MIB} (default {DEFAULT_CACHE_MIB})"
            ),
        }),
    }
}

impl SqliteStore {
    /// Opens (creating when missing) the database at `url` and applies migrations.
    /// `?cache_mib=N` sets the writer's page cache ([`DEFAULT_CACHE_MIB`] without it).
    pub async fn open(url: &str) -> Result<Self> {
        let (sqlx_url, cache_mib) = take_cache_option(url)?;
        let base = SqliteConnectOptions::from_str(&sqlx_url)
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
        let writer = SqliteWriter::open(&path, cache_mib)?;
        // A reading connection's cache is emptied whenever another connection has written
        // since its last read, which a busy store does between any two queries: SQLite's
        // default of 2 MiB a connection only held memory.
        let reader = open(
            READERS,
            base.pragma("cache_size", format!("-{READER_CACHE_KIB}")),
        )
        .await?;
        Ok(Self {
            writer,
            reader,
            url: url.to_owned(),
        })
    }
}

#[async_trait]
impl Sink for SqliteStore {
    async fn upsert_encoded(
        &self,
        payments: &[pb::Payment],
        encoded: &[Option<Bytes>],
    ) -> Result<u64> {
        self.writer.upsert_encoded(payments, encoded).await
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    fn describe(&self) -> String {
        self.url.clone()
    }

    /// Closes the reading connections, then copies the write-ahead log back into the file
    /// ([`SqliteWriter::close`]): the file alone then holds every payment.
    async fn close(&self) -> Result<()> {
        self.reader.close().await;
        self.writer.close().await
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
    use super::{DEFAULT_CACHE_MIB, SqliteStore};
    use crate::{Sink, Store, conformance};
    use payments_core::pb;

    fn temp_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("payments-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("creating the test directory");
        dir
    }

    /// A store in a new file `file` of the test directory `dir`.
    async fn open_in(dir: &std::path::Path, file: &str) -> SqliteStore {
        SqliteStore::open(&format!("sqlite://{}/{file}", dir.display()))
            .await
            .unwrap_or_else(|e| panic!("opening {file}: {e}"))
    }

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

    #[tokio::test]
    async fn cache_mib_sets_the_writers_page_cache_and_the_store_still_works() {
        let dir = temp_dir("sqlite-cache");
        let plain = open_in(&dir, "plain.db").await;
        assert_eq!(
            plain.writer.cache_size_kib().expect("reading cache_size"),
            -(i64::from(DEFAULT_CACHE_MIB) * 1024)
        );
        let url = format!("sqlite://{}/big.db?cache_mib=128", dir.display());
        let store = SqliteStore::open(&url)
            .await
            .expect("opening with cache_mib");
        assert_eq!(
            store.writer.cache_size_kib().expect("reading cache_size"),
            -128 * 1024
        );
        let payment = pb::Payment {
            payment_id: "CACHE-1".into(),
            revision: 1,
            ..Default::default()
        };
        assert_eq!(
            store
                .upsert_batch(std::slice::from_ref(&payment))
                .await
                .unwrap(),
            1
        );
        let read = store.get("CACHE-1").await.unwrap().expect("stored");
        assert_eq!(read.payment_id, "CACHE-1");
        assert_eq!(store.describe(), url);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_cache_mib_that_is_not_a_size_is_refused_naming_the_option() {
        let dir = temp_dir("sqlite-bad-cache");
        for bad in ["0", "-5", "lots", "", "65537", "1.5"] {
            let url = format!("sqlite://{}/bad.db?cache_mib={bad}", dir.display());
            let error = SqliteStore::open(&url)
                .await
                .err()
                .unwrap_or_else(|| panic!("cache_mib={bad:?} was accepted"));
            let text = error.to_string();
            assert!(
                text.contains("cache_mib") && text.contains("MiB"),
                "cache_mib={bad:?}: {text}"
            );
        }
        assert!(
            !dir.join("bad.db").exists(),
            "a refused URL must not create the file"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn stats_of_the_whole_store_read_only_their_index() {
        let dir = temp_dir("sqlite-stats-plan");
        let store = open_in(&dir, "plan.db").await;
        let query = format!(
            "EXPLAIN QUERY PLAN {}{}",
            super::read::STATS_SELECT,
            super::read::STATS_GROUP_BY
        );
        let plan = sqlx::query(&query)
            .fetch_all(&store.reader)
            .await
            .expect("explaining");
        // EXPLAIN QUERY PLAN rows: id, parent, unused, detail.
        let details: Vec<String> = plan
            .iter()
            .map(|row| sqlx::Row::get::<String, _>(row, 3))
            .collect();
        assert!(
            details
                .iter()
                .any(|d| d.contains("COVERING INDEX payments_for_stats_in_write_order")),
            "GetStats scans more than its covering index: {details:?}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
