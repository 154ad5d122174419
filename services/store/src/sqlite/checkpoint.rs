//! [`WalCheckpointer`]: copies the write-ahead log back into the database file on a thread and
//! connection of its own, so the writer seldom stops to do it.
//!
//! Left to itself, SQLite checkpoints in the connection whose commit took the log past
//! `wal_autocheckpoint` pages: that commit copies every page logged since the last checkpoint
//! into the database file and syncs it, and the pipeline waits. Here a second connection runs
//! a `PASSIVE` checkpoint after commits (at most every [`MIN_INTERVAL`]), copying what is
//! logged while the writer goes on. Measured with `paymentsctl bench-sink --sink sqlite://…
//! --count 200000`, four runs each, interleaved: the writer checkpointing every 1,000 pages
//! 50.0–54.2k/s, every 4,000 pages 47.2–52.8k/s; with this 55.6–58.8k/s.
//!
//! A background checkpoint cannot let the log start over, because the writer keeps adding to
//! it. So once the log holds [`LOG_LIMIT_PAGES`], the writer checkpoints after its commit
//! ([`WalCheckpointer::bound_log`]): with nearly every page copied already this is short, and
//! it completes, so the writer's next transaction starts the log from its beginning.
//!
//! The writer tells whether the log holds its limit of pages from the log's file, so the bound
//! holds however far the thread lags: the frame at the limit's position belongs to the current
//! log when it carries the salts of the log's header, which change each time the log starts over
//! (SQLite's WAL file format). (Reading the count the thread's last checkpoint found let a fast
//! writer run 53 pages past a limit of 16 before the thread caught up.) It must not read the
//! log's index (`-shm`) instead: closing a descriptor of that file drops every POSIX lock this
//! process holds on it, and another process on the same database then rebuilt the index under
//! this one, which failed with "locking protocol" and crashed. SQLite takes no lock on the log's
//! file.
//!
//! The log's file is not cut back when the log starts over: the next pages overwrite it in place.
//! Measured with `paymentsctl bench-sink --sink sqlite://… --count 200000 --batch 3000`,
//! interleaved: with the file cut back to nothing at every start (and the log's length read from
//! it), 46.9–59.8k/s; written in place, 60.5–66.6k/s (400,000: 23.4–25.9k/s against
//! 28.0–29.8k/s). Every page logged into a file cut back had the file system allocate its blocks
//! again.

use super::connection::open_connection;
use crate::{Error, Result};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
#[cfg(test)]
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The least time between two background checkpoints: each syncs the database file, and a
/// page written by several batches in that time is copied once. `paymentsctl bench --count
/// 200000`, where the checkpoints share two cores with the whole pipeline, four interleaved
/// pairs: 48.1k–51.4k/s every 50 ms, 50.9k–53.9k/s every 250 ms (less system time in every
/// pair); every second was no faster. `bench-sink` alone did not tell them apart (73.4k–81.9k/s).
const MIN_INTERVAL: Duration = Duration::from_millis(250);

/// Pages in the log past which the writer lets it start over (256 MiB of 64 KiB pages). A
/// longer log copies a page written by many batches back once: at 1,000 pages the writer
/// waited on the copying as long as it did checkpointing alone.
pub const LOG_LIMIT_PAGES: u32 = 4_000;

/// Bytes at the start of a log file, before its first page.
const LOG_HEADER_BYTES: u64 = 32;

/// Bytes in front of each page in a log file.
const FRAME_HEADER_BYTES: u64 = 24;

/// Where a log's header keeps its page size (4 bytes, big-endian).
const LOG_PAGE_SIZE_AT: usize = 8;

/// Where a log's header keeps its two salts (8 bytes); a frame of the current log repeats
/// them at [`FRAME_SALTS_AT`].
const LOG_SALTS_AT: usize = 16;

/// Where a frame's header repeats its log's salts.
const FRAME_SALTS_AT: usize = 8;

/// What the writer and the checkpoint thread share.
#[derive(Default)]
struct Shared {
    /// Held while either checkpoints, so neither finds the other busy.
    checkpointing: Mutex<()>,
    /// Pages in the log at the last checkpoint, by either connection.
    #[cfg(test)]
    log_pages: AtomicI64,
}

impl Shared {
    /// Checkpoints on `connection`; returns how many pages the log holds.
    fn checkpoint(&self, connection: &Connection) -> rusqlite::Result<i64> {
        let _turn = lock(&self.checkpointing);
        // (busy, pages in the log, pages copied back)
        let log_pages = connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
            row.get::<_, i64>(1)
        })?;
        #[cfg(test)]
        self.log_pages.store(log_pages, Ordering::Relaxed);
        Ok(log_pages)
    }
}

/// The thread that checkpoints a database's log; it stops when this is dropped.
pub struct WalCheckpointer {
    /// Wakes the thread; dropped to stop it.
    wake: Mutex<Option<SyncSender<()>>>,
    /// The thread, until [`WalCheckpointer::stop`] waits for it.
    thread: Mutex<Option<JoinHandle<()>>>,
    shared: Arc<Shared>,
    /// The log's file (`-wal`).
    log: PathBuf,
    /// Pages in the log past which the writer lets it start over.
    log_limit_pages: u32,
}

impl WalCheckpointer {
    /// Opens a connection of its own to the database at `path` and starts its thread; the
    /// writer lets the log start over once it holds `log_limit_pages` ([`LOG_LIMIT_PAGES`]).
    pub fn start(path: &Path, log_limit_pages: u32) -> Result<Self> {
        // This connection checkpoints only when asked.
        let connection = open_connection(
            path,
            "checkpoints",
            // It copies pages from the log to the file, and reads none of its own: a cache of
            // 64 KiB pages would hold nothing of use.
            &[("wal_autocheckpoint", "0"), ("cache_size", "-256")],
        )?;
        let shared = Arc::new(Shared::default());
        let (wake, woken) = sync_channel(1);
        let for_thread = shared.clone();
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || run(&connection, &woken, &for_thread))
            .map_err(|e| Error::backend("starting the sqlite checkpoint thread", e))?;
        Ok(Self {
            wake: Mutex::new(Some(wake)),
            thread: Mutex::new(Some(thread)),
            shared,
            log: log_path(path),
            log_limit_pages: log_limit_pages.max(1),
        })
    }

    /// The bytes the log's file holds at most between two starts of the log, for
    /// `journal_size_limit`: its limit of pages of `page_bytes`, with their headers. (A commit
    /// that reaches the limit may take the log past it; the file is then cut back to this.)
    pub fn log_limit_bytes(&self, page_bytes: u64) -> u64 {
        LOG_HEADER_BYTES + u64::from(self.log_limit_pages) * (page_bytes + FRAME_HEADER_BYTES)
    }

    /// Says a transaction was committed: the thread checkpoints soon. Never waits.
    pub fn committed(&self) {
        if let Some(wake) = lock(&self.wake).as_ref() {
            // Full: a checkpoint is due already, and it will copy this commit too.
            let _ = wake.try_send(());
        }
    }

    /// Stops the thread and waits until it has closed its connection (at most one
    /// checkpoint and [`MIN_INTERVAL`]); the writer's own bound still holds afterwards.
    /// Blocks the calling thread.
    pub fn stop(&self) {
        drop(lock(&self.wake).take());
        if let Some(thread) = lock(&self.thread).take() {
            // A panic on that thread was reported there; the log is bounded all the same.
            let _ = thread.join();
        }
    }

    /// Called by the writer after a commit, on its own connection: once the log holds its
    /// limit of pages, finishes copying it back, so that the next transaction starts the log
    /// over. Returns at once otherwise.
    pub fn bound_log(&self, writer: &Connection) -> rusqlite::Result<()> {
        if !log_holds(&self.log, self.log_limit_pages) {
            return Ok(());
        }
        self.shared.checkpoint(writer).map(drop)
    }
}

/// The log's file (`-wal`) of the database at `path`.
fn log_path(path: &Path) -> PathBuf {
    let mut log = path.as_os_str().to_owned();
    log.push("-wal");
    log.into()
}

/// Whether the log in the file at `log` holds `pages` pages or more. False when the file is
/// shorter, or cannot be read (should it stay unreadable, SQLite's own `wal_autocheckpoint`
/// still bounds the log).
fn log_holds(log: &Path, pages: u32) -> bool {
    LogFile::open(log).is_some_and(|file| file.holds_frame(pages.max(1)))
}

/// Pages in the log's file at `log` written since the log last started over: the log's length,
/// without a checkpoint.
#[cfg(test)]
pub(crate) fn log_pages(log: &Path) -> u64 {
    LogFile::open(log).map_or(0, |file| {
        (1..).take_while(|&frame| file.holds_frame(frame)).count() as u64
    })
}

/// A log's file and its header, read without a lock (SQLite takes none on it).
struct LogFile {
    file: std::fs::File,
    header: [u8; LOG_HEADER_BYTES as usize],
}

impl LogFile {
    /// The log's file at `log`; `None` when it is missing, or shorter than a header.
    fn open(log: &Path) -> Option<Self> {
        let file = std::fs::File::open(log).ok()?;
        let header = read_at(&file, 0)?;
        Some(Self { file, header })
    }

    /// Whether the `frame`th frame (from 1) was written since the log last started over: it
    /// carries the salts of the log's header.
    fn holds_frame(&self, frame: u32) -> bool {
        let at = |offset: usize| [0, 1, 2, 3].map(|i| self.header[offset + i]);
        let page_bytes = u64::from(u32::from_be_bytes(at(LOG_PAGE_SIZE_AT)));
        let offset = LOG_HEADER_BYTES + u64::from(frame - 1) * (page_bytes + FRAME_HEADER_BYTES);
        read_at::<{ FRAME_HEADER_BYTES as usize }>(&self.file, offset).is_some_and(|frame| {
            self.header[LOG_SALTS_AT..LOG_SALTS_AT + 8] == frame[FRAME_SALTS_AT..FRAME_SALTS_AT + 8]
        })
    }
}

/// `N` bytes of `file` at `offset`; `None` past its end or when it cannot be read.
fn read_at<const N: usize>(file: &std::fs::File, offset: u64) -> Option<[u8; N]> {
    use std::os::unix::fs::FileExt;
    let mut bytes = [0; N];
    file.read_exact_at(&mut bytes, offset).ok().map(|()| bytes)
}

/// Checkpoints after each commit it is told of, at most every [`MIN_INTERVAL`], until the
/// checkpointer is dropped.
fn run(connection: &Connection, woken: &Receiver<()>, shared: &Shared) {
    let mut last = Instant::now();
    while woken.recv().is_ok() {
        let since = last.elapsed();
        if since < MIN_INTERVAL {
            std::thread::sleep(MIN_INTERVAL - since);
        }
        // Commits made while sleeping are copied by this checkpoint too.
        if let Err(TryRecvError::Disconnected) = woken.try_recv() {
            return;
        }
        last = Instant::now();
        match shared.checkpoint(connection) {
            Ok(log_pages) => tracing::trace!(log_pages, "sqlite log checkpointed"),
            // The writer's own checkpoints still bound the log.
            Err(error) => tracing::warn!(%error, "sqlite background checkpoint failed"),
        }
    }
}

#[cfg(test)]
impl WalCheckpointer {
    /// Pages in the log at the last checkpoint, by either connection (0 before the first).
    pub(crate) fn last_log_pages(&self) -> i64 {
        self.shared.log_pages.load(Ordering::Relaxed)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
