//! [`write_compact_json`]: a value's compact JSON, byte for byte what
//! `serde_json::to_writer` writes, appended to a `Vec<u8>` directly.
//!
//! `serde_json` writes through `io::Write` in small pieces (each quote, key and separator is
//! a call of its own) and escapes strings a byte at a time; for a payment, with its hundred
//! keys and short strings, that was two fifths of the time `generate --format jsonl` took.
//! Here a string that needs no escape (nearly all) is checked in one pass and copied at once.
//!
//! Every method is `#[inline]`: the serializer runs inside other crates' generic code (the
//! formats, the seed's JSON), and across crates a method not marked so is a call for every
//! key and value (moved here from the formats crate without the marks, `generate --format
//! jsonl` of a million payments took 4.6–5.4 s of CPU instead of 3.9–4.3 s).

use crate::byte_scan::ByteScan;
use serde::ser::{self, Serialize};
use std::fmt;

/// Appends the compact JSON of `value` to `out`: the same bytes `serde_json::to_writer`
/// writes. On an error (a value serde cannot express as JSON, such as a map key that is
/// not text or a number) `out` may hold part of the value.
pub fn write_compact_json<T: Serialize + ?Sized>(
    value: &T,
    out: &mut Vec<u8>,
) -> Result<(), CompactJsonError> {
    value.serialize(&mut CompactJson { out })
}

/// Why a value has no JSON form.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CompactJsonError(String);

impl ser::Error for CompactJsonError {
    #[inline]
    fn custom<T: fmt::Display>(message: T) -> Self {
        Self(message.to_string())
    }
}

/// The serializer: where the JSON goes.
struct CompactJson<'a> {
    out: &'a mut Vec<u8>,
}

impl<'a> CompactJson<'a> {
    #[inline]
    fn string(&mut self, text: &str) {
        write_json_string(self.out, text);
    }

    #[inline]
    fn integer(&mut self, value: impl itoa::Integer) {
        self.out
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    }

    /// Opens `{"variant":` and then the variant's own array or object.
    #[inline]
    fn variant<'s>(
        &'s mut self,
        variant: &str,
        open: &[u8],
        close: &'static [u8],
    ) -> Compound<'s, 'a> {
        self.out.push(b'{');
        self.string(variant);
        self.out.push(b':');
        Compound::open(self, open, close)
    }

    #[inline]
    fn float<F: Serialize>(&mut self, value: F) -> Result<(), CompactJsonError> {
        // Payments hold no floats; serde_json's own formatting keeps any other value exact.
        serde_json::to_writer(&mut *self.out, &value).map_err(|e| CompactJsonError(e.to_string()))
    }
}

/// Appends `text` as a JSON string, escaped as serde_json escapes: `"`, `\` and the control
/// characters below U+0020 (`\b \t \n \f \r`, otherwise `\u00XX` in lowercase hex).
///
/// Nearly every string needs no escape, so that case is small enough to inline where a
/// string is written, and the escaping is a call of its own: with both in one function, every
/// string paid for saving the registers the escaping needs.
#[inline]
pub fn write_json_string(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    if needs_escape(bytes) {
        write_escaped(out, bytes);
        return;
    }
    if bytes.len() <= QUOTED_SHORT - 2 {
        write_short_quoted(out, bytes);
        return;
    }
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    out.extend_from_slice(bytes);
    out.push(b'"');
}

/// The room [`write_short_quoted`] quotes text in: text up to two bytes shorter (a payment's
/// keys and nearly all its values) is written that way.
const QUOTED_SHORT: usize = 32;

/// Appends `bytes` (at most [`QUOTED_SHORT`]` - 2` long) in quotes, with no length but
/// [`QUOTED_SHORT`] variable: room of that size is appended (zeros, from a register), the text
/// stored into it in stores of eight or four bytes (the last overlapping the one before) and
/// the room cut back to the quoted text. `extend_from_slice(bytes)` instead calls `memcpy`
/// for every string: in a profile of `generate --format jsonl`, a seventh of the time.
///
/// The stores go straight into `out`. Put together in an array on the stack first and then
/// appended whole, the array's 16-byte loads waited on the smaller stores just made to it (a
/// store-forwarding stall): half of this function's time in a profile.
#[inline]
fn write_short_quoted(out: &mut Vec<u8>, bytes: &[u8]) {
    let n = bytes.len();
    let at = out.len();
    out.extend_from_slice(&[0; QUOTED_SHORT]);
    let room = &mut out[at..at + QUOTED_SHORT];
    room[0] = b'"';
    let text = &mut room[1..];
    if n >= 8 {
        let mut done = 0;
        while done + 8 <= n {
            text[done..done + 8].copy_from_slice(&bytes[done..done + 8]);
            done += 8;
        }
        if done < n {
            text[n - 8..n].copy_from_slice(&bytes[n - 8..]);
        }
    } else if n >= 4 {
        text[..4].copy_from_slice(&bytes[..4]);
        text[n - 4..n].copy_from_slice(&bytes[n - 4..]);
    } else if n > 0 {
        // One to three bytes: the first, middle and last are every byte.
        text[0] = bytes[0];
        text[n / 2] = bytes[n / 2];
        text[n - 1] = bytes[n - 1];
    }
    text[n] = b'"';
    out.truncate(at + n + 2);
}

/// [`write_json_string`] for text that holds a byte to escape.
#[cold]
#[inline(never)]
fn write_escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x09 => b"\\t",
            0x0a => b"\\n",
            0x0c => b"\\f",
            0x0d => b"\\r",
            0x00..=0x1f => {
                out.extend_from_slice(&bytes[start..i]);
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(escape);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Whether any byte of `bytes` is `"`, `\` or below 0x20.
#[inline]
fn needs_escape(bytes: &[u8]) -> bool {
    const ESCAPED: ByteScan = ByteScan {
        below: 0x20,
        also: [b'"', b'\\'],
    };
    ESCAPED.any_in(bytes)
}

/// An object, array or the value of an enum variant being written: whether an element
/// has been written (so the next needs a comma), and what closes it.
struct Compound<'s, 'a> {
    json: &'s mut CompactJson<'a>,
    first: bool,
    /// `]` or `}`, then `}` again for a variant's wrapping object.
    close: &'static [u8],
}

impl<'s, 'a> Compound<'s, 'a> {
    #[inline]
    fn open(json: &'s mut CompactJson<'a>, open: &[u8], close: &'static [u8]) -> Self {
        json.out.extend_from_slice(open);
        Self {
            json,
            first: true,
            close,
        }
    }

    #[inline]
    fn comma(&mut self) {
        if !self.first {
            self.json.out.push(b',');
        }
        self.first = false;
    }

    #[inline]
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CompactJsonError> {
        self.comma();
        value.serialize(&mut *self.json)
    }

    #[inline]
    fn field<T: Serialize + ?Sized>(
        &mut self,
        key: &str,
        value: &T,
    ) -> Result<(), CompactJsonError> {
        self.comma();
        self.json.string(key);
        self.json.out.push(b':');
        value.serialize(&mut *self.json)
    }

    #[inline]
    fn close(self) -> Result<(), CompactJsonError> {
        self.json.out.extend_from_slice(self.close);
        Ok(())
    }
}

impl<'s, 'a> ser::Serializer for &'s mut CompactJson<'a> {
    type Ok = ();
    type Error = CompactJsonError;
    type SerializeSeq = Compound<'s, 'a>;
    type SerializeTuple = Compound<'s, 'a>;
    type SerializeTupleStruct = Compound<'s, 'a>;
    type SerializeTupleVariant = Compound<'s, 'a>;
    type SerializeMap = Compound<'s, 'a>;
    type SerializeStruct = Compound<'s, 'a>;
    type SerializeStructVariant = Compound<'s, 'a>;

    #[inline]
    fn serialize_bool(self, v: bool) -> Result<(), CompactJsonError> {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    #[inline]
    fn serialize_i8(self, v: i8) -> Result<(), CompactJsonError> {
        self.integer(v);
        Ok(())
    }
    #[inline]
    fn serialize_i16(self, v: i16) -> Result<(), CompactJsonError> {
        self.integer(v);
        Ok(())
    }
    #[inline]
    fn serialize_i32(self, v: i32) -> Result<(), CompactJsonError> {
        self.integer(v);
        Ok(())
    }
    #[inline]
    fn serialize_i64(self, v: i64) -> Result<(), CompactJsonError> {
        self.integer(v);
        Ok(())
    }
    #[inline]
    fn serialize_i128(self, v: i128) -> Result<(), CompactJsonError> {
        self.integer(v);
        Ok(())
    }
    #[inline]
    fn serialize_u8(self, v: u8) -> Result<(), CompactJsonError> {
        self.integer(v);
        Ok(())
    }
    #[inline]
    fn serialize_u16(self, v: u16) -> Result<(), CompactJsonError> {
        self.integer(v);
        Ok(())
    }
    #[inline]
    fn serialize_u32(self, v: u32) -> Result<(), CompactJsonError> {
        self.integer(v);
        Ok(())
    }
    #[inline]
    fn serialize_u64(self, v: u64) -> Result<(), CompactJsonError> {
        self.integer(v);
        Ok(())
    }
    #[inline]
    fn serialize_u128(self, v: u128) -> Result<(), CompactJsonError> {
        self.integer(v);
        Ok(())
    }
    #[inline]
    fn serialize_f32(self, v: f32) -> Result<(), CompactJsonError> {
        self.float(v)
    }
    #[inline]
    fn serialize_f64(self, v: f64) -> Result<(), CompactJsonError> {
        self.float(v)
    }
    #[inline]
    fn serialize_char(self, v: char) -> Result<(), CompactJsonError> {
        self.string(v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    #[inline]
    fn serialize_str(self, v: &str) -> Result<(), CompactJsonError> {
        self.string(v);
        Ok(())
    }
    #[inline]
    fn serialize_bytes(self, v: &[u8]) -> Result<(), CompactJsonError> {
        let mut seq = Compound::open(self, b"[", b"]");
        for byte in v {
            seq.element(byte)?;
        }
        seq.close()
    }
    #[inline]
    fn serialize_none(self) -> Result<(), CompactJsonError> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    #[inline]
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), CompactJsonError> {
        value.serialize(self)
    }
    #[inline]
    fn serialize_unit(self) -> Result<(), CompactJsonError> {
        self.serialize_none()
    }
    #[inline]
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), CompactJsonError> {
        self.serialize_none()
    }
    #[inline]
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), CompactJsonError> {
        self.string(variant);
        Ok(())
    }
    #[inline]
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), CompactJsonError> {
        value.serialize(self)
    }
    #[inline]
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), CompactJsonError> {
        let mut wrapper = Compound::open(self, b"{", b"}");
        wrapper.field(variant, value)?;
        wrapper.close()
    }
    #[inline]
    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'s, 'a>, CompactJsonError> {
        Ok(Compound::open(self, b"[", b"]"))
    }
    #[inline]
    fn serialize_tuple(self, _: usize) -> Result<Compound<'s, 'a>, CompactJsonError> {
        Ok(Compound::open(self, b"[", b"]"))
    }
    #[inline]
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Compound<'s, 'a>, CompactJsonError> {
        Ok(Compound::open(self, b"[", b"]"))
    }
    #[inline]
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'s, 'a>, CompactJsonError> {
        Ok(self.variant(variant, b"[", b"]}"))
    }
    #[inline]
    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'s, 'a>, CompactJsonError> {
        Ok(Compound::open(self, b"{", b"}"))
    }
    #[inline]
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Compound<'s, 'a>, CompactJsonError> {
        Ok(Compound::open(self, b"{", b"}"))
    }
    #[inline]
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'s, 'a>, CompactJsonError> {
        Ok(self.variant(variant, b"{", b"}}"))
    }
}

macro_rules! sequence_of_elements {
    ($($trait:ident::$method:ident),* $(,)?) => {
        $(impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = CompactJsonError;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CompactJsonError> {
                self.element(value)
            }
            #[inline]
            fn end(self) -> Result<(), CompactJsonError> {
                self.close()
            }
        })*
    };
}

sequence_of_elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field,
);

macro_rules! object_of_fields {
    ($($trait:ident),* $(,)?) => {
        $(impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = CompactJsonError;
            #[inline]
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), CompactJsonError> {
                self.field(key, value)
            }
            #[inline]
            fn end(self) -> Result<(), CompactJsonError> {
                self.close()
            }
        })*
    };
}

object_of_fields!(SerializeStruct, SerializeStructVariant);

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = CompactJsonError;
    #[inline]
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), CompactJsonError> {
        self.comma();
        // serde_json's rule: a key is text, or a number or bool written as text.
        let text = match serde_json::to_value(key).map_err(|e| CompactJsonError(e.to_string()))? {
            serde_json::Value::String(text) => text,
            serde_json::Value::Number(number) => number.to_string(),
            serde_json::Value::Bool(flag) => flag.to_string(),
            _ => return Err(CompactJsonError("key must be a string".to_owned())),
        };
        self.json.string(&text);
        Ok(())
    }
    #[inline]
    fn serialize_value<T: Serialize + ?Sized>(
        &mut self,
        value: &T,
    ) -> Result<(), CompactJsonError> {
        self.json.out.push(b':');
        value.serialize(&mut *self.json)
    }
    #[inline]
    fn end(self) -> Result<(), CompactJsonError> {
        self.close()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pb;
    use std::collections::BTreeMap;

    fn both<T: Serialize>(value: &T) -> (String, String) {
        let mut ours = Vec::new();
        write_compact_json(value, &mut ours).expect("writes");
        let theirs = serde_json::to_string(value).expect("serde_json writes");
        (String::from_utf8(ours).expect("utf-8"), theirs)
    }

    #[test]
    fn every_character_a_string_can_hold_is_escaped_as_serde_json_escapes_it() {
        let every_ascii: String = (0u8..=0x7f).map(char::from).collect();
        let mut payment = crate::sample::ach_payment("P-\"quoted\"\\", 1);
        let originator = payment.originator.get_or_insert_with(Default::default);
        originator.name = format!("{every_ascii} é \u{202e} 🦀 \u{80}\u{9f}\u{2028}");
        let metadata = payment.metadata.get_or_insert_with(Default::default);
        metadata
            .attributes
            .insert(every_ascii.clone(), "\u{0}\u{1f}\"".into());
        payment
            .unmodeled
            .insert("k\n".into(), "{\"a\":[1,2]}".into());
        let (ours, theirs) = both(&payment);
        assert_eq!(ours, theirs);
        for text in [every_ascii.as_str(), "", "\\", "\"", "\u{7f}", "tab\there"] {
            let (ours, theirs) = both(&text);
            assert_eq!(ours, theirs, "{text:?}");
        }
    }

    #[test]
    fn text_of_every_length_is_written_whole_after_what_came_before() {
        // Short text is stored into fixed room appended to the output, then cut back to its
        // length: every length, past that room's too, written after other bytes, is as
        // serde_json writes.
        let alphabet = "abcdefghijklmnopqrstuvwxyz0123456789é€🦀ABCDEFGHIJ";
        for len in (0..=alphabet.len()).filter(|&len| alphabet.is_char_boundary(len)) {
            let text = &alphabet[..len];
            let mut ours = b"[1,".to_vec();
            write_json_string(&mut ours, text);
            let theirs = format!("[1,{}", serde_json::to_string(text).expect("writes"));
            assert_eq!(String::from_utf8_lossy(&ours), theirs, "{len} bytes");
        }
    }

    #[test]
    fn other_shapes_follow_serde_json() {
        let mut keyed: BTreeMap<i64, Vec<Option<bool>>> = BTreeMap::new();
        keyed.insert(-3, vec![Some(true), None, Some(false)]);
        keyed.insert(7, Vec::new());
        let (ours, theirs) = both(&keyed);
        assert_eq!(ours, theirs);
        let (ours, theirs) = both(&(1u8, -2i128, 'x', 1.5f64, f64::NAN, ()));
        assert_eq!(ours, theirs);
        let (ours, theirs) = both(&pb::PaymentType::Wire);
        assert_eq!(ours, theirs);
        let mut not_text: BTreeMap<Vec<u8>, u8> = BTreeMap::new();
        not_text.insert(vec![1], 1);
        assert!(write_compact_json(&not_text, &mut Vec::new()).is_err());
        assert!(serde_json::to_string(&not_text).is_err());
    }
}
