//! [`DirectFileWriter`]: `generate --out FILE --direct-io` writing its gigabytes past the
//! kernel's page cache (`O_DIRECT`).
//!
//! Written through the page cache, every byte is copied into pages the kernel allocates and
//! accounts, and those pages push out whatever else the cache held. On this project's 2-core
//! machine, `dd bs=4M` of 2 GB took 1.5–1.7 s of system time through the cache and 0.2–0.5 s
//! with `oflag=direct`; a million payments of JSON lines are 2.1 GB, and the generator's
//! threads needed that core. Past the cache, though, every write waits for the disk, where the
//! cache takes the bytes at memory speed and writes them later: on a disk slower than the
//! generator that is slower, so direct I/O is asked for, not the default.
//!
//! Direct I/O takes whole, aligned blocks from aligned memory, so the writer gathers bytes in a
//! block-aligned buffer and writes whole blocks of it; the last partial block goes through the
//! cache when the file is flushed. Only a regular file is written directly: a FIFO opened with
//! `O_DIRECT` would cut the stream into packets, and a device is none of our business. A file
//! system that refuses direct I/O (tmpfs on older kernels, some network file systems) is
//! written through the cache from the start, and one that refuses a direct write midway
//! through the cache from then on: the bytes in the file are the same either way.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

/// Alignment of direct I/O's memory, file offsets and lengths: 4 KiB serves 512-byte and
/// 4 KiB sectors alike.
const BLOCK: usize = 4096;

/// Bytes gathered before they are written: 4 MiB, a few milliseconds of the disk's time.
const BUFFER_BYTES: usize = 4 << 20;

/// A new file, written in whole aligned blocks past the page cache where the file system
/// allows. Flush it at the end: that writes the last partial block. Dropping it flushes too,
/// ignoring errors, as [`std::io::BufWriter`] does.
pub struct DirectFileWriter {
    file: File,
    /// Holds the buffer: `storage[start..start + BUFFER_BYTES]`, which is block-aligned.
    storage: Vec<u8>,
    start: usize,
    /// Bytes gathered in the buffer.
    len: usize,
    /// Whether the file is open for direct I/O.
    direct: bool,
}

impl DirectFileWriter {
    /// Creates (or truncates) the file at `path`, for direct I/O when it is a regular file on
    /// a file system that takes it.
    pub fn create(path: &Path) -> io::Result<Self> {
        let file = File::create(path)?;
        let direct = file.metadata()?.file_type().is_file() && enable_direct(&file);
        let storage = vec![0; BUFFER_BYTES + BLOCK];
        let start = storage.as_ptr().align_offset(BLOCK);
        Ok(Self {
            file,
            storage,
            start,
            len: 0,
            direct,
        })
    }

    /// Whether the file is being written past the page cache.
    pub fn is_direct(&self) -> bool {
        self.direct
    }

    /// Writes the buffer's first `bytes` to the file and moves what follows them to the
    /// buffer's start. In direct mode `bytes` is a whole number of blocks, or the mode is
    /// left first.
    fn write_out(&mut self, bytes: usize) -> io::Result<()> {
        let mut done = 0;
        while done < bytes {
            let from = self.start + done;
            match self.file.write(&self.storage[from..self.start + bytes]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                // A short direct write leaves the file's end off a block boundary, where
                // only cached writes may go on.
                Ok(n) => {
                    done += n;
                    if self.direct && n % BLOCK != 0 {
                        self.leave_direct()?;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if self.direct && e.raw_os_error() == Some(EINVAL) => self.leave_direct()?,
                Err(e) => return Err(e),
            }
        }
        let (start, len) = (self.start, self.len);
        self.storage.copy_within(start + bytes..start + len, start);
        self.len -= bytes;
        Ok(())
    }

    /// Goes on through the page cache.
    fn leave_direct(&mut self) -> io::Result<()> {
        self.direct = false;
        disable_direct(&self.file)
    }
}

impl Write for DirectFileWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if self.len == BUFFER_BYTES {
            self.write_out(BUFFER_BYTES)?;
        }
        let taken = bytes.len().min(BUFFER_BYTES - self.len);
        let at = self.start + self.len;
        self.storage[at..at + taken].copy_from_slice(&bytes[..taken]);
        self.len += taken;
        Ok(taken)
    }

    /// Writes everything gathered: whole blocks directly, then the rest (less than a block)
    /// through the page cache, which the file keeps using from then on.
    fn flush(&mut self) -> io::Result<()> {
        let whole = self.len / BLOCK * BLOCK;
        if self.direct && whole > 0 {
            self.write_out(whole)?;
        }
        if self.len > 0 {
            if self.direct {
                self.leave_direct()?;
            }
            self.write_out(self.len)?;
        }
        self.file.flush()
    }
}

impl Drop for DirectFileWriter {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(target_os = "linux")]
const EINVAL: i32 = rustix::io::Errno::INVAL.raw_os_error();
#[cfg(not(target_os = "linux"))]
const EINVAL: i32 = 22;

/// Turns direct I/O on for `file`; false when its file system refuses it.
#[cfg(target_os = "linux")]
fn enable_direct(file: &File) -> bool {
    use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
    fcntl_getfl(file).is_ok_and(|flags| fcntl_setfl(file, flags | OFlags::DIRECT).is_ok())
}

#[cfg(not(target_os = "linux"))]
fn enable_direct(_: &File) -> bool {
    false
}

/// Turns direct I/O off for `file`.
#[cfg(target_os = "linux")]
fn disable_direct(file: &File) -> io::Result<()> {
    use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
    let flags = fcntl_getfl(file)?;
    Ok(fcntl_setfl(file, flags - OFlags::DIRECT)?)
}

#[cfg(not(target_os = "linux"))]
fn disable_direct(_: &File) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::temp_dir;

    /// `len` bytes that differ from block to block and within blocks.
    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 + i / 4093) as u8).collect()
    }

    #[test]
    fn every_length_and_every_way_of_cutting_it_reads_back_the_same() {
        let dir = temp_dir("direct-file");
        let lengths = [
            0,
            1,
            BLOCK - 1,
            BLOCK,
            BLOCK + 1,
            BUFFER_BYTES - 1,
            BUFFER_BYTES,
            BUFFER_BYTES + 1,
            3 * BUFFER_BYTES + 4_567,
        ];
        for (n, &len) in lengths.iter().enumerate() {
            let bytes = pattern(len);
            // Pieces of one byte, of odd sizes and of more than the buffer holds.
            for piece in [1, 1_000, 65_537, BUFFER_BYTES + 3] {
                if piece == 1 && len > BUFFER_BYTES {
                    continue;
                }
                let path = dir.join(format!("out-{n}-{piece}"));
                let mut writer = DirectFileWriter::create(&path).expect("creating");
                for chunk in bytes.chunks(piece) {
                    writer.write_all(chunk).expect("writing");
                }
                writer.flush().expect("flushing");
                drop(writer);
                let read = std::fs::read(&path).expect("reading back");
                assert_eq!(read.len(), len, "length {len} in pieces of {piece}");
                assert!(
                    read == bytes,
                    "length {len} in pieces of {piece}: bytes differ"
                );
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn what_is_written_after_a_flush_follows_it_and_a_drop_flushes() {
        let dir = temp_dir("direct-file-flush");
        let path = dir.join("out");
        let bytes = pattern(2 * BUFFER_BYTES + 10_000);
        let mut writer = DirectFileWriter::create(&path).expect("creating");
        let (first, rest) = bytes.split_at(BUFFER_BYTES + 123);
        writer.write_all(first).expect("writing");
        writer.flush().expect("flushing");
        writer.write_all(rest).expect("writing after the flush");
        drop(writer);
        assert!(std::fs::read(&path).expect("reading back") == bytes);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_regular_file_is_written_directly_where_its_file_system_allows_and_a_device_never() {
        let dir = temp_dir("direct-file-mode");
        let path = dir.join("out");
        let file = File::create(&path).expect("creating");
        let supported = enable_direct(&file);
        drop(file);
        let writer = DirectFileWriter::create(&path).expect("creating");
        assert_eq!(writer.is_direct(), supported);
        let null = DirectFileWriter::create(Path::new("/dev/null")).expect("opening /dev/null");
        assert!(!null.is_direct(), "a device is written as it is");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
