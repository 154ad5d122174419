//! A topic's log is a run of segment files, each named after its first offset
//! (`00000000000000000000.log`) and holding whole frames ([`super::frame`]) of consecutive
//! offsets. The last segment is appended to; the others are only read, and deleted whole once
//! every group has read past them.

use super::frame::{self, FrameHeader, HEADER_BYTES};
use crate::{BusRecord, Delivery};
use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Bytes after which the segment being appended to is closed and a new one begun.
pub(super) const SEGMENT_BYTES: u64 = 32 << 20;

/// Bytes of log between two entries of a segment's index: a read from an offset starts at
/// most this far before its frame.
const INDEX_EVERY_BYTES: u64 = 256 << 10;

/// The file name of the segment whose first offset is `base`.
pub(super) fn segment_file_name(base: i64) -> String {
    format!("{base:020}.log")
}

/// The first offset a segment file name ([`segment_file_name`]) says, or `None` when the name
/// is not a segment's.
pub(super) fn parse_segment_file_name(name: &str) -> Option<i64> {
    let digits = name.strip_suffix(".log")?;
    (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// One segment as readers see it: its whole frames, up to `len` bytes.
#[derive(Debug)]
pub(super) struct Segment {
    /// The offset of its first record.
    pub base: i64,
    pub path: PathBuf,
    /// A handle for reading (positioned reads, shared by every reader).
    pub file: Arc<File>,
    /// Bytes of whole frames: what a reader may read.
    pub len: u64,
    /// The offset after its last record.
    pub end: i64,
    /// The offset up to which the records after `end` were lost to damage found when it was
    /// opened (the next segment's first offset), or at most `end` when none were: a reader
    /// gets each of them as a record saying so ([`frame::damaged_record`]).
    lost_to: i64,
    /// (first offset, position) of some of its frames, one at least every
    /// [`INDEX_EVERY_BYTES`], the first frame's always.
    index: Vec<(i64, u64)>,
}

/// What is wrong in a segment file: where its whole frames end, and why.
#[derive(Debug)]
pub(super) struct Damage {
    /// Bytes of the file past its last whole frame.
    pub bytes_after: u64,
    pub reason: String,
}

impl Segment {
    /// Opens the segment file at `path`, whose first offset is `base`, and finds its frames
    /// by their headers. `check_bodies` also reads every frame's body and checks it (for the
    /// segment last appended to, where a crash may have left a frame torn). The segment ends
    /// at the first frame that is not whole and in sequence, or that would end past `end_at_most`
    /// (the next segment's first offset); [`Damage`] says what follows it.
    pub fn open(
        path: &Path,
        base: i64,
        check_bodies: bool,
        end_at_most: Option<i64>,
    ) -> io::Result<(Self, Option<Damage>)> {
        let file = File::open(path)?;
        let file_len = file.metadata()?.len();
        let mut segment = Self {
            base,
            path: path.to_owned(),
            file: Arc::new(file),
            len: 0,
            end: base,
            lost_to: base,
            index: Vec::new(),
        };
        let mut header = [0; HEADER_BYTES];
        let damage = loop {
            let at = segment.len;
            if at == file_len {
                break None;
            }
            let problem = if file_len - at < HEADER_BYTES as u64 {
                Some("a frame's header is cut short".to_owned())
            } else {
                segment.file.read_exact_at(&mut header, at)?;
                match FrameHeader::parse(&header) {
                    None => Some("no frame begins there".to_owned()),
                    Some(h) if h.first_offset != segment.end => Some(format!(
                        "the frame there begins at offset {}, not {}",
                        h.first_offset, segment.end
                    )),
                    Some(h) if at + h.frame_len() > file_len => {
                        Some("the frame there is cut short".to_owned())
                    }
                    Some(h) if h.count == 0 || end_at_most.is_some_and(|e| h.end_offset() > e) => {
                        Some(format!(
                            "the frame there claims {} records, past the next segment",
                            h.count
                        ))
                    }
                    Some(h)
                        if check_bodies
                            && !segment.body_checks(&h, at)?
                            && !segment.frame_follows(&h, at, file_len)? =>
                    {
                        Some(
                            "the frame there fails its checksum, and no frame follows it"
                                .to_owned(),
                        )
                    }
                    Some(h) => {
                        segment.appended(at, &h);
                        None
                    }
                }
            };
            if let Some(problem) = problem {
                break Some(Damage {
                    bytes_after: file_len - at,
                    reason: format!("at byte {at}: {problem}"),
                });
            }
        };
        // Before another segment, what follows the damage held records up to that one's
        // first; at the log's end it is an append that never finished, cut off.
        if let (Some(_), Some(next)) = (&damage, end_at_most) {
            segment.lost_to = next;
        }
        Ok((segment, damage))
    }

    fn body_checks(&self, header: &FrameHeader, at: u64) -> io::Result<bool> {
        let mut body = vec![0; header.body_len as usize];
        self.file
            .read_exact_at(&mut body, at + HEADER_BYTES as u64)?;
        Ok(header.checks(&body))
    }

    /// Whether the frame after the one `header` heads at byte `at` begins whole and in
    /// sequence: then a frame that fails its checksum is damage to keep (its records come
    /// saying so), not the torn end of a crash to cut off with everything after it.
    fn frame_follows(&self, header: &FrameHeader, at: u64, file_len: u64) -> io::Result<bool> {
        let next = at + header.frame_len();
        if next + HEADER_BYTES as u64 > file_len {
            return Ok(false);
        }
        let mut bytes = [0; HEADER_BYTES];
        self.file.read_exact_at(&mut bytes, next)?;
        Ok(FrameHeader::parse(&bytes).is_some_and(|h| {
            h.first_offset == header.end_offset() && next + h.frame_len() <= file_len
        }))
    }

    /// Takes in the frame `header` written at byte `at` (the segment's end).
    fn appended(&mut self, at: u64, header: &FrameHeader) {
        let indexed_up_to = self.index.last().map(|&(_, pos)| pos);
        if indexed_up_to.is_none_or(|pos| at - pos >= INDEX_EVERY_BYTES) {
            self.index.push((header.first_offset, at));
        }
        self.len = at + header.frame_len();
        self.end = header.end_offset();
    }

    /// The offset after the last record a reader gets from this segment, those lost to
    /// damage included.
    pub fn read_end(&self) -> i64 {
        self.lost_to.max(self.end)
    }

    /// What a reader of this segment from `offset` on needs, taken out of the topic's lock:
    /// it starts at the indexed frame at or before `offset`.
    pub fn read_from(&self, offset: i64) -> SegmentRead {
        let after = self.index.partition_point(|&(first, _)| first <= offset);
        let (first, position) = after
            .checked_sub(1)
            .map_or((self.base, 0), |i| self.index[i]);
        SegmentRead {
            file: self.file.clone(),
            path: self.path.clone(),
            position,
            first,
            resume_at: self.index[after..].to_vec(),
            len: self.len,
            end: self.end,
            lost_to: self.read_end(),
        }
    }
}

/// A part of a segment to read: from `position` up to `len`.
pub(super) struct SegmentRead {
    file: Arc<File>,
    path: PathBuf,
    position: u64,
    /// The offset of the frame at `position`.
    first: i64,
    /// (first offset, position) of the indexed frames after `position`: where a read picks
    /// up again past a frame header damaged since the segment was opened.
    resume_at: Vec<(i64, u64)>,
    len: u64,
    /// The offset after the part's last record.
    end: i64,
    /// The offset after the last record lost to damage found when the segment was opened,
    /// or `end`.
    lost_to: i64,
}

/// Records read from segments.
#[derive(Debug, Default)]
pub(super) struct Read {
    pub deliveries: Vec<Delivery>,
    /// The offset the read reached: a later read starts here (past frames it skipped).
    pub reached: i64,
}

/// Reads the records of `topic` from offset `from` on, from `parts` in order, frame by frame
/// until at least `limit` (the last frame's records all come, which may be more). Each record
/// of a frame that fails its checksum comes as [`frame::damaged_record`], with an error
/// logged naming the offsets: a consumer dead-letters it, and the records after it still come.
pub(super) fn read(
    topic: &str,
    parts: &[SegmentRead],
    from: i64,
    limit: usize,
) -> io::Result<Read> {
    let mut read = Read {
        deliveries: Vec::new(),
        reached: from,
    };
    let mut header = [0; HEADER_BYTES];
    for part in parts {
        let mut at = part.position;
        // The offset of the frame at `at`.
        let mut next = part.first;
        while at + HEADER_BYTES as u64 <= part.len && read.deliveries.len() < limit {
            part.file.read_exact_at(&mut header, at)?;
            let whole = |h: &FrameHeader| {
                h.first_offset == next && h.count > 0 && at + h.frame_len() <= part.len
            };
            let Some(h) = FrameHeader::parse(&header).filter(whole) else {
                // Frames up to `len` were found whole and in sequence when the segment was
                // opened or written, so this header was damaged since: the read picks up at
                // the next indexed frame, and each record before it comes saying it is lost.
                let (resume_offset, resume_position) = part
                    .resume_at
                    .iter()
                    .copied()
                    .find(|&(_, position)| position > at)
                    .unwrap_or((part.end, part.len));
                tracing::error!(
                    topic,
                    file = %part.path.display(),
                    byte = at,
                    first_offset = next,
                    end_offset = resume_offset,
                    "file bus found a frame header damaged; each record up to the next readable frame comes in its place saying so"
                );
                deliver_lost(&mut read, topic, next.max(from)..resume_offset, limit);
                (next, at) = (resume_offset, resume_position);
                continue;
            };
            at += h.frame_len();
            next = h.end_offset().min(part.end);
            if h.end_offset() <= from {
                continue;
            }
            let mut body = frame::body_buffer(h.body_len);
            part.file
                .read_exact_at(&mut body, at - u64::from(h.body_len))?;
            let decoded = h
                .checks(&body)
                .then(|| frame::decode_records(topic, &h, body.freeze()))
                .flatten();
            let Some(deliveries) = decoded else {
                // Within what the segment was found to hold when opened, whatever the damaged
                // header says now.
                let end = h.end_offset().min(part.end);
                tracing::error!(
                    topic,
                    file = %part.path.display(),
                    first_offset = h.first_offset,
                    end_offset = end,
                    "file bus found records whose bytes are damaged; each comes in its place saying so"
                );
                let lost = h.first_offset.max(from)..end;
                read.deliveries
                    .extend(lost.map(|offset| frame::damaged_record(topic, offset)));
                read.reached = read.reached.max(end);
                continue;
            };
            // The whole frame from `from` on, even past `limit`: its records share one
            // buffer, and a caller keeps what it did not ask for yet rather than read the
            // frame again.
            read.deliveries
                .extend(deliveries.into_iter().filter(|d| d.offset >= from));
            read.reached = read
                .deliveries
                .last()
                .map_or(read.reached, |d| d.offset + 1)
                .max(read.reached);
        }
        if read.deliveries.len() < limit {
            // Read to its end: what damage found on opening took comes next, saying so.
            deliver_lost(&mut read, topic, part.end.max(from)..part.lost_to, limit);
        }
        if read.deliveries.len() >= limit {
            return Ok(read);
        }
    }
    // Every part read to its end, past any records the log lost between them.
    read.reached = parts
        .last()
        .map_or(read.reached, |p| p.end)
        .max(read.reached);
    Ok(read)
}

/// Delivers each offset of `lost` as a record saying it is lost ([`frame::damaged_record`]),
/// as many as `limit` deliveries in all leave room for.
fn deliver_lost(read: &mut Read, topic: &str, lost: Range<i64>, limit: usize) {
    let room = i64::try_from(limit.saturating_sub(read.deliveries.len())).unwrap_or(i64::MAX);
    let end = lost.end.min(lost.start.saturating_add(room));
    if lost.start >= end {
        return;
    }
    read.deliveries
        .extend((lost.start..end).map(|offset| frame::damaged_record(topic, offset)));
    read.reached = read.reached.max(end);
}

/// The end of the segment being appended to.
pub(super) struct SegmentWriter {
    file: File,
    /// Bytes written (whole frames).
    len: u64,
    /// The offset after the last record written.
    pub end: i64,
    /// The frames of one append, reused.
    buffer: Vec<u8>,
}

/// The frames one append wrote, for [`Segment::took`].
pub(super) struct Written {
    at: u64,
    frames: Vec<(usize, FrameHeader)>,
}

/// Why an append wrote nothing.
#[derive(Debug)]
pub(super) enum AppendError {
    TooLarge { bytes: usize },
    Io(io::Error),
}

impl SegmentWriter {
    /// Creates the segment file of first offset `base` in `dir` (emptying one left there
    /// without records of the log), returning its writer and its reader's view.
    pub fn create(dir: &Path, base: i64) -> io::Result<(Self, Segment)> {
        let path = dir.join(segment_file_name(base));
        let file = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(&path)?;
        let (segment, _) = Segment::open(&path, base, false, None)?;
        Ok((Self::at_end(file, &segment), segment))
    }

    /// Continues `segment` (whose whole frames end at `segment.len`, and whose file holds
    /// nothing past them).
    pub fn resume(segment: &Segment) -> io::Result<Self> {
        let file = OpenOptions::new().write(true).open(&segment.path)?;
        Ok(Self::at_end(file, segment))
    }

    fn at_end(file: File, segment: &Segment) -> Self {
        Self {
            file,
            len: segment.len,
            end: segment.end,
            buffer: Vec::new(),
        }
    }

    /// Bytes the segment holds.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Writes `records` as the next offsets, stamped `timestamp_ms`, a frame at a time
    /// (each [`frame::FRAME_BODY_BYTES`] at most, so the buffer stays that small). On an error
    /// nothing of them stays in the file.
    pub fn append(
        &mut self,
        records: &[BusRecord],
        timestamp_ms: i64,
    ) -> Result<Written, AppendError> {
        let mut frames = Vec::new();
        let (mut written_len, mut offset, mut rest) = (0u64, self.end, records);
        let outcome = self.file.seek(SeekFrom::Start(self.len)).map(|_| ());
        let mut outcome = outcome.map_err(AppendError::Io);
        while outcome.is_ok() && !rest.is_empty() {
            self.buffer.clear();
            outcome = frame::encode_frame(rest, offset, timestamp_ms, &mut self.buffer)
                .map_err(|e| AppendError::TooLarge { bytes: e.bytes })
                .and_then(|(header, count)| {
                    self.file.write_all(&self.buffer).map_err(AppendError::Io)?;
                    frames.push((written_len as usize, header));
                    written_len += header.frame_len();
                    offset += count as i64;
                    rest = &rest[count..];
                    Ok(())
                });
        }
        if self.buffer.capacity() > 2 * frame::FRAME_BODY_BYTES {
            self.buffer = Vec::new();
        }
        if let Err(error) = outcome {
            // Leave no part of the frames for a reader or the next open to find.
            let _ = self.file.set_len(self.len);
            return Err(error);
        }
        let at = self.len;
        self.len += written_len;
        self.end = offset;
        Ok(Written { at, frames })
    }

    /// Flushes the segment to the disk.
    pub fn sync(&self) -> io::Result<()> {
        self.file.sync_data()
    }
}

impl Segment {
    /// Takes in what [`SegmentWriter::append`] wrote to this segment: readers see it now.
    pub fn took(&mut self, written: &Written) {
        for (position, header) in &written.frames {
            self.appended(written.at + *position as u64, header);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn record(n: i64) -> BusRecord {
        BusRecord {
            key: Bytes::from(n.to_string()),
            value: Bytes::from(vec![7; 3_000]),
            headers: vec![],
        }
    }

    /// Appends `records` with `writer` and lets `segment` see them.
    fn append_to(
        writer: &mut SegmentWriter,
        segment: &mut Segment,
        records: &[BusRecord],
        timestamp_ms: i64,
    ) -> io::Result<()> {
        let written = writer
            .append(records, timestamp_ms)
            .map_err(|e| io::Error::other(format!("{e:?}")))?;
        segment.took(&written);
        Ok(())
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("payments-segment-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn offsets(read: &Read) -> Vec<i64> {
        read.deliveries.iter().map(|d| d.offset).collect()
    }

    #[test]
    fn names_round_trip_and_others_are_not_segments() {
        assert_eq!(segment_file_name(42), "00000000000000000042.log");
        assert_eq!(parse_segment_file_name(&segment_file_name(42)), Some(42));
        for name in [
            "42.log",
            "00000000000000000042.lo",
            "0000000000000000004x.log",
            "commits",
        ] {
            assert_eq!(parse_segment_file_name(name), None, "{name}");
        }
    }

    #[test]
    fn appends_read_back_from_any_offset_and_reopen_the_same() -> io::Result<()> {
        let dir = temp_dir("read");
        let (mut writer, mut segment) = SegmentWriter::create(&dir, 10)?;
        for chunk in 0..40 {
            let records: Vec<_> = (0..25).map(|n| record(chunk * 25 + n)).collect();
            append_to(&mut writer, &mut segment, &records, chunk)?;
        }
        assert_eq!(segment.end, 1_010);
        assert!(
            segment.index.len() > 5,
            "{} index entries",
            segment.index.len()
        );
        for from in [0, 10, 11, 500, 777, 1_009] {
            let read = read("t", &[segment.read_from(from)], from, 30)?;
            let first = from.max(10);
            let got = offsets(&read);
            // Whole frames of 25 records, from `first` on, until 30 came or the log ended.
            let wanted = 30.min(1_010 - first) as usize;
            assert!(
                got.len() >= wanted && got.len() < wanted + 25,
                "from {from}: {}",
                got.len()
            );
            assert_eq!(got, (first..first + got.len() as i64).collect::<Vec<_>>());
            assert_eq!(read.deliveries[0].record, record(first - 10));
        }
        let (reopened, damage) = Segment::open(&segment.path, 10, true, None)?;
        assert!(damage.is_none());
        assert_eq!((reopened.len, reopened.end), (segment.len, segment.end));
        assert_eq!(reopened.index, segment.index);
        Ok(())
    }

    #[test]
    fn a_torn_tail_is_found_and_what_precedes_it_kept() -> io::Result<()> {
        let dir = temp_dir("torn");
        let (mut writer, mut segment) = SegmentWriter::create(&dir, 0)?;
        for chunk in 0..3 {
            append_to(&mut writer, &mut segment, &[record(chunk)], 0)?;
        }
        let whole = segment.len;
        let file = OpenOptions::new().write(true).open(&segment.path)?;
        // Half a frame, as a process killed mid-write leaves it; then zeros of a full one.
        file.set_len(whole + 1_000)?;
        let (torn, damage) = Segment::open(&segment.path, 0, true, None)?;
        assert_eq!((torn.len, torn.end), (whole, 3));
        let damage = damage.expect("the torn frame");
        assert_eq!(damage.bytes_after, 1_000);
        assert!(
            damage.reason.contains("no frame begins there"),
            "{}",
            damage.reason
        );
        // A frame whose body was not all written: its checksum fails.
        let mut bytes = std::fs::read(&segment.path)?;
        bytes.truncate(whole as usize);
        let last_frame = bytes.len() - 3_000;
        bytes[last_frame] ^= 1;
        std::fs::write(&segment.path, &bytes)?;
        let (checked, damage) = Segment::open(&segment.path, 0, true, None)?;
        assert_eq!(checked.end, 2);
        assert!(damage.is_some_and(|d| d.reason.contains("checksum")));
        let (unchecked, _) = Segment::open(&segment.path, 0, false, None)?;
        assert_eq!(
            unchecked.end, 3,
            "only the last segment's bodies are checked on open"
        );
        // Read, the damaged frame's record comes saying so, and reading goes on past it.
        let read = read("t", &[unchecked.read_from(0)], 0, 10)?;
        assert_eq!(offsets(&read), vec![0, 1, 2]);
        assert_eq!(read.deliveries[1].record, record(1));
        assert!(
            read.deliveries[2]
                .record
                .header(crate::headers::READ_ERROR)
                .is_some()
        );
        assert_eq!(read.reached, 3);
        Ok(())
    }

    #[test]
    fn damage_inside_the_last_segment_is_kept_and_only_a_torn_end_cut() -> io::Result<()> {
        let dir = temp_dir("inside");
        let (mut writer, mut segment) = SegmentWriter::create(&dir, 0)?;
        for n in 0..3 {
            append_to(&mut writer, &mut segment, &[record(n)], 0)?;
        }
        let frame_len = segment.len / 3;
        let mut bytes = std::fs::read(&segment.path)?;
        // A byte of the middle frame's value.
        bytes[(frame_len + frame_len / 2) as usize] ^= 1;
        std::fs::write(&segment.path, &bytes)?;
        let (opened, damage) = Segment::open(&segment.path, 0, true, None)?;
        assert!(damage.is_none(), "{damage:?}");
        assert_eq!((opened.len, opened.end), (segment.len, 3));
        let read = read("t", &[opened.read_from(0)], 0, 10)?;
        assert_eq!(offsets(&read), vec![0, 1, 2]);
        assert!(
            read.deliveries[1]
                .record
                .header(crate::headers::READ_ERROR)
                .is_some()
        );
        assert_eq!(read.deliveries[2].record, record(2));
        Ok(())
    }

    #[test]
    fn a_resumed_segment_goes_on_where_it_ended() -> io::Result<()> {
        let dir = temp_dir("resume");
        let (mut writer, mut segment) = SegmentWriter::create(&dir, 5)?;
        append_to(&mut writer, &mut segment, &[record(0), record(1)], 0)?;
        drop(writer);
        let (mut reopened, damage) = Segment::open(&segment.path, 5, true, None)?;
        assert!(damage.is_none());
        let mut resumed = SegmentWriter::resume(&reopened)?;
        append_to(&mut resumed, &mut reopened, &[record(2)], 0)?;
        assert_eq!(std::fs::metadata(&segment.path)?.len(), resumed.len());
        let read = read("t", &[reopened.read_from(5)], 5, 10)?;
        assert_eq!(offsets(&read), vec![5, 6, 7]);
        assert_eq!(read.deliveries[2].record, record(2));
        Ok(())
    }

    #[test]
    fn a_damaged_segment_gives_the_records_written_or_ones_saying_they_are_damaged()
    -> io::Result<()> {
        let dir = temp_dir("damage");
        let (mut writer, mut segment) = SegmentWriter::create(&dir, 0)?;
        let mut records = Vec::new();
        for chunk in 0..20 {
            let appended: Vec<BusRecord> = (0..1 + chunk % 4)
                .map(|n| BusRecord {
                    key: Bytes::from(format!("{chunk}-{n}")),
                    value: Bytes::from(vec![chunk as u8; 50 + 37 * n as usize]),
                    headers: vec![("h".into(), Bytes::from(vec![n as u8; n as usize]))],
                })
                .collect();
            append_to(&mut writer, &mut segment, &appended, chunk)?;
            records.extend(appended);
        }
        let whole = std::fs::read(&segment.path)?;
        // A small generator of its own: the damage is the same on every run.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move |below: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % below as u64) as usize
        };
        for round in 0..400 {
            let mut bytes = whole.clone();
            match round % 3 {
                0 => bytes.truncate(next(whole.len())),
                1 => {
                    for _ in 0..1 + next(3) {
                        let at = next(bytes.len());
                        bytes[at] ^= 1 << next(8);
                    }
                }
                _ => {
                    let at = next(bytes.len());
                    let end = (at + 1 + next(64)).min(bytes.len());
                    for byte in &mut bytes[at..end] {
                        *byte = next(256) as u8;
                    }
                }
            }
            std::fs::write(&segment.path, &bytes)?;
            // As the last segment (bodies checked), or one before another at offset 50.
            let (damaged, _) = if round % 2 == 0 {
                Segment::open(&segment.path, 0, true, None)?
            } else {
                Segment::open(&segment.path, 0, false, Some(50))?
            };
            assert!(damaged.end <= 50, "round {round}: {}", damaged.end);
            let got = read("t", &[damaged.read_from(0)], 0, usize::MAX)?;
            // Before another segment, every offset comes once, in order, written or saying
            // it is lost; as the last, those before the end that was cut off.
            let every = if round % 2 == 0 { damaged.end } else { 50 };
            assert_eq!(
                offsets(&got),
                (0..every).collect::<Vec<_>>(),
                "round {round}"
            );
            for delivery in &got.deliveries {
                assert!(
                    delivery.offset < 50,
                    "round {round}: offset {}",
                    delivery.offset
                );
                if delivery.record.header(crate::headers::READ_ERROR).is_none() {
                    assert_eq!(
                        delivery.record, records[delivery.offset as usize],
                        "round {round}"
                    );
                }
            }
            assert!(got.reached >= got.deliveries.last().map_or(0, |d| d.offset + 1));
        }
        Ok(())
    }

    #[test]
    fn a_frame_header_damaged_after_opening_loses_only_the_records_up_to_the_next_indexed_frame()
    -> io::Result<()> {
        let dir = temp_dir("header");
        let (mut writer, mut segment) = SegmentWriter::create(&dir, 0)?;
        // Frames of 20 KiB, so that the index holds several of them.
        let big = |n: i64| BusRecord {
            key: Bytes::from(format!("{n:03}")),
            value: Bytes::from(vec![n as u8; 20 << 10]),
            headers: vec![],
        };
        for n in 0..60 {
            append_to(&mut writer, &mut segment, &[big(n)], 0)?;
        }
        let (opened, _) = Segment::open(&segment.path, 0, false, Some(60))?;
        let indexed: Vec<i64> = opened.index.iter().map(|&(first, _)| first).collect();
        assert!(indexed.len() >= 3, "{indexed:?}");
        // The magic of frame 20's header, frames 0..20 before it, the next indexed after.
        let frame_len = opened.len / 60;
        let mut bytes = std::fs::read(&segment.path)?;
        bytes[(20 * frame_len) as usize] ^= 0xff;
        std::fs::write(&segment.path, &bytes)?;
        let resumed = *indexed.iter().find(|&&first| first > 20).unwrap();

        let got = read("t", &[opened.read_from(0)], 0, usize::MAX)?;
        assert_eq!(offsets(&got), (0..60).collect::<Vec<_>>());
        for delivery in &got.deliveries {
            let lost = delivery.record.header(crate::headers::READ_ERROR).is_some();
            let offset = delivery.offset;
            assert_eq!(lost, (20..resumed).contains(&offset), "offset {offset}");
            if !lost {
                assert_eq!(delivery.record, big(offset));
            }
        }
        assert_eq!(got.reached, 60);
        // A reader at the damaged frame, and one given room for two records, go on alike.
        let at = read("t", &[opened.read_from(20)], 20, 2)?;
        assert_eq!(offsets(&at), vec![20, 21]);
        let next = read("t", &[opened.read_from(at.reached)], at.reached, usize::MAX)?;
        assert_eq!(offsets(&next), (22..60).collect::<Vec<_>>());
        Ok(())
    }
}
