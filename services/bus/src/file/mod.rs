//! `file://PATH`: a durable bus inside one process, kept in the directory `PATH`.
//!
//! Each topic is one partition: a log of segment files under `PATH/topics/<topic>/`
//! ([`segment`]), appended to with one write per [`Producer::enqueue`] call, so a record a
//! producer was told is held survives a `kill -9` of the process (a power cut may lose what
//! the system had not yet written to the disk). Every append is checksummed: a torn one at the
//! end of the log is cut off when the bus is next opened, and a damaged one further back is
//! skipped, logged, without stopping the records after it.
//!
//! A consumer group's next offset is a line of the topic's `commits` file, replaced on
//! commit; a segment every group has read past is deleted. A consumer keeping up reads the
//! records this process appended from memory (the latest few, that a consumer here has not
//! committed yet: [`tail`]); others come from the segments. A new process on the same
//! directory resumes each group at its commit, so a record is delivered at least once. One
//! process at a time opens the bus (a lock file beside it says who has it).
//!
//! Dead-letter topics (names ending in `.dlq`) keep their latest [`DEAD_LETTERS_KEPT`]
//! records.
//!
//! Earlier versions kept the bus in one SQLite file at `PATH`; opening such a file moves its
//! records and commits into a log at the same path ([`sqlite_migration`]).

mod commits;
mod frame;
mod names;
mod segment;
mod sqlite_migration;
mod tail;

use crate::{BusRecord, Consumer, Delivery, Error, Producer, Receipt, Result};
use futures::FutureExt;
use segment::{AppendError, Segment, SegmentWriter};
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tail::MemoryTail;
use tokio::sync::Notify;

/// Records a dead-letter topic keeps (its latest).
pub const DEAD_LETTERS_KEPT: i64 = 100_000;

/// The file in a bus's directory that says what wrote it.
const FORMAT_FILE: &str = "bus-format";
const FORMAT: &str = "payments file bus: a segment log, version 1\n";

/// The directory in a bus's directory that holds one directory per topic.
const TOPICS_DIR: &str = "topics";

/// The file bus.
pub struct FileBus {
    path: PathBuf,
    topics: Mutex<HashMap<String, Arc<Topic>>>,
    /// Set by [`FileBus::close`]: reads are refused from then on.
    closed: AtomicBool,
    /// Bytes after which a topic's segment is closed and the next begun.
    segment_bytes: u64,
    /// Held while the bus is open: the directory's lock.
    _lock: std::fs::File,
}

struct Topic {
    name: String,
    dir: PathBuf,
    state: Mutex<TopicState>,
    /// Signalled when records are appended.
    appended: Notify,
    /// The end of the log, held for a whole append: appends to a topic are one at a time
    /// and in order. `None` until this process first appends.
    writer: Mutex<Option<SegmentWriter>>,
    /// Held while the `commits` file is replaced.
    commits_file: Mutex<()>,
}

#[derive(Default)]
struct TopicState {
    /// The latest records appended in this process, ending at `end`.
    tail: MemoryTail,
    /// The log's segments, oldest first; the last is the one appended to.
    segments: Vec<Segment>,
    /// The first offset a reader gets.
    start: i64,
    /// The next offset to append.
    end: i64,
    /// Each group's next offset, as committed.
    committed: HashMap<String, i64>,
    /// Groups with a consumer in this process.
    attached: Vec<String>,
}

impl TopicState {
    /// Drops the segments (never the last) that end at or before `offset`, and returns their
    /// files for deleting.
    fn release_before(&mut self, offset: i64) -> Vec<PathBuf> {
        let releasable = self.segments.len().saturating_sub(1);
        let released = self.segments[..releasable]
            .iter()
            .take_while(|s| s.end <= offset)
            .count();
        let paths = self.segments.drain(..released).map(|s| s.path).collect();
        if let Some(first) = self.segments.first() {
            self.start = self.start.max(first.base);
        }
        paths
    }
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

/// Deletes the files of released segments; one that cannot be deleted is logged and left.
fn delete_segments(paths: Vec<PathBuf>) {
    for path in paths {
        if let Err(error) = std::fs::remove_file(&path)
            && error.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(file = %path.display(), %error, "file bus could not delete a segment every group has read");
        }
    }
}

impl FileBus {
    /// Opens (creating when missing) the bus at `path`; an error when another process has
    /// it open. A SQLite bus file of an earlier version at `path` is first moved into a log.
    pub async fn open(path: &Path) -> Result<Self> {
        Self::open_with_segments_of(path, segment::SEGMENT_BYTES).await
    }

    async fn open_with_segments_of(path: &Path, segment_bytes: u64) -> Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| file_error(path, "creating its parent directory", e))?;
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
        let dir = path.to_owned();
        let topics = tokio::task::spawn_blocking(move || {
            prepare_directory(&dir)?;
            load_topics(&dir)
        })
        .await
        .map_err(|e| file_error(path, "opening it", e))??;
        Ok(Self {
            path: path.to_owned(),
            topics: Mutex::new(topics),
            closed: AtomicBool::new(false),
            segment_bytes,
            _lock: lock_file,
        })
    }

    /// Ends the bus at the end of its process: flushes every topic's log and commits to the
    /// disk. The bus answers no read after this.
    pub async fn close(&self) -> Result<()> {
        self.closed.store(true, Ordering::SeqCst);
        let topics: Vec<Arc<Topic>> = lock(&self.topics).values().cloned().collect();
        tokio::task::spawn_blocking(move || {
            for topic in topics {
                if let Some(writer) = lock(&topic.writer).as_ref() {
                    writer.sync()?;
                }
                let _held = lock(&topic.commits_file);
                commits::sync_commits(&topic.dir)?;
            }
            Ok::<_, std::io::Error>(())
        })
        .await
        .map_err(|e| self.error("flushing it", e))?
        .map_err(|e| self.error("flushing it", e))
    }

    /// The bus's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn error(&self, what: &str, error: impl std::fmt::Display) -> Error {
        file_error(&self.path, what, error)
    }

    fn topic(&self, name: &str) -> Arc<Topic> {
        lock(&self.topics)
            .entry(name.to_owned())
            .or_insert_with(|| Topic::new(&self.path, name, TopicState::default()))
            .clone()
    }

    /// Joins group `group` on `topic`, resuming at its commit (or at the oldest record the
    /// bus holds); one consumer per group and topic at a time.
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
            // A group that has not committed yet holds on to what it is about to read: no
            // segment is deleted under it.
            let start = state.start;
            *state.committed.entry(group.to_owned()).or_insert(start)
        };
        Ok(FileConsumer {
            bus: self.clone(),
            topic,
            group: group.to_owned(),
            position: committed,
            committed,
            read_ahead: VecDeque::new(),
        })
    }

    /// How many records of `topic` the bus holds past `group`'s commit.
    pub async fn uncommitted(&self, topic: &str, group: &str) -> Result<u64> {
        let topic = self.topic(topic);
        let state = lock(&topic.state);
        let from = state
            .committed
            .get(group)
            .copied()
            .unwrap_or(state.start)
            .max(state.start);
        Ok((state.end - from).max(0) as u64)
    }

    /// The first `limit` records `topic` holds, oldest first, outside any group.
    pub async fn snapshot(&self, topic: &str, limit: usize) -> Result<Vec<Delivery>> {
        let start = lock(&self.topic(topic).state).start;
        let mut deliveries = self.read(topic, start, limit).await?.deliveries;
        deliveries.truncate(limit);
        Ok(deliveries)
    }

    /// The records of `topic` from offset `from` on, read from its segments: `limit` at least,
    /// when the log holds them, and the rest of the last frame read ([`segment::read`]).
    async fn read(&self, topic: &str, from: i64, limit: usize) -> Result<segment::Read> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(self.error("reading records", "the bus is closed"));
        }
        let topic = self.topic(topic);
        let (from, parts) = {
            let state = lock(&topic.state);
            let from = from.max(state.start);
            let parts: Vec<_> = state
                .segments
                .iter()
                .filter(|s| s.end > from)
                .map(|s| s.read_from(from))
                .collect();
            (from, parts)
        };
        tokio::task::spawn_blocking(move || segment::read(&topic.name, &parts, from, limit))
            .await
            .map_err(|e| self.error("reading records", e))?
            .map_err(|e| self.error("reading records", e))
    }

    /// Appends `records` to `topic`; returns once the log holds them. Offsets are handed
    /// out, written and published in one piece under the topic's writer (on a blocking
    /// thread): an append whose caller gives up half-way (a client that hangs up) still
    /// completes whole, and the next append follows it.
    async fn append(&self, topic: Arc<Topic>, records: Vec<BusRecord>) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let segment_bytes = self.segment_bytes;
        let released = tokio::task::spawn_blocking(move || topic.append(records, segment_bytes))
            .await
            .map_err(|e| self.error("appending records", e))?
            .map_err(|e| match e {
                AppendError::TooLarge { bytes } => self.error(
                    "appending records",
                    format!(
                        "a record of {bytes} bytes or more is larger than the bus holds (4 GiB)"
                    ),
                ),
                AppendError::Io(e) => self.error("appending records", e),
            })?;
        if !released.is_empty() {
            tokio::task::spawn_blocking(move || delete_segments(released));
        }
        Ok(())
    }

    /// Stores `group`'s next offset on `topic` and deletes the segments every group has read.
    async fn commit(&self, topic: &str, group: &str, next: i64) -> Result<()> {
        let topic = self.topic(topic);
        let released = {
            let mut state = lock(&topic.state);
            let next = next.max(state.committed.get(group).copied().unwrap_or(next));
            state.committed.insert(group.to_owned(), next);
            // What every consumer in this process has committed leaves the memory tail: a
            // group that attaches later starts at its commit, and reads what precedes the
            // tail from the segments.
            let read_by_attached = state
                .attached
                .iter()
                .map(|g| state.committed.get(g).copied().unwrap_or(state.start))
                .min()
                .unwrap_or(next);
            state.tail.drop_before(read_by_attached);
            let read_by_all = state.committed.values().copied().min().unwrap_or(0);
            state.release_before(read_by_all)
        };
        tokio::task::spawn_blocking(move || {
            {
                let _held = lock(&topic.commits_file);
                let committed = lock(&topic.state).committed.clone();
                std::fs::create_dir_all(&topic.dir)?;
                commits::write_commits(&topic.dir, &committed)?;
            }
            // Only once the commits that let them go are written.
            delete_segments(released);
            Ok::<_, std::io::Error>(())
        })
        .await
        .map_err(|e| self.error("committing an offset", e))?
        .map_err(|e| self.error("committing an offset", e))
    }
}

impl Topic {
    fn new(bus: &Path, name: &str, state: TopicState) -> Arc<Self> {
        Arc::new(Self {
            name: name.to_owned(),
            dir: bus.join(TOPICS_DIR).join(names::encode_name(name)),
            state: Mutex::new(state),
            appended: Notify::new(),
            writer: Mutex::new(None),
            commits_file: Mutex::new(()),
        })
    }

    /// Writes `records` at the end of the log (beginning a segment when the last is
    /// `segment_bytes` long), then publishes them; returns the segments a dead-letter
    /// topic let go of.
    fn append(
        &self,
        records: Vec<BusRecord>,
        segment_bytes: u64,
    ) -> Result<Vec<PathBuf>, AppendError> {
        let mut writer = lock(&self.writer);
        let first = lock(&self.state).end;
        let continues = writer
            .as_ref()
            .is_some_and(|w| w.end == first && w.len() < segment_bytes);
        if !continues {
            *writer = Some(self.writer_at(first, writer.is_none(), segment_bytes)?);
        }
        let Some(segment_writer) = writer.as_mut() else {
            unreachable!("a writer was just put in place");
        };
        let now = now_ms();
        let written = segment_writer.append(&records, now)?;
        let released = {
            let mut state = lock(&self.state);
            if let Some(last) = state.segments.last_mut() {
                last.took(&written);
            }
            state.end = first + records.len() as i64;
            let tail = records.into_iter().enumerate().map(|(i, record)| Delivery {
                topic: self.name.clone(),
                partition: 0,
                offset: first + i as i64,
                timestamp_ms: now,
                record,
            });
            state.tail.extend(tail);
            if self.name.ends_with(".dlq") {
                state.start = state.start.max(state.end - DEAD_LETTERS_KEPT);
                let start = state.start;
                state.release_before(start)
            } else {
                Vec::new()
            }
        };
        self.appended.notify_waiters();
        Ok(released)
    }

    /// A writer of offset `first` on: the last segment continued, when this process has not
    /// written yet (`resuming`) and the segment ends there with room left; else a new segment.
    fn writer_at(
        &self,
        first: i64,
        resuming: bool,
        segment_bytes: u64,
    ) -> Result<SegmentWriter, AppendError> {
        let mut state = lock(&self.state);
        if resuming
            && let Some(last) = state.segments.last()
            && last.end == first
            && last.len < segment_bytes
        {
            return SegmentWriter::resume(last).map_err(AppendError::Io);
        }
        std::fs::create_dir_all(&self.dir).map_err(AppendError::Io)?;
        let (writer, segment) = SegmentWriter::create(&self.dir, first).map_err(AppendError::Io)?;
        // A segment begun here before, which no append has written to, is replaced.
        if state.segments.last().is_some_and(|s| s.base == first) {
            state.segments.pop();
        }
        state.segments.push(segment);
        Ok(writer)
    }
}

/// Makes `path` a bus directory: creates it when missing, and moves a SQLite bus file of an
/// earlier version into it.
fn prepare_directory(path: &Path) -> Result<()> {
    let failed = |what: &str, e: &dyn std::fmt::Display| file_error(path, what, e);
    sqlite_migration::recover(path)
        .map_err(|e| failed("finishing an interrupted move from SQLite", &e))?;
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return init_directory(path).map_err(|e| failed("creating it", &e));
        }
        Err(e) => return Err(failed("reading it", &e)),
    };
    if metadata.is_file() {
        if metadata.len() == 0 {
            std::fs::remove_file(path).map_err(|e| failed("replacing an empty file", &e))?;
            return init_directory(path).map_err(|e| failed("creating it", &e));
        }
        if !sqlite_migration::is_sqlite_file(path).map_err(|e| failed("reading it", &e))? {
            return Err(failed(
                "opening it",
                &"it is a file, neither a file bus directory nor the SQLite file of an earlier \
                  version; give another --bus file://…",
            ));
        }
        tracing::info!(path = %path.display(), "file bus moving records from its sqlite file into a segment log");
        let migrated = sqlite_migration::migrate(path, init_directory)
            .map_err(|e| failed("moving its records from SQLite into a segment log", &e))?;
        tracing::info!(
            path = %path.display(),
            topics = migrated.topics,
            records = migrated.records,
            commits = migrated.commits,
            "file bus moved its sqlite file into a segment log"
        );
        return Ok(());
    }
    match std::fs::read_to_string(path.join(FORMAT_FILE)) {
        Ok(format) if format == FORMAT => Ok(()),
        Ok(format) => Err(failed(
            "opening it",
            &format!(
                "its {FORMAT_FILE} says {:?}, a format this version does not read",
                format.trim()
            ),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let empty = std::fs::read_dir(path)
                .map_err(|e| failed("reading it", &e))?
                .next()
                .is_none();
            if empty {
                init_directory(path).map_err(|e| failed("creating it", &e))
            } else {
                Err(failed(
                    "opening it",
                    &format!(
                        "it is a directory with files but no {FORMAT_FILE}, so not a file bus; \
                         give another --bus file://…"
                    ),
                ))
            }
        }
        Err(e) => Err(failed("reading it", &e)),
    }
}

/// Creates an empty bus directory at `path`.
fn init_directory(path: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(path.join(TOPICS_DIR))?;
    std::fs::write(path.join(FORMAT_FILE), FORMAT)
}

/// Every topic the bus at `path` holds, with its segments and its groups' commits.
fn load_topics(path: &Path) -> Result<HashMap<String, Arc<Topic>>> {
    let topics_dir = path.join(TOPICS_DIR);
    let entries =
        std::fs::read_dir(&topics_dir).map_err(|e| file_error(path, "reading its topics", e))?;
    let mut topics = HashMap::new();
    for entry in entries {
        let entry = entry.map_err(|e| file_error(path, "reading its topics", e))?;
        let file_name = entry.file_name();
        let Some(name) = file_name.to_str().and_then(names::decode_name) else {
            tracing::warn!(entry = %entry.path().display(), "file bus skipped an entry that names no topic");
            continue;
        };
        let state = load_topic(&entry.path(), &name)
            .map_err(|e| file_error(path, &format!("reading topic {name:?}"), e))?;
        topics.insert(name.clone(), Topic::new(path, &name, state));
    }
    Ok(topics)
}

/// The segments and commits of the topic in `dir`. The last segment's frames are checked
/// whole, and a torn end (what a crash mid-append leaves) is cut off.
fn load_topic(dir: &Path, name: &str) -> std::io::Result<TopicState> {
    let mut bases = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if let Some(base) = entry
            .file_name()
            .to_str()
            .and_then(segment::parse_segment_file_name)
        {
            bases.push(base);
        }
    }
    bases.sort_unstable();
    let mut state = TopicState {
        committed: commits::read_commits(dir)?,
        ..TopicState::default()
    };
    for (i, &base) in bases.iter().enumerate() {
        let path = dir.join(segment::segment_file_name(base));
        let next = bases.get(i + 1).copied();
        let last = next.is_none();
        let (segment, damage) = Segment::open(&path, base, last, next)?;
        if let Some(damage) = damage {
            if last {
                tracing::warn!(
                    file = %path.display(),
                    bytes = damage.bytes_after,
                    reason = %damage.reason,
                    "file bus cut off the end of its log that no append finished"
                );
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(&path)?
                    .set_len(segment.len)?;
            } else {
                tracing::error!(
                    file = %path.display(),
                    lost_from = segment.end,
                    lost_to = next,
                    reason = %damage.reason,
                    "file bus found part of a segment unreadable; its records are skipped"
                );
            }
        }
        state.segments.push(segment);
    }
    let committed_max = state.committed.values().copied().max().unwrap_or(0);
    state.start = state.segments.first().map_or(committed_max, |s| s.base);
    // Past every commit even when the log's end was lost (a power cut): a group that read
    // an offset never gets a different record under it.
    state.end = state
        .segments
        .last()
        .map_or(committed_max, |s| s.end)
        .max(committed_max);
    if name.ends_with(".dlq") {
        state.start = state.start.max(state.end - DEAD_LETTERS_KEPT);
    }
    Ok(state)
}

#[async_trait::async_trait]
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
        // Written to the log means held: the receipt is already settled.
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
    /// Records read from the log past what a poll asked for (the rest of a frame), from
    /// `position` on: the next polls take them rather than read the frame again.
    read_ahead: VecDeque<Delivery>,
}

#[async_trait::async_trait]
impl Consumer for FileConsumer {
    fn durable(&self) -> bool {
        true
    }

    fn system(&self) -> &'static str {
        "file"
    }

    async fn poll(&mut self, max: usize, wait: Duration) -> Result<Vec<Delivery>> {
        if self
            .read_ahead
            .front()
            .is_some_and(|d| d.offset == self.position)
        {
            let take = max.min(self.read_ahead.len());
            let batch: Vec<Delivery> = self.read_ahead.drain(..take).collect();
            if let Some(last) = batch.last() {
                self.position = last.offset + 1;
            }
            return Ok(batch);
        }
        self.read_ahead.clear();
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let appended = self.topic.appended.notified();
            tokio::pin!(appended);
            appended.as_mut().enable();
            let (end, from_tail) = {
                let state = lock(&self.topic.state);
                let from_tail = state.tail.read(self.position, max).unwrap_or_default();
                (state.end, from_tail)
            };
            if end > self.position {
                let before = self.position;
                let batch = if from_tail.is_empty() {
                    let mut read = self.bus.read(&self.topic.name, self.position, max).await?;
                    self.position = self.position.max(read.reached);
                    if read.deliveries.len() > max {
                        self.read_ahead = read.deliveries.split_off(max).into();
                    }
                    read.deliveries
                } else {
                    from_tail
                };
                if let Some(last) = batch.last() {
                    self.position = last.offset + 1;
                    return Ok(batch);
                }
                if self.position > before {
                    // Past records the log lost or found damaged: read on.
                    continue;
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

#[cfg(test)]
mod tests;
