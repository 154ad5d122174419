//! `file://PATH`: a durable bus inside one process, kept in the directory `PATH`.
//!
//! Each topic is one partition: a log of segment files under `PATH/topics/<topic>/`
//! (`segment.rs`), appended to with one write per [`Producer::enqueue`] call, so a record a
//! producer was told is held survives a `kill -9` of the process (a power cut may lose what
//! the system had not yet written to the disk). Every append is checksummed: a torn one at the
//! end of the log is cut off when the bus is next opened, and each record of a damaged one
//! further back comes in its place saying so (under [`crate::headers::READ_ERROR`]), without
//! stopping the records after it. A damaged frame header further back loses the records from
//! there to the next frame a reader can find (the next segment, or the segment's next indexed
//! frame when the damage came after it was opened), and each of them comes so too.
//!
//! A consumer group's next offset is a line of the topic's `commits` file, replaced on
//! commit; a segment every group has read past is deleted. A consumer keeping up reads the
//! records this process appended from memory (the latest few, that a consumer here has not
//! committed yet: `tail.rs`); others come from the segments. A new process on the same
//! directory resumes each group at its commit, so a record is delivered at least once. One
//! process at a time opens the bus (a lock file beside it says who has it).
//!
//! Dead-letter topics (names ending in `.dlq`) keep their latest [`DEAD_LETTERS_KEPT`]
//! records.
//!
//! Earlier versions kept the bus in one SQLite file at `PATH`; opening such a file moves its
//! records and commits into a log at the same path (`sqlite_migration.rs`).

mod commits;
mod consumer;
mod directory;
mod frame;
mod names;
mod segment;
mod sqlite_migration;
mod tail;

use crate::shared_state::{lock, now_ms};
use crate::{BusRecord, Delivery, Error, Producer, Receipt, Result};
pub use consumer::FileConsumer;
use futures::FutureExt;
use segment::{AppendError, Segment, SegmentWriter};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
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
            directory::prepare_directory(&dir)?;
            directory::load_topics(&dir)
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
        Ok(FileConsumer::new(self.clone(), topic, group, committed))
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
                .filter(|s| s.read_end() > from)
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

#[cfg(test)]
mod tests;
