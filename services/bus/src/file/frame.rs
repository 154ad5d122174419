//! The bytes of a segment: frames, each holding the records of one append.
//!
//! A frame is a 32-byte header followed by its body:
//!
//! | bytes | what |
//! | --- | --- |
//! | 0..4 | magic, `PBF1` |
//! | 4..8 | CRC-32 (IEEE) of bytes 8.. of the header and of the whole body |
//! | 8..12 | body length (u32) |
//! | 12..16 | records in the frame (u32) |
//! | 16..24 | the first record's offset (i64) |
//! | 24..32 | when the records were appended, ms since the Unix epoch (i64) |
//!
//! The body is each record in turn: its key's, value's and headers' lengths (u32 each), then
//! the key, the value and the headers ([`write_headers`]). Integers are little-endian.
//! Offsets in a frame are consecutive.

use crate::{BusRecord, Delivery, Header};
use bytes::{Bytes, BytesMut};

/// Bytes of a frame's header.
pub(super) const HEADER_BYTES: usize = 32;

/// The first bytes of every frame.
const MAGIC: [u8; 4] = *b"PBF1";

/// Bytes of body one frame holds at most, unless a single record is larger (it then has a
/// frame of its own): a reader of one record reads no more than this around it.
pub(super) const FRAME_BODY_BYTES: usize = 4 << 20;

/// Bytes before each record in a frame's body: its three lengths.
const RECORD_PREFIX: usize = 12;

/// A frame's header, as read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FrameHeader {
    pub crc: u32,
    pub body_len: u32,
    pub count: u32,
    pub first_offset: i64,
    pub timestamp_ms: i64,
}

impl FrameHeader {
    /// The header in `bytes`, or `None` when they do not begin with a frame's magic.
    pub fn parse(bytes: &[u8; HEADER_BYTES]) -> Option<Self> {
        let u32_at = |at: usize| {
            u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        let i64_at = |at: usize| {
            let mut word = [0; 8];
            word.copy_from_slice(&bytes[at..at + 8]);
            i64::from_le_bytes(word)
        };
        (bytes[..4] == MAGIC).then(|| Self {
            crc: u32_at(4),
            body_len: u32_at(8),
            count: u32_at(12),
            first_offset: i64_at(16),
            timestamp_ms: i64_at(24),
        })
    }

    /// Bytes of the whole frame, header included.
    pub fn frame_len(&self) -> u64 {
        HEADER_BYTES as u64 + u64::from(self.body_len)
    }

    /// The offset after the frame's last record.
    pub fn end_offset(&self) -> i64 {
        self.first_offset + i64::from(self.count)
    }

    /// Whether `body` is this frame's body, byte for byte as written.
    pub fn checks(&self, body: &[u8]) -> bool {
        body.len() == self.body_len as usize && crc(&self.checked_header_bytes(), body) == self.crc
    }

    /// Header bytes 8..32, which the CRC covers.
    fn checked_header_bytes(&self) -> [u8; HEADER_BYTES - 8] {
        let mut out = [0; HEADER_BYTES - 8];
        out[..4].copy_from_slice(&self.body_len.to_le_bytes());
        out[4..8].copy_from_slice(&self.count.to_le_bytes());
        out[8..16].copy_from_slice(&self.first_offset.to_le_bytes());
        out[16..].copy_from_slice(&self.timestamp_ms.to_le_bytes());
        out
    }
}

fn crc(header: &[u8], body: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(header);
    hasher.update(body);
    hasher.finalize()
}

/// A record a frame cannot hold: one of its parts is 4 GiB or more.
#[derive(Debug)]
pub(super) struct RecordTooLarge {
    pub bytes: usize,
}

/// Appends to `out` one frame holding the records at the front of `records` (as many as fit
/// in [`FRAME_BODY_BYTES`], one at least), the first at `first_offset`, all stamped
/// `timestamp_ms`; returns its header and how many records it took.
pub(super) fn encode_frame(
    records: &[BusRecord],
    first_offset: i64,
    timestamp_ms: i64,
    out: &mut Vec<u8>,
) -> Result<(FrameHeader, usize), RecordTooLarge> {
    let start = out.len();
    let mut body_len = 0usize;
    let count = records
        .iter()
        .enumerate()
        .take_while(|&(i, record)| {
            let len = record_len(record);
            let fits = i == 0 || body_len + len <= FRAME_BODY_BYTES;
            if fits {
                body_len += len;
            }
            fits
        })
        .count();
    out.reserve(HEADER_BYTES + body_len);
    out.extend_from_slice(&[0; HEADER_BYTES]);
    for record in &records[..count] {
        // Each part's length fits a u32 when the three do: the headers are written straight
        // into the frame, with no blob of their own for each record.
        for part in [
            record.key.len(),
            record.value.len(),
            headers_len(&record.headers),
        ] {
            let len = u32::try_from(part).map_err(|_| RecordTooLarge { bytes: part })?;
            out.extend_from_slice(&len.to_le_bytes());
        }
        out.extend_from_slice(&record.key);
        out.extend_from_slice(&record.value);
        write_headers(&record.headers, out);
    }
    let body_len = out.len() - start - HEADER_BYTES;
    let header = FrameHeader {
        crc: 0,
        body_len: u32::try_from(body_len).map_err(|_| RecordTooLarge { bytes: body_len })?,
        count: count as u32,
        first_offset,
        timestamp_ms,
    };
    let checked = header.checked_header_bytes();
    let header = FrameHeader {
        crc: crc(&checked, &out[start + HEADER_BYTES..]),
        ..header
    };
    out[start..start + 4].copy_from_slice(&MAGIC);
    out[start + 4..start + 8].copy_from_slice(&header.crc.to_le_bytes());
    out[start + 8..start + HEADER_BYTES].copy_from_slice(&checked);
    Ok((header, count))
}

/// Appends to `out` the frames that hold all of `records` ([`encode_frame`] after
/// [`encode_frame`]); returns each frame's header with its position in `out`.
#[cfg(test)]
fn encode_frames(
    records: &[BusRecord],
    first_offset: i64,
    timestamp_ms: i64,
    out: &mut Vec<u8>,
) -> Result<Vec<(usize, FrameHeader)>, RecordTooLarge> {
    let mut frames = Vec::new();
    let mut rest = records;
    let mut offset = first_offset;
    while !rest.is_empty() {
        let at = out.len();
        let (header, count) = encode_frame(rest, offset, timestamp_ms, out)?;
        frames.push((at, header));
        offset += count as i64;
        rest = &rest[count..];
    }
    Ok(frames)
}

/// Bytes `record` takes in a frame's body.
fn record_len(record: &BusRecord) -> usize {
    RECORD_PREFIX + record.key.len() + record.value.len() + headers_len(&record.headers)
}

/// Bytes [`write_headers`] writes for `headers`.
fn headers_len(headers: &[Header]) -> usize {
    headers.iter().map(|(n, v)| 8 + n.len() + v.len()).sum()
}

/// The records of a frame whose body checked ([`FrameHeader::checks`]), as deliveries of
/// `topic`; their keys and values share `body`'s memory. `None` when the body does not hold
/// `header.count` records.
pub(super) fn decode_records(
    topic: &str,
    header: &FrameHeader,
    body: Bytes,
) -> Option<Vec<Delivery>> {
    let mut deliveries = Vec::with_capacity(header.count as usize);
    let mut at = 0usize;
    for i in 0..i64::from(header.count) {
        let lens = body.get(at..at + RECORD_PREFIX)?;
        let len = |k: usize| {
            u32::from_le_bytes([lens[k], lens[k + 1], lens[k + 2], lens[k + 3]]) as usize
        };
        let (key_len, value_len, headers_len) = (len(0), len(4), len(8));
        let key_at = at + RECORD_PREFIX;
        let value_at = key_at.checked_add(key_len)?;
        let headers_at = value_at.checked_add(value_len)?;
        let end = headers_at.checked_add(headers_len)?;
        let headers = body.get(headers_at..end)?;
        deliveries.push(Delivery {
            topic: topic.to_owned(),
            partition: 0,
            offset: header.first_offset + i,
            timestamp_ms: header.timestamp_ms,
            record: BusRecord {
                key: body.slice(key_at..value_at),
                value: body.slice(value_at..headers_at),
                headers: decode_headers(headers).unwrap_or_else(unreadable_headers),
            },
        });
        at = end;
    }
    (at == body.len()).then_some(deliveries)
}

/// A buffer for one frame's body, read from a file.
pub(super) fn body_buffer(len: u32) -> BytesMut {
    BytesMut::zeroed(len as usize)
}

/// Appends record headers to `out` as one blob: per header, its name's length (u32,
/// big-endian), the name, its value's length and the value. (A part of 4 GiB or more is
/// refused before: see [`encode_frame`].)
fn write_headers(headers: &[Header], out: &mut Vec<u8>) {
    for (name, value) in headers {
        for part in [name.as_bytes(), value.as_ref()] {
            out.extend_from_slice(&u32::try_from(part.len()).unwrap_or(u32::MAX).to_be_bytes());
            out.extend_from_slice(part);
        }
    }
}

/// `headers` as the blob [`write_headers`] writes (the SQLite bus stored them so too).
#[cfg(test)]
pub(super) fn encode_headers(headers: &[Header]) -> Vec<u8> {
    let mut out = Vec::with_capacity(headers_len(headers));
    write_headers(headers, &mut out);
    out
}

/// What a record whose stored headers are unreadable is delivered with instead: the reason,
/// under [`crate::headers::READ_ERROR`].
pub(super) fn unreadable_headers() -> Vec<Header> {
    vec![(
        crate::headers::READ_ERROR.into(),
        Bytes::from_static(b"its headers in the bus file are unreadable"),
    )]
}

/// What comes in place of a record at `offset` of `topic` whose frame fails its checksum: no
/// key, no value, and the reason under [`crate::headers::READ_ERROR`], so that a consumer
/// dead-letters it where the offsets say, rather than lose it without a trace.
pub(super) fn damaged_record(topic: &str, offset: i64) -> Delivery {
    Delivery {
        topic: topic.to_owned(),
        partition: 0,
        offset,
        timestamp_ms: 0,
        record: BusRecord {
            key: Bytes::new(),
            value: Bytes::new(),
            headers: vec![(
                crate::headers::READ_ERROR.into(),
                Bytes::from_static(DAMAGED.as_bytes()),
            )],
        },
    }
}

/// Why a record comes as [`damaged_record`].
pub(super) const DAMAGED: &str = "its bytes in the bus's log are damaged (they fail their \
     checksum, or the header of their frame no longer reads); the record is lost";

/// The headers [`write_headers`] wrote, or `None` when the blob is not such a list.
pub(super) fn decode_headers<'a>(mut blob: &'a [u8]) -> Option<Vec<Header>> {
    let take = |blob: &mut &'a [u8]| -> Option<&'a [u8]> {
        let (len, rest) = blob.split_first_chunk::<4>()?;
        let len = usize::try_from(u32::from_be_bytes(*len)).ok()?;
        let (part, rest) = (rest.get(..len)?, rest.get(len..)?);
        *blob = rest;
        Some(part)
    };
    let mut headers = Vec::new();
    while !blob.is_empty() {
        let name = std::str::from_utf8(take(&mut blob)?).ok()?;
        let value = Bytes::copy_from_slice(take(&mut blob)?);
        headers.push((crate::headers::name(name), value));
    }
    Some(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(n: usize, value_len: usize) -> BusRecord {
        BusRecord {
            key: Bytes::from(n.to_string()),
            value: Bytes::from(vec![n as u8; value_len]),
            headers: vec![("h".into(), Bytes::from_static(b"v"))],
        }
    }

    /// The records of every frame in `bytes`, checked.
    fn decode_all(bytes: &[u8]) -> Vec<Delivery> {
        let mut out = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            let header = FrameHeader::parse(bytes[at..at + HEADER_BYTES].try_into().unwrap())
                .expect("a frame's magic");
            let body = &bytes[at + HEADER_BYTES..at + header.frame_len() as usize];
            assert!(header.checks(body));
            out.extend(decode_records("t", &header, Bytes::copy_from_slice(body)).unwrap());
            at += header.frame_len() as usize;
        }
        out
    }

    #[test]
    fn records_round_trip_and_a_large_append_is_cut_into_frames() {
        let records: Vec<_> = (0..10).map(|n| record(n, 1 << 20)).collect();
        let mut bytes = Vec::new();
        let frames = encode_frames(&records, 7, 99, &mut bytes).unwrap();
        let counts: Vec<u32> = frames.iter().map(|(_, h)| h.count).collect();
        assert_eq!(counts, vec![3, 3, 3, 1], "1 MiB records, 4 MiB frames");
        assert_eq!(frames[1].1.first_offset, frames[0].1.end_offset());
        let read = decode_all(&bytes);
        assert_eq!(read.len(), 10);
        for (n, delivery) in read.iter().enumerate() {
            assert_eq!(delivery.offset, 7 + n as i64);
            assert_eq!(delivery.timestamp_ms, 99);
            assert_eq!(delivery.record, records[n]);
        }
    }

    #[test]
    fn a_record_larger_than_a_frame_has_one_of_its_own() {
        let records = vec![
            record(0, 10),
            record(1, FRAME_BODY_BYTES + 1),
            record(2, 10),
        ];
        let mut bytes = Vec::new();
        let frames = encode_frames(&records, 0, 0, &mut bytes).unwrap();
        let counts: Vec<u32> = frames.iter().map(|(_, h)| h.count).collect();
        assert_eq!(counts, vec![1, 1, 1]);
        assert_eq!(decode_all(&bytes).len(), 3);
    }

    #[test]
    fn one_changed_byte_fails_the_check() {
        let mut bytes = Vec::new();
        encode_frames(&[record(1, 100)], 0, 0, &mut bytes).unwrap();
        let header = FrameHeader::parse(bytes[..HEADER_BYTES].try_into().unwrap()).unwrap();
        for at in HEADER_BYTES..bytes.len() {
            let mut body = bytes[HEADER_BYTES..].to_vec();
            body[at - HEADER_BYTES] ^= 1;
            assert!(!header.checks(&body), "byte {at}");
        }
        let mut other = header;
        other.first_offset += 1;
        assert!(
            !other.checks(&bytes[HEADER_BYTES..]),
            "the header is checked too"
        );
    }

    #[test]
    fn a_body_that_does_not_hold_its_records_is_refused() {
        let mut bytes = Vec::new();
        encode_frames(&[record(1, 100)], 0, 0, &mut bytes).unwrap();
        let mut header = FrameHeader::parse(bytes[..HEADER_BYTES].try_into().unwrap()).unwrap();
        header.count = 2;
        let body = Bytes::copy_from_slice(&bytes[HEADER_BYTES..]);
        assert!(decode_records("t", &header, body.clone()).is_none());
        header.count = 0;
        assert!(decode_records("t", &header, body).is_none());
        assert!(FrameHeader::parse(&[0; HEADER_BYTES]).is_none());
    }

    #[test]
    fn headers_round_trip_and_garbage_is_refused() {
        let headers = record(1, 1).headers;
        assert_eq!(decode_headers(&encode_headers(&headers)), Some(headers));
        assert_eq!(decode_headers(&[]), Some(vec![]));
        assert_eq!(decode_headers(&[0, 0, 0, 9, b'x']), None);
    }
}
