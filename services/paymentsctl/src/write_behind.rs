//! [`WriteBehindFile`]: `generate --out FILE` (or `> FILE`) handing what it has written to the
//! disk as it goes, and then out of the kernel's page cache, so that a file of gigabytes takes
//! a few dozen megabytes of the cache rather than gigabytes of it.
//!
//! Written the plain way, every byte lands in a page the kernel must find first, and the file's
//! pages push out whatever else the cache held (a database's, say) until the kernel writes
//! them, up to a fifth of memory later. Each time another [`WINDOW`] of the file is written,
//! this writer asks the kernel to start writing that window to the disk, and to drop the
//! windows written [`LAG`] windows before, which by then are on it (`posix_fadvise`
//! `DONTNEED` does both: it starts the writeback of dirty pages without waiting for it, and it
//! drops only clean ones). The pages dropped are the ones the next windows are written into.
//!
//! That matters most on a VM that hands the memory its guest frees back to the host: there the
//! first 2 GB file after a pause lands in pages the host must fault in again. On this project's
//! 2-core VM, 2 GB written in 1 MiB pieces after 30 s idle took 2.7–3.1 s of system time
//! written plainly, and 0.6–0.7 s (0.8–0.9 s of wall time) written behind in windows of 16 or
//! 32 MiB.
//!
//! Advice never waits for the disk, but starting the writeback does once the disk's queue is
//! full. A disk slower than the generator would then hold the generator to the disk's pace,
//! where the cache would have taken the file at memory speed and written it later. So the writer
//! times itself: once handing windows to the disk has taken longer than writing them did, for
//! [`SLOW_WINDOWS`] windows in a row, it stops advising, and the rest of the file is written the
//! plain way ([`DiskPace`]).

use std::fs::File;
use std::io::{self, Write};
use std::time::{Duration, Instant};

/// How much of the file is handed to the disk at a time.
pub const WINDOW: u64 = 16 << 20;

/// How many windows behind the last one written a window is dropped from the cache: time
/// enough for a disk that keeps up to have written it (dirty pages are never dropped).
pub const LAG: u64 = 4;

/// How many windows in a row must take longer to hand to the disk than to write before the
/// writer stops writing behind: one alone may be a moment the writer's thread was not running.
pub const SLOW_WINDOWS: u32 = 2;

/// A file written through the page cache that hands each [`WINDOW`] it has written to the
/// disk, and drops the windows written [`LAG`] windows before from the cache, for as long as
/// the disk keeps up. The bytes in the file are those written, whatever it does with the
/// cache. Wrap it in a [`std::io::BufWriter`]: it passes each write straight to the file.
pub struct WriteBehindFile {
    file: File,
    window: u64,
    /// Where in the file the writer began: the end of what a shell wrote before it, say.
    start: u64,
    /// Bytes written to the file.
    written: u64,
    /// Where the bytes not yet handed to the disk start: a multiple of `window`.
    handed: u64,
    /// Where the bytes still in the cache start.
    dropped: u64,
    /// When the window being written began.
    window_began: Instant,
    /// Whether the writer still advises the kernel: a regular file, on a system that takes
    /// advice, with a disk that keeps up.
    behind: bool,
    pace: DiskPace,
}

impl WriteBehindFile {
    /// Writes `file` behind itself in windows of [`WINDOW`], if it is a regular file.
    pub fn new(file: File) -> io::Result<Self> {
        Self::with_window(file, WINDOW)
    }

    /// Writes `file` behind itself in windows of `window` bytes (at least 1), if it is a
    /// regular file: a pipe, a terminal or a device is written as it is.
    pub fn with_window(file: File, window: u64) -> io::Result<Self> {
        let behind = cfg!(target_os = "linux") && file.metadata()?.file_type().is_file();
        let start = if behind { start_of_writes(&file)? } else { 0 };
        Ok(Self {
            file,
            window: window.max(1),
            start,
            written: 0,
            handed: 0,
            dropped: 0,
            window_began: Instant::now(),
            behind,
            pace: DiskPace::default(),
        })
    }

    /// This process's standard output, written behind itself, if it is a regular file (`>
    /// FILE` in a shell); `None` for a terminal, a pipe, a device, or a standard output that
    /// cannot be looked at (closed, say: writing to it then reports why). Nothing else may
    /// write to standard output while it is in use: it writes past `std::io::stdout()`'s
    /// buffer.
    pub fn stdout() -> Option<Self> {
        use std::os::fd::AsFd;
        let file = File::from(io::stdout().as_fd().try_clone_to_owned().ok()?);
        Self::new(file).ok().filter(|writer| writer.behind)
    }

    /// Whether the writer is still handing windows to the disk and dropping them.
    pub fn is_behind(&self) -> bool {
        self.behind
    }

    /// Hands the whole windows written since the last hand-off to the disk, drops those
    /// [`LAG`] windows older, and stops if that took longer than writing them did.
    fn hand_off(&mut self) {
        let end = self.written / self.window * self.window;
        let began = Instant::now();
        let writing = began.duration_since(self.window_began);
        let keep_from = end.saturating_sub(LAG * self.window);
        let at = |offset: u64| self.start + offset;
        let advised = advise_dont_need(&self.file, at(self.handed), at(end)).and_then(|()| {
            if keep_from > self.dropped {
                advise_dont_need(&self.file, at(self.dropped), at(keep_from))?;
                self.dropped = keep_from;
            }
            Ok(())
        });
        self.handed = end;
        let advising = began.elapsed();
        // A file system that takes no advice is written the plain way.
        self.behind = advised.is_ok() && self.pace.keeps_up(writing, advising);
        if !self.behind {
            tracing::debug!(
                at_byte = end,
                ?writing,
                ?advising,
                "write-behind stopped; the rest of the file goes through the page cache"
            );
        }
        self.window_began = Instant::now();
    }
}

/// Whether the disk keeps up with the writer, window by window. A window that took longer to
/// hand to the disk than to write is slow: a disk that is slow every time holds the writer to
/// its pace for more than half of its time.
#[derive(Debug)]
pub struct DiskPace {
    slow_in_a_row: u32,
    /// How many slow windows in a row stop the write-behind.
    limit: u32,
}

impl Default for DiskPace {
    fn default() -> Self {
        Self {
            slow_in_a_row: 0,
            limit: SLOW_WINDOWS,
        }
    }
}

impl DiskPace {
    /// Records a window, written into the cache in `writing` and handed to the disk in
    /// `advising`; false once [`SLOW_WINDOWS`] windows in a row have been slow.
    pub fn keeps_up(&mut self, writing: Duration, advising: Duration) -> bool {
        self.slow_in_a_row = if advising > writing {
            self.slow_in_a_row + 1
        } else {
            0
        };
        self.slow_in_a_row < self.limit
    }
}

/// Where the next write to `file` goes: its end if it was opened to append (`>>`), else its
/// offset.
#[cfg(target_os = "linux")]
fn start_of_writes(file: &File) -> io::Result<u64> {
    use rustix::fs::{OFlags, SeekFrom, fcntl_getfl, seek};
    if fcntl_getfl(file)?.contains(OFlags::APPEND) {
        Ok(file.metadata()?.len())
    } else {
        Ok(seek(file, SeekFrom::Current(0))?)
    }
}

#[cfg(not(target_os = "linux"))]
fn start_of_writes(_: &File) -> io::Result<u64> {
    Ok(0)
}

/// Tells the kernel that bytes `from..to` of `file` are not needed again: it starts writing
/// the dirty ones and drops the clean ones.
#[cfg(target_os = "linux")]
fn advise_dont_need(file: &File, from: u64, to: u64) -> io::Result<()> {
    use rustix::fs::{Advice, fadvise};
    match std::num::NonZeroU64::new(to.saturating_sub(from)) {
        Some(len) => Ok(fadvise(file, from, Some(len), Advice::DontNeed)?),
        None => Ok(()),
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_dont_need(_: &File, _: u64, _: u64) -> io::Result<()> {
    Err(io::ErrorKind::Unsupported.into())
}

impl Write for WriteBehindFile {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let n = self.file.write(bytes)?;
        self.written += n as u64;
        if self.behind && self.written - self.handed >= self.window {
            self.hand_off();
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::temp_dir;

    #[test]
    fn the_file_holds_every_byte_written_in_every_way_of_cutting_it() {
        let dir = temp_dir("write-behind");
        let window = 64 << 10;
        // Ten windows and a bit, so that windows are handed off and dropped many times over.
        let bytes: Vec<u8> = (0..10 * window as usize + 4_567)
            .map(|i| (i * 31 + i / 4093) as u8)
            .collect();
        for piece in [1_000, 65_537, 300_001] {
            let path = dir.join(format!("out-{piece}"));
            let file = File::create(&path).expect("creating");
            let mut writer = WriteBehindFile::with_window(file, window).expect("wrapping");
            // However slow the test's disk, every window is handed off and dropped.
            writer.pace.limit = u32::MAX;
            for chunk in bytes.chunks(piece) {
                writer.write_all(chunk).expect("writing");
            }
            writer.flush().expect("flushing");
            if cfg!(target_os = "linux") {
                assert!(writer.is_behind(), "the kernel took every advice");
                // Ten whole windows written: all but the last four are out of the cache.
                assert_eq!(writer.dropped, 6 * window, "pieces of {piece}");
            }
            drop(writer);
            let read = std::fs::read(&path).expect("reading back");
            assert_eq!(read.len(), bytes.len(), "pieces of {piece}");
            assert!(read == bytes, "pieces of {piece}: bytes differ");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_device_is_written_as_it_is() {
        let null = File::options()
            .write(true)
            .open("/dev/null")
            .expect("opening /dev/null");
        let mut writer = WriteBehindFile::with_window(null, 4096).expect("wrapping");
        assert!(!writer.is_behind());
        writer.write_all(&[0; 10_000]).expect("writing");
        assert!(!writer.is_behind());
    }

    #[test]
    fn writing_behind_a_file_begins_where_its_writes_go() {
        let dir = temp_dir("write-behind-start");
        let path = dir.join("out");
        std::fs::write(&path, [7; 1000]).expect("writing what comes before");
        let appending = File::options()
            .append(true)
            .open(&path)
            .expect("opening to append");
        let mut writer = WriteBehindFile::with_window(appending, 4096).expect("wrapping");
        writer.write_all(&[9; 10_000]).expect("appending");
        let mut at_offset = File::options().write(true).open(&path).expect("opening");
        std::io::Seek::seek(&mut at_offset, std::io::SeekFrom::Start(500)).expect("seeking");
        let overwriting = WriteBehindFile::with_window(at_offset, 4096).expect("wrapping");
        if cfg!(target_os = "linux") {
            assert_eq!(writer.start, 1000, "an appending file's end");
            assert_eq!(overwriting.start, 500, "the file's offset");
        }
        drop((writer, overwriting));
        let read = std::fs::read(&path).expect("reading back");
        assert!(read[..1000] == [7; 1000] && read[1000..] == [9; 10_000]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_regular_file_is_written_behind() {
        let dir = temp_dir("write-behind-file");
        let file = File::create(dir.join("out")).expect("creating");
        let writer = WriteBehindFile::new(file).expect("wrapping");
        assert!(writer.is_behind());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_disk_slower_than_the_writer_twice_in_a_row_stops_the_write_behind() {
        let ms = Duration::from_millis;
        let mut pace = DiskPace::default();
        assert!(pace.keeps_up(ms(40), ms(2)));
        assert!(
            pace.keeps_up(ms(40), ms(40)),
            "as long as writing is no slow window"
        );
        assert!(
            pace.keeps_up(ms(40), ms(41)),
            "one slow window may be a moment's stall"
        );
        assert!(
            pace.keeps_up(ms(40), ms(1)),
            "a window that keeps up starts the count again"
        );
        assert!(pace.keeps_up(ms(40), ms(90)));
        assert!(!pace.keeps_up(ms(40), ms(90)), "two slow windows in a row");
    }
}
