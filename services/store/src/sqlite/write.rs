//! [`SqliteWriter`]: batched, revision-guarded upserts through one connection of its own.
//!
//! A batch is one transaction running one prepared single-row upsert per payment. Measured
//! against sqlx's multi-row `INSERT … VALUES (…), (…)` of 500 rows (`paymentsctl bench-sink
//! --sink sqlite://… --count 200000`, batches of 2,000): 31k/s against 22k/s. A statement
//! that writes many rows may fail half-way, so SQLite copies every page it touches into a
//! statement journal first, and with 32 KiB pages that copying was the largest single cost.
//! A single-row statement needs no journal.

use super::checkpoint::{LOG_LIMIT_PAGES, WalCheckpointer};
use super::connection::open_connection;
use crate::columns::{PaymentColumns, encoded_at};
use crate::{Error, Result};
use bytes::Bytes;
use payments_core::pb;
use rusqlite::{Connection, ErrorCode, params};
use std::path::Path;
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex, MutexGuard};

/// The upsert: a row is replaced only by a higher revision.
const UPSERT: &str = "INSERT INTO payments (payment_id, revision, payment_type, status, created_at, \
     originator_id, beneficiary_id, amount_minor, currency, row_key, body, stored_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) \
     ON CONFLICT (payment_id) DO UPDATE SET revision = excluded.revision, \
     payment_type = excluded.payment_type, status = excluded.status, created_at = excluded.created_at, \
     originator_id = excluded.originator_id, beneficiary_id = excluded.beneficiary_id, \
     amount_minor = excluded.amount_minor, currency = excluded.currency, row_key = excluded.row_key, \
     body = excluded.body, stored_at = excluded.stored_at \
     WHERE excluded.revision > payments.revision";

/// The one connection that writes a SQLite store (SQLite admits one writer at a time, so
/// more would only wait on each other). Its calls run on Tokio's blocking threads.
#[derive(Clone)]
pub struct SqliteWriter {
    connection: Arc<Mutex<Connection>>,
    checkpointer: Arc<WalCheckpointer>,
}

impl SqliteWriter {
    /// Opens the existing database file at `path` for writing, with a page cache of
    /// `cache_mib` MiB: the indexes' pages that stay in it are neither read again nor spilled
    /// half-way through a batch (see [`super::DEFAULT_CACHE_MIB`] for what sizes measured).
    pub fn open(path: &Path, cache_mib: u32) -> Result<Self> {
        Self::open_with_log_limit(path, cache_mib, LOG_LIMIT_PAGES)
    }

    /// [`SqliteWriter::open`], letting the log start over at `log_limit_pages`.
    fn open_with_log_limit(path: &Path, cache_mib: u32, log_limit_pages: u32) -> Result<Self> {
        let cache_kib = format!("-{}", u64::from(cache_mib) * 1024);
        let backstop_pages = (u64::from(log_limit_pages) * 2).to_string();
        let connection = open_connection(
            path,
            "writing",
            &[
                ("journal_mode", "WAL"),
                ("synchronous", "NORMAL"),
                ("temp_store", "MEMORY"),
                ("cache_size", &cache_kib),
                // The log is copied back by the checkpointer, and bounded by `bound_log`;
                // this is SQLite's own bound, should the checkpointer's thread fail.
                ("wal_autocheckpoint", &backstop_pages),
            ],
        )?;
        let checkpointer = WalCheckpointer::start(path, log_limit_pages)?;
        // The log's file keeps its blocks when the log starts over (see `checkpoint`), up to
        // the log's limit: one longer burst does not hold the disk for good.
        connection
            .pragma_query_value(None, "page_size", |row| row.get(0))
            .and_then(|page_bytes| {
                let limit = checkpointer.log_limit_bytes(page_bytes).to_string();
                connection.pragma_update(None, "journal_size_limit", &limit)
            })
            .map_err(|e| Error::backend(format!("opening {} for writing", path.display()), e))?;
        Ok(Self {
            connection: Arc::new(Mutex::new(connection)),
            checkpointer: Arc::new(checkpointer),
        })
    }

    /// Upserts `payments` in one transaction and returns how many rows changed. Nothing of
    /// the batch is written when any of it fails.
    ///
    /// SQLite starts on the first rows while the rest are flattened on the caller's thread
    /// (250 rows at a time), so the two cores share a batch: flattening 3,000
    /// payments took 4–6 ms before SQLite could begin, a fifth of the 20–30 ms it then took.
    /// The bodies are the encodings given, where given (see [`crate::Sink::upsert_encoded`]):
    /// in a `perf` profile of `paymentsctl bench --count 200000`, encoding the bodies took 5.5%
    /// of the CPU, against 24% for SQLite's writing.
    pub async fn upsert_encoded(
        &self,
        payments: &[pb::Payment],
        encoded: &[Option<Bytes>],
    ) -> Result<u64> {
        if payments.is_empty() {
            return Ok(0);
        }
        let (sender, handoffs) = mpsc::channel();
        let (connection, checkpointer) = (self.connection.clone(), self.checkpointer.clone());
        let writing = tokio::task::spawn_blocking(move || {
            let mut connection = lock(&connection);
            let written = upsert_handed_off(&mut connection, &handoffs)?;
            checkpointer.committed();
            if let Err(error) = checkpointer.bound_log(&connection) {
                // The batch is committed; the log is copied back by a later checkpoint.
                tracing::warn!(%error, "sqlite checkpoint after a commit failed");
            }
            Ok(written)
        });
        for chunk in in_id_order(payments).chunks(ROWS_PER_HANDOFF) {
            let rows = chunk
                .iter()
                .map(|&i| PaymentColumns::with_encoding(&payments[i], encoded_at(encoded, i)))
                .collect();
            if sender.send(Handoff::Rows(rows)).is_err() {
                // The writer stopped on a failure; its result says which.
                break;
            }
        }
        // Without this mark (a panic above), the writer rolls the batch back.
        let _ = sender.send(Handoff::End);
        writing
            .await
            .map_err(|e| Error::backend("sqlite write", e))?
    }
}

impl SqliteWriter {
    /// Ends the writer at the end of its process: stops the checkpoint thread and copies
    /// the whole log back into the database file, so that the file alone holds every
    /// payment (a copy of it taken while a log is beside it lacks what the log holds).
    /// Writes still work afterwards; SQLite then bounds the log on its own.
    pub async fn close(&self) -> Result<()> {
        let (connection, checkpointer) = (self.connection.clone(), self.checkpointer.clone());
        tokio::task::spawn_blocking(move || {
            checkpointer.stop();
            // (busy, pages in the log, pages copied back)
            lock(&connection).query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        })
        .await
        .map_err(|e| Error::backend("sqlite closing", e))?
        .map_err(|e| from_sqlite("sqlite copying the log back on closing", e))
    }
}

#[cfg(test)]
impl SqliteWriter {
    /// The writer's `cache_size` pragma (negative: KiB).
    pub(crate) fn cache_size_kib(&self) -> rusqlite::Result<i64> {
        lock(&self.connection).pragma_query_value(None, "cache_size", |row| row.get(0))
    }
}

fn lock(connection: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    connection
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The indexes of `payments` ordered by payment id, those with the same id in the order
/// given (the later of two equal revisions is then still the one refused). Upserted in this
/// order, consecutive rows search the same pages of the id index rather than pages all over
/// it. Measured interleaved, four pairs: `paymentsctl bench --count 200000` 36.6–37.9k/s in
/// the batch's order, 37.2–39.6k/s in id order; `paymentsctl bench-sink --count 200000
/// --batch 3000` (where every payment has the same `created_at`, so the time index gains too)
/// 63.8–65.4k/s against 67.2–73.0k/s.
///
/// The ids are sorted side by side with their indexes, not through the payments: the sink
/// waits for this order before its first row, and reaching each id through its payment cost
/// a cache miss per comparison.
fn in_id_order(payments: &[pb::Payment]) -> Vec<usize> {
    let mut keyed: Vec<(&str, usize)> = payments
        .iter()
        .enumerate()
        .map(|(index, payment)| (payment.payment_id.as_str(), index))
        .collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, index)| index).collect()
}

/// Rows handed to the writing thread at a time.
const ROWS_PER_HANDOFF: usize = 250;

/// What the caller hands the writing thread: rows of the batch, then the mark that the batch
/// is complete.
enum Handoff {
    Rows(Vec<PaymentColumns>),
    End,
}

/// Upserts the rows handed off, in one transaction committed only once the batch's end is
/// marked: a batch whose caller stopped handing off half-way is rolled back.
fn upsert_handed_off(connection: &mut Connection, handoffs: &Receiver<Handoff>) -> Result<u64> {
    let stored_at = chrono::Utc::now().timestamp_micros();
    let transaction = connection
        .transaction()
        .map_err(|e| from_sqlite("sqlite begin", e))?;
    let mut written = 0;
    {
        let mut upsert = transaction
            .prepare_cached(UPSERT)
            .map_err(|e| from_sqlite("sqlite preparing the upsert", e))?;
        loop {
            let rows = match handoffs.recv() {
                Ok(Handoff::Rows(rows)) => rows,
                Ok(Handoff::End) => break,
                Err(stopped) => {
                    return Err(Error::backend(
                        "sqlite write: the batch stopped before its end; rolled back",
                        stopped,
                    ));
                }
            };
            for row in &rows {
                written += upsert
                    .execute(params![
                        row.payment_id,
                        row.revision,
                        row.payment_type,
                        row.status,
                        row.created_micros,
                        row.originator_id,
                        row.beneficiary_id,
                        row.amount_minor,
                        row.currency,
                        row.row_key,
                        &row.body[..],
                        stored_at,
                    ])
                    .map_err(|e| {
                        from_sqlite(&format!("sqlite upsert of {:?}", row.payment_id), e)
                    })? as u64;
            }
        }
    }
    transaction
        .commit()
        .map_err(|e| from_sqlite("sqlite commit", e))?;
    Ok(written)
}

/// `error` from SQLite, as a refusal when it blamed the data (`TOOBIG`, `CONSTRAINT`,
/// `MISMATCH`, `RANGE`: the same rows fail again however often they are sent).
fn from_sqlite(context: &str, error: rusqlite::Error) -> Error {
    let blames_data = matches!(
        error.sqlite_error_code(),
        Some(
            ErrorCode::TooBig
                | ErrorCode::ConstraintViolation
                | ErrorCode::TypeMismatch
                | ErrorCode::ParameterOutOfRange
        )
    ) || matches!(error, rusqlite::Error::ToSqlConversionFailure(_));
    if blames_data {
        Error::refused(format!("{context}: the database refused the data"), error)
    } else {
        Error::backend(context, error)
    }
}

#[cfg(test)]
mod tests {
    use super::{Handoff, ROWS_PER_HANDOFF, SqliteWriter, lock, upsert_handed_off};
    use crate::Store;
    use crate::columns::PaymentColumns;
    use crate::sqlite::SqliteStore;
    use crate::sqlite::checkpoint::log_pages;
    use payments_core::pb;
    use std::sync::mpsc;

    fn payment(id: &str) -> pb::Payment {
        pb::Payment {
            payment_id: id.into(),
            revision: 1,
            ..Default::default()
        }
    }

    /// Upserts `batch` through the store's writer: how many rows changed.
    async fn upsert(store: &SqliteStore, batch: &[pb::Payment]) -> u64 {
        store
            .writer
            .upsert_encoded(batch, &[])
            .await
            .expect("upsert")
    }

    async fn fresh_store(name: &str) -> (SqliteStore, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("payments-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("creating the test directory");
        let store = SqliteStore::open(&format!("sqlite://{}/w.db", dir.display()))
            .await
            .expect("opening the store");
        (store, dir)
    }

    #[tokio::test]
    async fn a_closed_store_leaves_every_payment_in_its_file_alone() {
        let (store, dir) = fresh_store("sqlite-close").await;
        let batch: Vec<pb::Payment> = (0..300).map(|i| payment(&format!("CLOSE-{i}"))).collect();
        crate::Sink::upsert_batch(&store, &batch)
            .await
            .expect("upsert");
        let log = dir.join("w.db-wal");
        assert!(std::fs::metadata(&log).expect("the log").len() > 0);
        crate::Sink::close(&store).await.expect("closing");
        assert_eq!(std::fs::metadata(&log).map_or(0, |file| file.len()), 0);
        // A copy of the file alone, without the log, holds them all.
        std::fs::copy(dir.join("w.db"), dir.join("copy.db")).expect("copying the file");
        let copy = SqliteStore::open(&format!("sqlite://{}/copy.db", dir.display()))
            .await
            .expect("opening the copy");
        for id in ["CLOSE-0", "CLOSE-299"] {
            assert!(copy.get(id).await.expect("get").is_some(), "{id} missing");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_batch_of_many_handoffs_is_stored_whole() {
        let (store, dir) = fresh_store("sqlite-handoffs").await;
        let count = ROWS_PER_HANDOFF * 2 + 17;
        let batch: Vec<pb::Payment> = (0..count).map(|i| payment(&format!("MANY-{i}"))).collect();
        assert_eq!(upsert(&store, &batch).await, count as u64);
        for id in ["MANY-0", "MANY-250", "MANY-516"] {
            assert!(store.get(id).await.expect("get").is_some(), "{id} missing");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_given_encoding_is_the_stored_body_and_others_are_encoded_here() {
        use prost::Message;
        let (store, dir) = fresh_store("sqlite-encoded").await;
        let batch = [
            payments_core::sample::ach_payment("ENC-B", 1),
            payments_core::sample::ach_payment("ENC-A", 2),
        ];
        let mut given = batch[0].encode_to_vec();
        // Field 1000, a varint 1: unknown to payments.v1.Payment, so only these bytes carry it.
        given.extend_from_slice(&[0xc0, 0x3e, 0x01]);
        let encoded = [Some(bytes::Bytes::from(given.clone())), None];
        let written = store.writer.upsert_encoded(&batch, &encoded).await;
        assert_eq!(written.expect("upsert"), 2);
        let body = |id: &str| -> Vec<u8> {
            lock(&store.writer.connection)
                .query_row(
                    "SELECT body FROM payments WHERE payment_id = ?1",
                    [id],
                    |row| row.get(0),
                )
                .expect("reading the body")
        };
        assert_eq!(body("ENC-B"), given, "the given encoding is the body");
        assert_eq!(body("ENC-A"), batch[1].encode_to_vec());
        for payment in &batch {
            let stored = store.get(&payment.payment_id).await.expect("get");
            assert_eq!(stored.as_ref(), Some(payment));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_batch_upserted_in_id_order_keeps_the_batchs_order_among_equal_ids() {
        let (store, dir) = fresh_store("sqlite-id-order").await;
        let revised = |id: &str, revision: u32, minor_units: i64| {
            let mut p = payments_core::sample::ach_payment(id, 0);
            p.revision = revision;
            p.amount.as_mut().expect("an amount").minor_units = minor_units;
            p
        };
        // Ids out of order; `SAME` twice at one revision, `UP` at 1 after 2.
        let batch = [
            revised("Z", 1, 1),
            revised("SAME", 1, 10),
            revised("UP", 2, 20),
            revised("A", 1, 2),
            revised("SAME", 1, 11),
            revised("UP", 1, 21),
        ];
        assert_eq!(upsert(&store, &batch).await, 4);
        let get = |id: &'static str| store.get(id);
        let same = get("SAME").await.expect("get").expect("SAME stored");
        assert_eq!(same.amount.map(|a| a.minor_units), Some(10));
        assert_eq!(get("UP").await.expect("get").map(|p| p.revision), Some(2));
        for id in ["A", "Z"] {
            assert!(get(id).await.expect("get").is_some(), "{id} missing");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_batch_whose_handoff_stops_before_its_end_is_rolled_back_whole() {
        let (store, dir) = fresh_store("sqlite-half-handoff").await;
        let (sender, handoffs) = mpsc::channel();
        let rows = vec![PaymentColumns::new(&payment("HALF-1"))];
        sender.send(Handoff::Rows(rows)).expect("handing off");
        drop(sender);
        let error = upsert_handed_off(&mut lock(&store.writer.connection), &handoffs)
            .expect_err("a batch without its end must fail");
        assert!(
            error.to_string().contains("stopped before its end"),
            "{error}"
        );
        assert!(store.get("HALF-1").await.expect("get").is_none());
        // The writer goes on with the next batch.
        let next = [payment("HALF-2")];
        assert_eq!(upsert(&store, &next).await, 1);
        assert!(store.get("HALF-2").await.expect("get").is_some());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn the_log_is_copied_back_in_the_background_and_starts_over_at_its_limit() {
        let (_store, dir) = fresh_store("sqlite-checkpoints").await;
        let path = dir.join("w.db");
        const LIMIT_PAGES: u32 = 16;
        let writer = SqliteWriter::open_with_log_limit(&path, 8, LIMIT_PAGES).expect("writer");
        let batch = |b: usize| -> Vec<pb::Payment> {
            (0..100)
                .map(|i| payments_core::sample::ach_payment(&format!("CKPT-{b}-{i}"), i as i64))
                .collect()
        };
        writer
            .upsert_encoded(&batch(0), &[])
            .await
            .expect("first batch");
        // Nothing else checkpoints below the limit: the thread did.
        let waited = std::time::Instant::now();
        while writer.checkpointer.last_log_pages() == 0 {
            assert!(
                waited.elapsed() < std::time::Duration::from_secs(10),
                "no background checkpoint after a commit"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let log_pages = || log_pages(&dir.join("w.db-wal"));
        let (mut pages, mut peak, mut largest_batch, mut restarts) = (log_pages(), 0, 0, 0);
        for b in 1..60 {
            writer.upsert_encoded(&batch(b), &[]).await.expect("batch");
            let now = log_pages();
            if now < pages {
                // The log started over with this batch.
                restarts += 1;
                largest_batch = largest_batch.max(now);
            } else {
                largest_batch = largest_batch.max(now - pages);
            }
            (pages, peak) = (now, peak.max(now));
        }
        // The index's header says what SQLite itself reports.
        let reported: u64 = rusqlite::Connection::open(&path)
            .and_then(|c| c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| row.get(1)))
            .expect("asking SQLite how many pages the log holds");
        assert_eq!(reported, log_pages(), "pages in the log");
        // Each batch logs a few pages: without the log starting over, it would hold them all.
        assert!(largest_batch > 0 && restarts >= 3, "{restarts} restarts");
        // The commit that reaches the limit is the last before the log starts over.
        assert!(
            peak < u64::from(LIMIT_PAGES) + largest_batch,
            "the log held {peak} pages (limit {LIMIT_PAGES}, batches up to {largest_batch})"
        );
        // The log's file was written over in place, not cut back, when the log started over;
        // and a file longer than the limit is cut back to it.
        let file_pages = (std::fs::metadata(dir.join("w.db-wal"))
            .expect("the log")
            .len()
            - 32)
            / (65_536 + 24);
        assert!(
            (u64::from(LIMIT_PAGES)..=peak).contains(&file_pages),
            "the log's file holds {file_pages} pages (limit {LIMIT_PAGES}, peak {peak})"
        );
        let store = SqliteStore::open(&format!("sqlite://{}", path.display()))
            .await
            .expect("reopening");
        for id in ["CKPT-0-0", "CKPT-30-50", "CKPT-59-99"] {
            assert!(store.get(id).await.expect("get").is_some(), "{id} missing");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
