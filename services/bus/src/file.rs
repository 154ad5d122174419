//! `file://PATH`: a durable bus inside one process, kept in a SQLite database at `PATH`.
//!
//! Each topic is one partition: a table of records keyed by (topic, offset), appended in one
//! transaction per [`Producer::enqueue`] call (WAL journal, `synchronous=NORMAL`), so a record
//! a producer was told is held survives a `kill -9` of the process; a power cut may lose the
//! appends since the last checkpoint. A consumer group's next offset is a row of its own,
//! written on commit; records every group has committed are deleted in runs of
//! [`DELETE_EVERY`]. A consumer keeping up reads the records this process appended from
//! memory (the latest [`TAIL_RECORDS`] that a consumer here has not committed yet); others
//! come from the file. A new process on the same file resumes each group at its commit, so a
//! record is delivered at least once. One process at a time opens the file (a lock file
//! beside it says who has it).
//!
//! Dead-letter topics (names ending in `.dlq`) keep their latest [`DEAD_LETTERS_KEPT`]
//! records.

use crate::{BusRecord, Consumer, Delivery, Error, Producer, Receipt, Result};
use async_trait::async_trait;
use bytes::Bytes;
use futures::FutureExt;
use rusqlite::{Connection, OpenFlags, params};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::Notify;

/// Records a dead-letter topic keeps (its latest).
pub const DEAD_LETTERS_KEPT: i64 = 100_000;

/// Appends one record; run once per record in the append's transaction. (A multi-row
/// INSERT needs a statement journal, which copies every page it touches first.)
const INSERT_RECORD: &str = "INSERT INTO records (topic, offset, timestamp_ms, key, value, headers) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

/// Reads up to ?3 records of topic ?1 from offset ?2 on, oldest first.
const SELECT_RECORDS: &str = "SELECT offset, timestamp_ms, key, value, headers FROM records \
     WHERE topic = ?1 AND offset >= ?2 ORDER BY offset LIMIT ?3";

/// Bytes per page of a bus file this creates (an existing one keeps its own): records are
/// kilobytes, and 4 KiB pages would hold three of them.
const PAGE_SIZE: &str = "32768";

/// Records appended in this process kept in memory too, so that a consumer keeping up
/// reads them without a query; older ones are read from the file.
const TAIL_RECORDS: usize = 20_000;

/// Records every group has read before they are deleted from the file, in one statement.
const DELETE_EVERY: i64 = 10_000;

const SCHEMA: [&str; 2] = [
    "CREATE TABLE IF NOT EXISTS records (topic TEXT NOT NULL, offset INTEGER NOT NULL, \
     timestamp_ms INTEGER NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL, headers BLOB NOT NULL, \
     PRIMARY KEY (topic, offset)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS group_offsets (topic TEXT NOT NULL, grp TEXT NOT NULL, \
     next_offset INTEGER NOT NULL, PRIMARY KEY (topic, grp)) WITHOUT ROWID",
];

/// The file bus.
pub struct FileBus {
    path: PathBuf,
    /// Every read (records behind the memory tail, counts): a connection of its own, which
    /// never waits for the writer (the log is a write-ahead log). Its calls run on Tokio's
    /// blocking threads. `None` once the bus is closed.
    reader: Arc<Mutex<Option<Connection>>>,
    /// Every write (appends, commits, deletes): SQLite takes one writer at a time. Its calls
    /// run on Tokio's blocking threads.
    writer: Arc<Mutex<Connection>>,
    topics: Mutex<HashMap<String, Arc<Topic>>>,
    /// Held while the bus is open: the file's lock.
    _lock: std::fs::File,
}

struct Topic {
    name: String,
    state: Mutex<TopicState>,
    /// Signalled when records are appended.
    appended: Notify,
}

#[derive(Default)]
struct TopicState {
    /// The latest records appended in this process, oldest first, ending at `end`.
    tail: std::collections::VecDeque<Delivery>,
    /// Records before this offset are deleted from the file.
    deleted_before: i64,
    /// The first offset the file holds (or `end` when it holds none).
    start: i64,
    /// The next offset to append.
    end: i64,
    /// Each group's next offset, as committed.
    committed: HashMap<String, i64>,
    /// Groups with a consumer in this process.
    attached: Vec<String>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn file_error(path: &Path, what: &str, error: impl std::fmt::Display) -> Error {
    Error::File {
        path: path.display().to_string(),
        reason: format!("{what}: {error}"),
    }
}

impl FileBus {
    /// Opens (creating when missing) the bus file at `path`; an error when another process
    /// has it open.
    pub async fn open(path: &Path) -> Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| file_error(path, "creating its directory", e))?;
        }
        let lock_path = PathBuf::from(format!("{}.lock", path.display()));
        let lock_file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| file_error(path, "opening its lock file", e))?;
        lock_file.try_lock().map_err(|e| match e {
            std::fs::TryLockError::WouldBlock => Error::File {
                path: path.display().to_string(),
                reason: format!(
                    "another process has it open (it holds {}); stop it, or give this one \
                     another --bus file://…",
                    lock_path.display()
                ),
            },
            std::fs::TryLockError::Error(e) => file_error(path, "locking it", e),
        })?;
        let file = path.to_owned();
        let opened = tokio::task::spawn_blocking(move || {
            let writer = open_writer(&file).map_err(|e| ("opening it for writing", e))?;
            let reader = open_reader(&file).map_err(|e| ("opening it for reading", e))?;
            let topics = load_topics(&reader).map_err(|e| ("reading its topics", e))?;
            Ok::<_, (&str, rusqlite::Error)>((writer, reader, topics))
        })
        .await
        .map_err(|e| file_error(path, "opening it", e))?;
        let (writer, reader, topics) = opened.map_err(|(what, e)| file_error(path, what, e))?;
        Ok(Self {
            path: path.to_owned(),
            reader: Arc::new(Mutex::new(Some(reader))),
            writer: Arc::new(Mutex::new(writer)),
            topics: Mutex::new(topics),
            _lock: lock_file,
        })
    }

    /// Ends the bus at the end of its process: closes its reading connections and copies
    /// its write-ahead log back into the file, so that the file alone holds every record
    /// (left open, they kept the log beside it, and a copy of the file alone lacked what the
    /// log held). The bus answers no read after this.
    pub async fn close(&self) -> Result<()> {
        lock(&self.reader).take();
        self.write("copying its log back into it", |connection| {
            // (busy, pages in the log, pages copied back)
            connection.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        })
        .await
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn error(&self, what: &str, error: impl std::fmt::Display) -> Error {
        file_error(&self.path, what, error)
    }

    fn topic(&self, name: &str) -> Arc<Topic> {
        lock(&self.topics)
            .entry(name.to_owned())
            .or_insert_with(|| Topic::new(name, TopicState::default()))
            .clone()
    }

    /// Joins group `group` on `topic`, resuming at its commit (or at the oldest record the
    /// file holds); one consumer per group and topic at a time.
    pub fn consumer(self: &Arc<Self>, topic: &str, group: &str) -> Result<FileConsumer> {
        let topic = self.topic(topic);
        let committed = {
            let mut state = lock(&topic.state);
            if state.attached.iter().any(|g| g == group) {
                return Err(Error::ConsumerTaken {
                    topic: topic.name.clone(),
                    group: group.to_owned(),
                });
            }
            state.attached.push(group.to_owned());
            state.committed.get(group).copied().unwrap_or(state.start)
        };
        Ok(FileConsumer {
            bus: self.clone(),
            topic,
            group: group.to_owned(),
            position: committed,
            committed,
        })
    }

    /// How many records of `topic` the file holds past `group`'s commit.
    pub async fn uncommitted(&self, topic: &str, group: &str) -> Result<u64> {
        let from = {
            let topic = self.topic(topic);
            let state = lock(&topic.state);
            state.committed.get(group).copied().unwrap_or(state.start)
        };
        let topic = topic.to_owned();
        let count: i64 = self
            .read_with("counting records", move |connection| {
                connection
                    .prepare_cached(
                        "SELECT count(*) FROM records WHERE topic = ?1 AND offset >= ?2",
                    )?
                    .query_row(params![topic, from], |row| row.get(0))
            })
            .await?;
        Ok(count.max(0) as u64)
    }

    /// The first `limit` records `topic` holds, oldest first, outside any group.
    pub async fn snapshot(&self, topic: &str, limit: usize) -> Result<Vec<Delivery>> {
        self.read(topic, 0, limit).await
    }

    /// Up to `limit` records of `topic` from offset `from` on.
    async fn read(&self, topic: &str, from: i64, limit: usize) -> Result<Vec<Delivery>> {
        let topic = topic.to_owned();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read_with("reading records", move |connection| {
            let mut select = connection.prepare_cached(SELECT_RECORDS)?;
            let rows = select.query_map(params![topic, from, limit], |row| {
                let headers: Vec<u8> = row.get(4)?;
                Ok(Delivery {
                    topic: topic.clone(),
                    partition: 0,
                    offset: row.get(0)?,
                    timestamp_ms: row.get(1)?,
                    record: BusRecord {
                        key: Bytes::from(row.get::<_, Vec<u8>>(2)?),
                        value: Bytes::from(row.get::<_, Vec<u8>>(3)?),
                        headers: decode_headers(&headers).unwrap_or_else(unreadable_headers),
                    },
                })
            })?;
            rows.collect()
        })
        .await
    }

    /// Appends `records` to `topic` in one transaction; returns once the file holds them.
    /// Offsets are handed out, written and published in one piece on the writing connection
    /// (under its lock, on a blocking thread): an append whose caller gives up half-way (a
    /// client that hangs up) still completes whole, and the next append follows it.
    async fn append(&self, topic: Arc<Topic>, records: Vec<BusRecord>) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        self.write("appending records", move |connection| {
            let first = lock(&topic.state).end;
            let end = first + records.len() as i64;
            let now = now_ms();
            let transaction = connection.transaction()?;
            {
                let mut insert = transaction.prepare_cached(INSERT_RECORD)?;
                for (i, record) in records.iter().enumerate() {
                    insert.execute(params![
                        topic.name,
                        first + i as i64,
                        now,
                        record.key.as_ref(),
                        record.value.as_ref(),
                        encode_headers(&record.headers),
                    ])?;
                }
            }
            if topic.name.ends_with(".dlq") {
                transaction.execute(
                    "DELETE FROM records WHERE topic = ?1 AND offset < ?2",
                    params![topic.name, end - DEAD_LETTERS_KEPT],
                )?;
            }
            transaction.commit()?;
            let tail = records.into_iter().enumerate().map(|(i, record)| Delivery {
                topic: topic.name.clone(),
                partition: 0,
                offset: first + i as i64,
                timestamp_ms: now,
                record,
            });
            {
                let mut state = lock(&topic.state);
                state.end = end;
                state.tail.extend(tail);
                let excess = state.tail.len().saturating_sub(TAIL_RECORDS);
                state.tail.drain(..excess);
            }
            topic.appended.notify_waiters();
            Ok(())
        })
        .await
    }

    /// Stores `group`'s next offset on `topic` and deletes what every group has read.
    async fn commit(&self, topic: &str, group: &str, next: i64) -> Result<()> {
        let state = self.topic(topic);
        let delete_before = {
            let mut state = lock(&state.state);
            state.committed.insert(group.to_owned(), next);
            // What every consumer in this process has committed leaves the memory tail: a
            // group that attaches later starts at its commit, and reads what precedes the
            // tail from the file.
            let read_by_attached = state
                .attached
                .iter()
                .map(|g| state.committed.get(g).copied().unwrap_or(state.start))
                .min()
                .unwrap_or(next);
            let read = state
                .tail
                .iter()
                .take_while(|d| d.offset < read_by_attached)
                .count();
            state.tail.drain(..read);
            let read_by_all = state.committed.values().copied().min().unwrap_or(0);
            (read_by_all - state.deleted_before >= DELETE_EVERY).then(|| {
                state.deleted_before = read_by_all;
                read_by_all
            })
        };
        let (topic, group) = (topic.to_owned(), group.to_owned());
        self.write("committing an offset", move |connection| {
            let transaction = connection.transaction()?;
            transaction.execute(
                "INSERT INTO group_offsets (topic, grp, next_offset) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (topic, grp) DO UPDATE SET next_offset = max(next_offset, excluded.next_offset)",
                params![topic, group, next],
            )?;
            if let Some(before) = delete_before {
                transaction.execute(
                    "DELETE FROM records WHERE topic = ?1 AND offset < ?2",
                    params![topic, before],
                )?;
            }
            transaction.commit()
        })
        .await
    }

    /// Runs `work` on the reading connection, on a blocking thread; `what` names it in an
    /// error, as does a read of a closed bus.
    async fn read_with<T: Send + 'static>(
        &self,
        what: &str,
        work: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T> {
        let reader = self.reader.clone();
        tokio::task::spawn_blocking(move || lock(&reader).as_ref().map(work))
            .await
            .map_err(|e| self.error(what, e))?
            .ok_or_else(|| self.error(what, "the bus is closed"))?
            .map_err(|e| self.error(what, e))
    }

    /// Runs `work` on the writing connection, on a blocking thread; `what` names it in an
    /// error.
    async fn write(
        &self,
        what: &str,
        work: impl FnOnce(&mut Connection) -> rusqlite::Result<()> + Send + 'static,
    ) -> Result<()> {
        let writer = self.writer.clone();
        tokio::task::spawn_blocking(move || work(&mut lock(&writer)))
            .await
            .map_err(|e| self.error(what, e))?
            .map_err(|e| self.error(what, e))
    }
}

/// The connection that writes the bus file at `path`, creating the file and its tables when
/// missing.
fn open_writer(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(path, flags)?;
    connection.busy_timeout(Duration::from_secs(10))?;
    // Before the first table, so that it holds for a file this creates.
    connection.pragma_update(None, "page_size", PAGE_SIZE)?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    for statement in SCHEMA {
        connection.execute_batch(statement)?;
    }
    Ok(connection)
}

/// The connection that reads the bus file at `path` (created, with its tables, by then).
fn open_reader(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(path, flags)?;
    connection.busy_timeout(Duration::from_secs(10))?;
    Ok(connection)
}

#[async_trait]
impl Producer for FileBus {
    fn system(&self) -> &'static str {
        "file"
    }

    fn max_record_bytes(&self) -> usize {
        crate::DEFAULT_MAX_RECORD_BYTES
    }

    async fn enqueue(&self, topic: &str, records: Vec<BusRecord>) -> Result<Receipt> {
        let topic = self.topic(topic);
        self.append(topic, records).await?;
        // Committed to the file means held: the receipt is already settled.
        Ok(futures::future::ready(Ok(())).boxed())
    }
}

/// A consumer of one topic of the file bus. Dropping it leaves its uncommitted records for
/// the group's next consumer.
pub struct FileConsumer {
    bus: Arc<FileBus>,
    topic: Arc<Topic>,
    group: String,
    /// Next offset to deliver.
    position: i64,
    /// First offset not yet committed.
    committed: i64,
}

#[async_trait]
impl Consumer for FileConsumer {
    fn durable(&self) -> bool {
        true
    }

    fn system(&self) -> &'static str {
        "file"
    }

    async fn poll(&mut self, max: usize, wait: Duration) -> Result<Vec<Delivery>> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let appended = self.topic.appended.notified();
            tokio::pin!(appended);
            appended.as_mut().enable();
            let (end, from_tail) = {
                let state = lock(&self.topic.state);
                let tail_start = state.tail.front().map_or(state.end, |d| d.offset);
                let from_tail: Vec<Delivery> = if self.position >= tail_start {
                    let skip = (self.position - tail_start) as usize;
                    state.tail.iter().skip(skip).take(max).cloned().collect()
                } else {
                    Vec::new()
                };
                (state.end, from_tail)
            };
            if end > self.position {
                let batch = if from_tail.is_empty() {
                    self.bus.read(&self.topic.name, self.position, max).await?
                } else {
                    from_tail
                };
                if let Some(last) = batch.last() {
                    self.position = last.offset + 1;
                    return Ok(batch);
                }
            }
            if tokio::time::timeout_at(deadline, appended).await.is_err() {
                return Ok(Vec::new());
            }
        }
    }

    async fn commit(&mut self, batch: &[Delivery]) -> Result<()> {
        let Some(upto) = batch.iter().map(|d| d.offset + 1).max() else {
            return Ok(());
        };
        if upto > self.committed {
            self.bus.commit(&self.topic.name, &self.group, upto).await?;
            self.committed = upto;
        }
        Ok(())
    }

    fn lag(&self) -> u64 {
        (lock(&self.topic.state).end - self.committed).max(0) as u64
    }

    async fn caught_up(&mut self) -> Result<bool> {
        Ok(self.position >= lock(&self.topic.state).end)
    }
}

impl Drop for FileConsumer {
    fn drop(&mut self) {
        lock(&self.topic.state)
            .attached
            .retain(|g| g != &self.group);
    }
}

impl Topic {
    fn new(name: &str, state: TopicState) -> Arc<Self> {
        Arc::new(Self {
            name: name.to_owned(),
            state: Mutex::new(state),
            appended: Notify::new(),
        })
    }
}

/// Every topic the file holds, with its offsets and its groups' commits.
fn load_topics(connection: &Connection) -> rusqlite::Result<HashMap<String, Arc<Topic>>> {
    let mut states: HashMap<String, TopicState> = HashMap::new();
    let mut bounds =
        connection.prepare("SELECT topic, min(offset), max(offset) FROM records GROUP BY topic")?;
    let mut rows = bounds.query([])?;
    while let Some(row) = rows.next()? {
        let state = states.entry(row.get(0)?).or_default();
        state.start = row.get(1)?;
        state.end = row.get::<_, i64>(2)? + 1;
    }
    let mut commits = connection.prepare("SELECT topic, grp, next_offset FROM group_offsets")?;
    let mut rows = commits.query([])?;
    while let Some(row) = rows.next()? {
        let state = states.entry(row.get(0)?).or_default();
        state.committed.insert(row.get(1)?, row.get(2)?);
    }
    Ok(states
        .into_iter()
        .map(|(name, mut state)| {
            // A topic whose records were all read and deleted goes on after its commits.
            let read = state.committed.values().copied().max().unwrap_or(0);
            if state.end <= state.start {
                state.start = read;
                state.end = read;
            }
            state.deleted_before = state.start;
            let topic = Topic::new(&name, state);
            (name, topic)
        })
        .collect())
}

/// Record headers as one blob: per header, its name's length (u32, big-endian), the name,
/// its value's length and the value.
fn encode_headers(headers: &[crate::Header]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in headers {
        for part in [name.as_bytes(), value.as_ref()] {
            out.extend_from_slice(&u32::try_from(part.len()).unwrap_or(u32::MAX).to_be_bytes());
            out.extend_from_slice(part);
        }
    }
    out
}

/// What a record whose stored headers are unreadable is delivered with instead: the reason,
/// under [`crate::headers::READ_ERROR`].
fn unreadable_headers() -> Vec<crate::Header> {
    vec![(
        crate::headers::READ_ERROR.to_owned(),
        Bytes::from_static(b"its headers in the bus file are unreadable"),
    )]
}

/// The headers [`encode_headers`] wrote, or `None` when the blob is not such a list.
fn decode_headers(mut blob: &[u8]) -> Option<Vec<crate::Header>> {
    let take = |blob: &mut &[u8]| -> Option<Vec<u8>> {
        let (len, rest) = blob.split_first_chunk::<4>()?;
        let len = usize::try_from(u32::from_be_bytes(*len)).ok()?;
        let (part, rest) = (rest.get(..len)?, rest.get(len..)?);
        *blob = rest;
        Some(part.to_vec())
    };
    let mut headers = Vec::new();
    while !blob.is_empty() {
        let name = String::from_utf8(take(&mut blob)?).ok()?;
        let value = Bytes::from(take(&mut blob)?);
        headers.push((name, value));
    }
    Some(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(n: u32) -> BusRecord {
        BusRecord {
            key: Bytes::from(n.to_string()),
            value: Bytes::from(vec![n as u8, 0, 255]),
            headers: vec![
                ("content-type".into(), Bytes::from_static(b"x")),
                ("empty".into(), Bytes::new()),
            ],
        }
    }

    /// The offsets of the first `count` records `consumer` polls, `step` at a time; fails
    /// when a poll finds nothing within 5 s.
    async fn offsets_polled(
        consumer: &mut FileConsumer,
        count: usize,
        step: usize,
    ) -> Result<Vec<i64>> {
        let mut offsets = Vec::new();
        while offsets.len() < count {
            let batch = consumer.poll(step, Duration::from_secs(5)).await?;
            assert!(!batch.is_empty(), "only {} records came", offsets.len());
            offsets.extend(batch.iter().map(|d| d.offset));
        }
        Ok(offsets)
    }

    fn temp_path(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("payments-file-bus-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir.join("bus.db")
    }

    #[test]
    fn headers_round_trip_and_garbage_is_refused() {
        let headers = record(1).headers;
        assert_eq!(decode_headers(&encode_headers(&headers)), Some(headers));
        assert_eq!(decode_headers(&[]), Some(vec![]));
        assert_eq!(decode_headers(&[0, 0, 0, 9, b'x']), None);
    }

    #[tokio::test]
    async fn records_outlive_the_bus_and_each_group_resumes_at_its_commit() -> Result<()> {
        let path = temp_path("resume");
        {
            let bus = Arc::new(FileBus::open(&path).await?);
            bus.send_batch("t", (0..5).map(record).collect()).await?;
            let mut consumer = bus.consumer("t", "g")?;
            let batch = consumer.poll(2, Duration::from_millis(10)).await?;
            assert_eq!(batch[0].record, record(0));
            consumer.commit(&batch).await?;
            assert_eq!(consumer.lag(), 3);
            assert!(matches!(
                bus.consumer("t", "g"),
                Err(Error::ConsumerTaken { .. })
            ));
        }
        let bus = Arc::new(FileBus::open(&path).await?);
        let mut again = bus.consumer("t", "g")?;
        let rest = again.poll(10, Duration::from_millis(10)).await?;
        assert_eq!(
            rest.iter().map(|d| d.offset).collect::<Vec<_>>(),
            vec![2, 3, 4]
        );
        assert!(again.caught_up().await?);
        // New records continue the offsets.
        again.commit(&rest).await?;
        bus.send("t", record(9)).await?;
        assert_eq!(
            again.poll(10, Duration::from_millis(10)).await?[0].offset,
            5
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_closed_bus_leaves_every_record_in_its_file_alone() -> Result<()> {
        let path = temp_path("close");
        let bus = Arc::new(FileBus::open(&path).await?);
        bus.send_batch("t", (0..50).map(record).collect()).await?;
        let log = PathBuf::from(format!("{}-wal", path.display()));
        let logged = std::fs::metadata(&log).expect("the log").len();
        assert!(logged > 0, "the records are in the log first");
        bus.close().await?;
        assert_eq!(std::fs::metadata(&log).map_or(0, |file| file.len()), 0);
        // The file alone, without its log, holds them all.
        drop(bus);
        let copy = path.with_file_name("copy.db");
        std::fs::copy(&path, &copy).expect("copying the file");
        let reopened = Arc::new(FileBus::open(&copy).await?);
        let kept = reopened.snapshot("t", 100).await?;
        assert_eq!(kept.len(), 50);
        assert_eq!(kept[49].record, record(49));
        Ok(())
    }

    #[tokio::test]
    async fn records_every_group_read_are_deleted_in_runs_and_the_rest_kept() -> Result<()> {
        let path = temp_path("delete");
        let bus = Arc::new(FileBus::open(&path).await?);
        let total = DELETE_EVERY as u32 + 10;
        bus.send_batch("t", (0..total).map(record).collect())
            .await?;
        let mut consumer = bus.consumer("t", "g")?;
        let mut read = 0;
        while read < DELETE_EVERY as usize + 5 {
            let batch = consumer
                .poll(DELETE_EVERY as usize + 5 - read, Duration::from_millis(10))
                .await?;
            read += batch.len();
            consumer.commit(&batch).await?;
        }
        assert_eq!(bus.uncommitted("t", "g").await?, 5);
        let kept = bus.snapshot("t", 100).await?;
        assert_eq!(kept.first().map(|d| d.offset), Some(DELETE_EVERY + 5));
        assert_eq!(kept.len(), 5);
        Ok(())
    }

    #[tokio::test]
    async fn a_consumer_behind_the_memory_tail_reads_the_file() -> Result<()> {
        let path = temp_path("tail");
        let bus = Arc::new(FileBus::open(&path).await?);
        let total = TAIL_RECORDS as u32 + 100;
        bus.send_batch("t", (0..total).map(record).collect())
            .await?;
        let mut consumer = bus.consumer("t", "g")?;
        let offsets = offsets_polled(&mut consumer, total as usize, 7_000).await?;
        assert_eq!(offsets, (0..i64::from(total)).collect::<Vec<_>>());
        Ok(())
    }

    #[tokio::test]
    async fn committed_records_leave_the_memory_tail_and_a_later_group_reads_them_from_the_file()
    -> Result<()> {
        let bus = Arc::new(FileBus::open(&temp_path("trim")).await?);
        bus.send_batch("t", (0..100).map(record).collect()).await?;
        let mut first = bus.consumer("t", "first")?;
        let read = first.poll(60, Duration::from_millis(10)).await?;
        first.commit(&read).await?;
        let tail: Vec<i64> = lock(&bus.topic("t").state)
            .tail
            .iter()
            .map(|d| d.offset)
            .collect();
        assert_eq!(tail, (60..100).collect::<Vec<_>>());
        let mut later = bus.consumer("t", "later")?;
        let offsets = offsets_polled(&mut later, 100, 30).await?;
        assert_eq!(offsets, (0..100).collect::<Vec<_>>());
        // While `later` has committed nothing, a commit of `first` keeps the tail whole.
        let rest = first.poll(40, Duration::from_millis(10)).await?;
        first.commit(&rest).await?;
        assert_eq!(lock(&bus.topic("t").state).tail.len(), 40);
        Ok(())
    }

    #[tokio::test]
    async fn a_record_whose_stored_headers_are_unreadable_comes_in_its_place_saying_so()
    -> Result<()> {
        let path = temp_path("unreadable");
        {
            let bus = FileBus::open(&path).await?;
            bus.send_batch("t", (0..3).map(record).collect()).await?;
            bus.close().await?;
        }
        Connection::open(&path)
            .and_then(|c| {
                c.execute(
                    "UPDATE records SET headers = x'000000ff' WHERE offset = 1",
                    [],
                )
            })
            .expect("damaging one record's headers");
        let bus = Arc::new(FileBus::open(&path).await?);
        let mut consumer = bus.consumer("t", "g")?;
        let read = consumer.poll(10, Duration::from_secs(5)).await?;
        assert_eq!(read.len(), 3, "the records after it still come");
        assert_eq!(read[0].record, record(0));
        assert_eq!(read[2].record, record(2));
        assert_eq!(read[1].record.key, record(1).key);
        assert_eq!(read[1].record.value, record(1).value);
        assert_eq!(
            read[1].record.header(crate::headers::READ_ERROR),
            Some("its headers in the bus file are unreadable")
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_second_process_is_refused_while_the_first_has_the_file() -> Result<()> {
        let path = temp_path("lock");
        let _first = FileBus::open(&path).await?;
        let second = FileBus::open(&path).await.err().map(|e| e.to_string());
        assert!(
            second
                .as_deref()
                .is_some_and(|e| e.contains("another process has it open")),
            "{second:?}"
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_waiting_poll_wakes_on_append() -> Result<()> {
        let bus = Arc::new(FileBus::open(&temp_path("wake")).await?);
        let mut consumer = bus.consumer("t", "g")?;
        let producer = bus.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            producer.send("t", record(1)).await
        });
        let got = consumer.poll(10, Duration::from_secs(5)).await?;
        assert_eq!(got.len(), 1);
        Ok(())
    }

    #[tokio::test]
    async fn an_append_whose_caller_gives_up_completes_whole_and_the_next_follows_it() -> Result<()>
    {
        let path = temp_path("abandoned");
        let bus = Arc::new(FileBus::open(&path).await?);
        // Polled once (the write starts on its blocking thread, which waits for the writing
        // connection held here), then dropped, as when the client of an ingest stream hangs
        // up. (Without holding the connection, the append could finish within that one poll
        // when this thread was descheduled for a millisecond.)
        let writing = lock(&bus.writer);
        let abandoned = bus.enqueue("t", (0..500).map(record).collect());
        assert!(
            abandoned.now_or_never().is_none(),
            "the append cannot finish while the connection is held"
        );
        drop(writing);
        bus.send_batch("t", (500..1_000).map(record).collect())
            .await?;
        let mut consumer = bus.consumer("t", "g")?;
        let offsets = offsets_polled(&mut consumer, 1_000, 1_000).await?;
        assert_eq!(offsets, (0..1_000).collect::<Vec<i64>>());
        drop(consumer);
        drop(bus);
        // And the file says the same.
        let reopened = Arc::new(FileBus::open(&path).await?);
        assert_eq!(reopened.uncommitted("t", "g").await?, 1_000);
        Ok(())
    }
}
