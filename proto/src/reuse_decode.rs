//! [`decode_into`]: a message decoded into one used before, its text going into the room the
//! last message's text left instead of new allocations.
//!
//! Decoding a payment afresh allocates each of its forty-odd strings, and they are freed once
//! it has been checked: ingest does that for every payment it takes, and the processor for
//! every one it reads. Here the message is cleared keeping its strings' room and its nested
//! messages ([`ReuseDecode::reset_keeping_room`]), and then filled from the bytes by code
//! written for each message ([`ReuseDecode::fill_from`]): a match on each field's key, reading
//! the slice directly, that sets to `None` each nested message the bytes did not carry. Bytes
//! it does not take (see [`Declined`]) are decoded by prost instead, so the result is always
//! exactly what `Message::decode` makes, presence and errors included.
//!
//! The impls are written by `proto/build.rs` from prost's output (`build/reuse_decode.rs`), so
//! a field added to a contract is cleared and filled without anyone remembering to.

use crate::Timestamp;
use prost::Message;

/// A message that can be decoded into after use: see [`decode_into`].
pub trait ReuseDecode: Message + Default {
    /// Sets every field to its default, but keeps the room of its text and lists, and keeps
    /// each nested message (itself cleared so) present.
    fn reset_keeping_room(&mut self);

    /// Fills a message cleared by [`Self::reset_keeping_room`] (or a default one) from
    /// `bytes`: afterwards it equals `Self::decode(bytes)`. Declines bytes it does not take,
    /// leaving the message partly filled.
    fn fill_from(&mut self, bytes: &[u8]) -> Result<(), Declined> {
        self.fill_nested(bytes, 0)
    }

    /// [`Self::fill_from`] for a message nested `depth` messages deep. Declines a message
    /// nested deeper than [`MAX_DEPTH`], so that bytes nesting a recursive message without end
    /// are left to prost, which refuses them at its own limit, rather than overflow the stack.
    fn fill_nested(&mut self, bytes: &[u8], depth: u32) -> Result<(), Declined>;
}

/// The deepest nesting [`ReuseDecode::fill_from`] takes (prost refuses past 100).
pub const MAX_DEPTH: u32 = 64;

/// Decodes `bytes` into `out`: afterwards `out` equals `M::decode(bytes)`, whatever it held
/// before. On an error (the same error `M::decode` returns) `out` holds a default message.
pub fn decode_into<M: ReuseDecode>(bytes: &[u8], out: &mut M) -> Result<(), prost::DecodeError> {
    out.reset_keeping_room();
    if out.fill_from(bytes).is_err() {
        *out = M::decode(bytes).inspect_err(|_| *out = M::default())?;
    }
    Ok(())
}

/// Decodes `bytes` into a new message: the same value or error as `M::decode(bytes)`, made by
/// [`ReuseDecode::fill_from`] when it takes the bytes.
pub fn decode<M: ReuseDecode>(bytes: &[u8]) -> Result<M, prost::DecodeError> {
    let mut message = M::default();
    if message.fill_from(bytes).is_err() {
        return M::decode(bytes);
    }
    Ok(message)
}

/// Bytes [`ReuseDecode::fill_from`] leaves to prost: any prost refuses, and some it takes but
/// our encoders never write (a field this contract does not know, a field of another wire type
/// than its own, a nested message or a oneof met twice in one message, a message nested deeper
/// than [`MAX_DEPTH`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Declined;

/// Reading fields off the front of a slice, as the generated `fill_from`s do.
pub mod wire {
    use super::{Declined, ReuseDecode};
    use std::collections::BTreeMap;

    /// A varint, as prost reads it (at most ten bytes, the tenth 0 or 1); declines one cut
    /// short or too long.
    #[inline]
    pub fn varint(bytes: &mut &[u8]) -> Result<u64, Declined> {
        if let Some((&byte, rest)) = bytes.split_first()
            && byte < 0x80
        {
            *bytes = rest;
            return Ok(u64::from(byte));
        }
        let mut value = 0u64;
        for (i, &byte) in bytes.iter().enumerate().take(10) {
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte < 0x80 {
                if i == 9 && byte > 1 {
                    break;
                }
                *bytes = &bytes[i + 1..];
                return Ok(value);
            }
        }
        Err(Declined)
    }

    /// A length-delimited field's bytes.
    #[inline]
    fn delimited<'a>(bytes: &mut &'a [u8]) -> Result<&'a [u8], Declined> {
        let len = usize::try_from(varint(bytes)?).map_err(|_| Declined)?;
        let (value, rest) = bytes.split_at_checked(len).ok_or(Declined)?;
        *bytes = rest;
        Ok(value)
    }

    /// A string field, written over `into`; declines text that is not UTF-8.
    #[inline]
    pub fn string(bytes: &mut &[u8], into: &mut String) -> Result<(), Declined> {
        let text = std::str::from_utf8(delimited(bytes)?).map_err(|_| Declined)?;
        into.clear();
        into.push_str(text);
        Ok(())
    }

    /// A 64-bit fixed-width field.
    #[inline]
    pub fn fixed64(bytes: &mut &[u8]) -> Result<u64, Declined> {
        let (value, rest) = bytes.split_first_chunk::<8>().ok_or(Declined)?;
        *bytes = rest;
        Ok(u64::from_le_bytes(*value))
    }

    /// A packed repeated `int32` or enum field, appended to `into`.
    pub fn packed_i32(bytes: &mut &[u8], into: &mut Vec<i32>) -> Result<(), Declined> {
        let mut packed = delimited(bytes)?;
        while !packed.is_empty() {
            // Truncated as prost truncates.
            #[allow(clippy::cast_possible_truncation)]
            into.push(varint(&mut packed)? as i32);
        }
        Ok(())
    }

    /// Marks bit `bit` of `present`; declines when it was marked already (a nested message
    /// or a oneof met twice, which protobuf merges).
    #[inline]
    pub fn first(present: &mut u64, bit: u32) -> Result<(), Declined> {
        if *present & (1 << bit) != 0 {
            return Err(Declined);
        }
        *present |= 1 << bit;
        Ok(())
    }

    /// A singular nested message of a message `depth` deep, filled into the one `field` holds
    /// cleared (or a new one).
    #[inline]
    pub fn nested<M: ReuseDecode>(
        bytes: &mut &[u8],
        field: &mut Option<M>,
        present: &mut u64,
        bit: u32,
        depth: u32,
    ) -> Result<(), Declined> {
        first(present, bit)?;
        let depth = deeper(depth)?;
        field
            .get_or_insert_default()
            .fill_nested(delimited(bytes)?, depth)
    }

    /// A nested message of a message `depth` deep, made afresh (an element of a list, a
    /// oneof's variant).
    #[inline]
    pub fn fresh<M: ReuseDecode>(bytes: &mut &[u8], depth: u32) -> Result<M, Declined> {
        let depth = deeper(depth)?;
        let mut message = M::default();
        message.fill_nested(delimited(bytes)?, depth)?;
        Ok(message)
    }

    /// The depth of a message nested in one `depth` deep; declines past [`MAX_DEPTH`].
    #[inline]
    fn deeper(depth: u32) -> Result<u32, Declined> {
        if depth >= super::MAX_DEPTH {
            return Err(Declined);
        }
        Ok(depth + 1)
    }

    /// An entry of a `map<string, string>`, inserted as prost inserts it (the last of a key
    /// wins).
    pub fn string_map_entry(
        bytes: &mut &[u8],
        map: &mut BTreeMap<String, String>,
    ) -> Result<(), Declined> {
        let mut entry = delimited(bytes)?;
        let (mut key, mut value) = (String::new(), String::new());
        while !entry.is_empty() {
            match varint(&mut entry)? {
                0x0a => string(&mut entry, &mut key)?,
                0x12 => string(&mut entry, &mut value)?,
                _ => return Err(Declined),
            }
        }
        map.insert(key, value);
        Ok(())
    }
}

/// A timestamp holds no room to keep.
impl ReuseDecode for Timestamp {
    fn reset_keeping_room(&mut self) {
        *self = Self::default();
    }

    // Truncated as prost truncates.
    #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
    fn fill_nested(&mut self, mut bytes: &[u8], _depth: u32) -> Result<(), Declined> {
        while !bytes.is_empty() {
            match wire::varint(&mut bytes)? {
                0x08 => self.seconds = wire::varint(&mut bytes)? as i64,
                0x10 => self.nanos = wire::varint(&mut bytes)? as i32,
                _ => return Err(Declined),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "reuse_decode_tests.rs"]
mod tests;
