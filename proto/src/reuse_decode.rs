//! [`decode_into`]: a message decoded into one used before, its text going into the room the
//! last message's text left instead of new allocations.
//!
//! Decoding a payment afresh allocates each of its forty-odd strings, and they are freed once
//! it has been checked: ingest does that for every payment it takes. Here the message is
//! cleared keeping its strings' room and its nested messages ([`ReuseDecode::reset_keeping_room`]),
//! the bytes are merged into it as prost merges, and then each nested message the bytes did
//! not carry is dropped again ([`ReuseDecode::drop_absent`], from a walk over the bytes' fields),
//! so the result is exactly what `Message::decode` makes, presence included.
//!
//! The impls are written by `proto/build.rs` from prost's output (`build/reuse_decode.rs`), so
//! a field added to a contract is cleared and checked without anyone remembering to.

use crate::Timestamp;
use prost::Message;

/// A message that can be decoded into after use: see [`decode_into`].
pub trait ReuseDecode: Message + Default {
    /// Sets every field to its default, but keeps the room of its text and lists, and keeps
    /// each nested message (itself cleared so) present.
    fn reset_keeping_room(&mut self);

    /// After `bytes` were merged into a message cleared by [`Self::reset_keeping_room`]: sets
    /// to `None` each nested message `bytes` does not carry, at every depth. Errs on bytes the
    /// walk does not take (groups), which leaves the message to be decoded afresh.
    fn drop_absent(&mut self, bytes: &[u8]) -> Result<(), WireError>;
}

/// Decodes `bytes` into `out`: afterwards `out` equals `M::decode(bytes)`, whatever it held
/// before. On an error (the same error `M::decode` returns) `out` holds a default message.
pub fn decode_into<M: ReuseDecode>(bytes: &[u8], out: &mut M) -> Result<(), prost::DecodeError> {
    out.reset_keeping_room();
    if let Err(error) = out.merge(bytes) {
        *out = M::default();
        return Err(error);
    }
    if out.drop_absent(bytes).is_err() {
        *out = M::decode(bytes)?;
    }
    Ok(())
}

/// Bytes the field walk does not take: a group, or a field cut short (which prost refuses
/// before the walk sees it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireError;

/// Where a nested message's field occurs in a message's bytes. Protobuf merges a field that
/// occurs more than once, and the concatenation of its occurrences is the encoding of that
/// merge, so their fields are looked for in the concatenation.
#[derive(Debug, Default)]
pub enum Occurrences<'a> {
    /// Not at all.
    #[default]
    Absent,
    /// Once, with these bytes.
    Once(&'a [u8]),
    /// More than once: every occurrence's bytes, in order.
    Several(Vec<u8>),
}

impl<'a> Occurrences<'a> {
    /// Records one more occurrence, of `value`.
    pub fn add(&mut self, value: &'a [u8]) {
        *self = match std::mem::take(self) {
            Self::Absent => Self::Once(value),
            Self::Once(first) => Self::Several([first, value].concat()),
            Self::Several(mut all) => {
                all.extend_from_slice(value);
                Self::Several(all)
            }
        };
    }
}

/// Drops `field` when `seen` says the bytes did not carry it, and otherwise drops what they did
/// not carry within it.
pub fn keep_if_seen<M: ReuseDecode>(
    field: &mut Option<M>,
    seen: &Occurrences<'_>,
) -> Result<(), WireError> {
    match (seen, field.as_mut()) {
        (Occurrences::Absent, _) => {
            *field = None;
            Ok(())
        }
        (Occurrences::Once(bytes), Some(nested)) => nested.drop_absent(bytes),
        (Occurrences::Several(bytes), Some(nested)) => nested.drop_absent(bytes),
        // prost made it afresh: it holds nothing from before.
        (_, None) => Ok(()),
    }
}

/// Calls `visit` with the number and the bytes of each length-delimited field of the message
/// `bytes`, in order; skips the other fields.
pub fn for_each_length_delimited<'a>(
    mut bytes: &'a [u8],
    mut visit: impl FnMut(u32, &'a [u8]),
) -> Result<(), WireError> {
    while !bytes.is_empty() {
        let key = varint(&mut bytes)?;
        let number = u32::try_from(key >> 3).map_err(|_| WireError)?;
        match key & 7 {
            0 => {
                varint(&mut bytes)?;
            }
            1 => bytes = bytes.get(8..).ok_or(WireError)?,
            2 => {
                let len = usize::try_from(varint(&mut bytes)?).map_err(|_| WireError)?;
                let value = bytes.get(..len).ok_or(WireError)?;
                visit(number, value);
                bytes = &bytes[len..];
            }
            5 => bytes = bytes.get(4..).ok_or(WireError)?,
            _ => return Err(WireError),
        }
    }
    Ok(())
}

/// Reads a varint off the front of `bytes`.
fn varint(bytes: &mut &[u8]) -> Result<u64, WireError> {
    let mut value = 0u64;
    for (i, &byte) in bytes.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            *bytes = &bytes[i + 1..];
            return Ok(value);
        }
    }
    Err(WireError)
}

/// A timestamp holds no room to keep.
impl ReuseDecode for Timestamp {
    fn reset_keeping_room(&mut self) {
        *self = Self::default();
    }

    fn drop_absent(&mut self, _bytes: &[u8]) -> Result<(), WireError> {
        Ok(())
    }
}

#[cfg(test)]
#[path = "reuse_decode_tests.rs"]
mod tests;
