//! [`TextLimits`]: what every text field of a payment may hold, whatever the field.
//!
//! The rules hold for every string a payment carries, map keys included, because no list of
//! fields that a new field could miss is involved: they are checked by the walk over its
//! texts that the proto crate writes off prost's output ([`TextFields`]), and a payment that
//! breaks one is walked again through its serde form, which names each bad field by its path:
//!
//! - no control character (`U+0000`–`U+001F`, `U+007F`–`U+009F`): PostgreSQL cannot store
//!   `U+0000` at all, and the others break CSV, NACHA and log lines downstream;
//! - at most [`MAX_TEXT_BYTES`] bytes of UTF-8 per field;
//! - at most [`MAX_PAYMENT_BYTES`] bytes for the whole payment, protobuf-encoded.
//!
//! Bidirectional marks, emoji and combining marks are text, and are kept as sent.

use crate::byte_scan::ByteScan;
use crate::pb;
use payments_proto::TextFields;
use prost::Message;
use serde::ser::{self, Serialize};
use std::fmt;

/// The most bytes (UTF-8) one text field may hold.
pub const MAX_TEXT_BYTES: usize = 2_048;

/// The most bytes a payment may take, protobuf-encoded: far above any real payment, far
/// below what a Kafka broker carries by default (1 MB).
pub const MAX_PAYMENT_BYTES: usize = 64 * 1_024;

/// One text field that broke a rule: its field path and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextViolation {
    /// Field path in `Payment` (`originator.name`, `metadata.attributes["k"]`).
    pub field: String,
    /// What is wrong with it.
    pub description: String,
}

/// Checks the text rules on a whole payment.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextLimits;

impl TextLimits {
    /// Every text rule `payment` breaks, in field order, and its size when too large.
    pub fn check(payment: &pb::Payment) -> Vec<TextViolation> {
        let mut found = if Self::all_clean(payment) {
            Vec::new()
        } else {
            Self::name_violations(payment)
        };
        let size = payment.encoded_len();
        if size > MAX_PAYMENT_BYTES {
            found.push(TextViolation {
                field: "payment".into(),
                description: format!(
                    "is {size} bytes encoded, above the limit of {MAX_PAYMENT_BYTES} bytes"
                ),
            });
        }
        found
    }

    /// Whether every text of `payment` keeps the rules, through its generated walk over its
    /// texts ([`TextFields`]), which keeps no path. Checking every generated payment through
    /// its serde form, as [`Self::name_violations`] does, took 0.80 µs a payment where
    /// this check takes 0.34 µs (`cargo bench -p payments-generator --bench validate`, the
    /// size included), in ingest and again in the processor.
    fn all_clean(payment: &pb::Payment) -> bool {
        let mut clean = true;
        payment.for_each_text(&mut |text| clean &= Self::describe(text).is_none());
        clean
    }

    /// Every text rule `payment` breaks, each named by its field path, found by walking the
    /// payment's serde form (which names fields as the API does).
    fn name_violations(payment: &pb::Payment) -> Vec<TextViolation> {
        let mut walker = TextWalker::default();
        // A payment serde cannot express (an enum number no name stands for) stops the
        // walk early; the enum rule rejects such a payment on its own.
        let _ = payment.serialize(&mut walker);
        walker.found
    }

    /// What is wrong with `text` as a field value, if anything.
    pub fn describe(text: &str) -> Option<String> {
        // Control characters are U+0000–U+001F and U+007F–U+009F: in UTF-8 a byte below 0x20,
        // 0x7F, or a pair led by 0xC2. Text without those bytes (nearly all) needs no decoding.
        const SUSPECT: ByteScan = ByteScan {
            below: 0x20,
            also: [0x7f, 0xc2],
        };
        let suspect = SUSPECT.any_in(text.as_bytes());
        let control = suspect
            .then(|| text.char_indices().find(|(_, c)| c.is_control()))
            .flatten();
        if let Some((at, c)) = control {
            return Some(format!(
                "contains control character U+{:04X} at byte {at}; control characters are not allowed in text",
                u32::from(c)
            ));
        }
        (text.len() > MAX_TEXT_BYTES).then(|| {
            format!(
                "is {} bytes, above the limit of {MAX_TEXT_BYTES} bytes",
                text.len()
            )
        })
    }
}

/// Where the walk is: the path of field names, indices and map keys.
#[derive(Default)]
struct TextWalker {
    path: Vec<Step>,
    found: Vec<TextViolation>,
}

enum Step {
    Field(&'static str),
    Index(usize),
    Key(String),
}

impl TextWalker {
    /// The path as the API names fields: `snake_case`, `[i]` and `["key"]`.
    fn field(&self) -> String {
        let mut out = String::new();
        for step in &self.path {
            match step {
                Step::Field(name) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    for c in name.chars() {
                        if c.is_ascii_uppercase() {
                            out.push('_');
                            out.push(c.to_ascii_lowercase());
                        } else {
                            out.push(c);
                        }
                    }
                }
                Step::Index(i) => out.push_str(&format!("[{i}]")),
                Step::Key(key) => out.push_str(&format!("[{key:?}]")),
            }
        }
        out
    }

    fn text(&mut self, text: &str) {
        if let Some(description) = TextLimits::describe(text) {
            self.found.push(TextViolation {
                field: self.field(),
                description,
            });
        }
    }

    fn nested<T: Serialize + ?Sized>(&mut self, step: Step, value: &T) -> Result<(), WalkStop> {
        if holds_no_text::<T>() {
            return Ok(());
        }
        self.path.push(step);
        let result = value.serialize(&mut *self);
        self.path.pop();
        result
    }
}

/// Whether values of type `T` are known to hold no text: timestamps, which serde would
/// first format as RFC 3339 strings (the costliest part of a walk) only to be checked here.
fn holds_no_text<T: ?Sized>() -> bool {
    let name = std::any::type_name::<T>();
    name == std::any::type_name::<crate::pb::Timestamp>()
        || name == std::any::type_name::<Option<crate::pb::Timestamp>>()
}

/// Why a walk stopped early: a value serde refused (an unknown enum number).
#[derive(Debug)]
struct WalkStop;

impl fmt::Display for WalkStop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("payment has no serde form")
    }
}

impl std::error::Error for WalkStop {}

impl ser::Error for WalkStop {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Self
    }
}

/// Serializes a map key to text, to name it in the path.
struct KeyText;

macro_rules! key_as_display {
    ($($method:ident($ty:ty)),* $(,)?) => {
        $(fn $method(self, v: $ty) -> Result<String, WalkStop> { Ok(v.to_string()) })*
    };
}

macro_rules! ignored_scalars {
    ($($method:ident($ty:ty)),* $(,)?) => {
        $(fn $method(self, _: $ty) -> Result<(), WalkStop> { Ok(()) })*
    };
}

impl<'a> ser::Serializer for &'a mut TextWalker {
    type Ok = ();
    type Error = WalkStop;
    type SerializeSeq = Seq<'a>;
    type SerializeTuple = Seq<'a>;
    type SerializeTupleStruct = Seq<'a>;
    type SerializeTupleVariant = Seq<'a>;
    type SerializeMap = Map<'a>;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    ignored_scalars!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_bytes(&[u8]),
        serialize_unit_struct(&'static str),
    );

    fn serialize_char(self, v: char) -> Result<(), WalkStop> {
        self.text(v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), WalkStop> {
        self.text(v);
        Ok(())
    }
    fn serialize_none(self) -> Result<(), WalkStop> {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), WalkStop> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), WalkStop> {
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<(), WalkStop> {
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), WalkStop> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), WalkStop> {
        self.nested(Step::Field(variant), value)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Seq<'a>, WalkStop> {
        Ok(Seq {
            walker: self,
            next: 0,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq<'a>, WalkStop> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Seq<'a>, WalkStop> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        len: usize,
    ) -> Result<Seq<'a>, WalkStop> {
        self.serialize_seq(Some(len))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Map<'a>, WalkStop> {
        Ok(Map {
            walker: self,
            key: String::new(),
        })
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, WalkStop> {
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, WalkStop> {
        Ok(self)
    }
}

/// A sequence being walked: each element is `[i]` of the path.
struct Seq<'a> {
    walker: &'a mut TextWalker,
    next: usize,
}

impl Seq<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), WalkStop> {
        let index = self.next;
        self.next += 1;
        self.walker.nested(Step::Index(index), value)
    }
}

macro_rules! seq_like {
    ($($trait:ident::$method:ident),* $(,)?) => {
        $(impl ser::$trait for Seq<'_> {
            type Ok = ();
            type Error = WalkStop;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), WalkStop> {
                self.element(value)
            }
            fn end(self) -> Result<(), WalkStop> {
                Ok(())
            }
        })*
    };
}

seq_like!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field,
);

/// A map being walked: each key is checked as text, each value is `["key"]` of the path.
struct Map<'a> {
    walker: &'a mut TextWalker,
    key: String,
}

impl ser::SerializeMap for Map<'_> {
    type Ok = ();
    type Error = WalkStop;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), WalkStop> {
        self.key = key.serialize(KeyText)?;
        if let Some(description) = TextLimits::describe(&self.key) {
            self.walker.found.push(TextViolation {
                field: self.walker.field(),
                description: format!("key {:?} {description}", self.key),
            });
        }
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), WalkStop> {
        let key = std::mem::take(&mut self.key);
        self.walker.nested(Step::Key(key), value)
    }
    fn end(self) -> Result<(), WalkStop> {
        Ok(())
    }
}

impl ser::SerializeStruct for &mut TextWalker {
    type Ok = ();
    type Error = WalkStop;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), WalkStop> {
        self.nested(Step::Field(name), value)
    }
    fn end(self) -> Result<(), WalkStop> {
        Ok(())
    }
}

impl ser::SerializeStructVariant for &mut TextWalker {
    type Ok = ();
    type Error = WalkStop;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), WalkStop> {
        self.nested(Step::Field(name), value)
    }
    fn end(self) -> Result<(), WalkStop> {
        Ok(())
    }
}

/// Map keys are strings in the payment; any other key is named by its display form.
impl ser::Serializer for KeyText {
    type Ok = String;
    type Error = WalkStop;
    type SerializeSeq = ser::Impossible<String, WalkStop>;
    type SerializeTuple = ser::Impossible<String, WalkStop>;
    type SerializeTupleStruct = ser::Impossible<String, WalkStop>;
    type SerializeTupleVariant = ser::Impossible<String, WalkStop>;
    type SerializeMap = ser::Impossible<String, WalkStop>;
    type SerializeStruct = ser::Impossible<String, WalkStop>;
    type SerializeStructVariant = ser::Impossible<String, WalkStop>;

    key_as_display!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
    );

    fn serialize_bytes(self, _: &[u8]) -> Result<String, WalkStop> {
        Err(WalkStop)
    }
    fn serialize_none(self) -> Result<String, WalkStop> {
        Err(WalkStop)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<String, WalkStop> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<String, WalkStop> {
        Err(WalkStop)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<String, WalkStop> {
        Err(WalkStop)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<String, WalkStop> {
        Ok(variant.to_owned())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<String, WalkStop> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String, WalkStop> {
        Err(WalkStop)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, WalkStop> {
        Err(WalkStop)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, WalkStop> {
        Err(WalkStop)
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, WalkStop> {
        Err(WalkStop)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, WalkStop> {
        Err(WalkStop)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, WalkStop> {
        Err(WalkStop)
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, WalkStop> {
        Err(WalkStop)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, WalkStop> {
        Err(WalkStop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::ach_payment;

    #[test]
    fn only_timestamps_are_skipped_as_holding_no_text() {
        assert!(holds_no_text::<crate::pb::Timestamp>());
        assert!(holds_no_text::<Option<crate::pb::Timestamp>>());
        assert!(!holds_no_text::<String>());
        assert!(!holds_no_text::<str>());
        assert!(!holds_no_text::<pb::Party>());
        assert!(!holds_no_text::<Option<pb::Party>>());
        assert!(!holds_no_text::<pb::Payment>());
    }

    fn fields(payment: &pb::Payment) -> Vec<String> {
        TextLimits::check(payment)
            .into_iter()
            .map(|v| v.field)
            .collect()
    }

    #[test]
    fn every_control_character_is_found_and_every_other_character_passes() {
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let text = format!("ab{c}é");
            let found = TextLimits::describe(&text).is_some();
            assert_eq!(found, c.is_control(), "U+{:04X}", u32::from(c));
        }
    }

    #[test]
    fn a_sample_payment_breaks_no_text_rule() {
        assert!(TextLimits::check(&ach_payment("P-1", 0)).is_empty());
    }

    #[test]
    fn a_nul_is_named_by_its_field_path_in_snake_case() {
        let mut p = ach_payment("P-1", 0);
        if let Some(o) = p.originator.as_mut() {
            o.name = "Acme\u{0}Corp".into();
        }
        if let Some(a) = p
            .beneficiary
            .as_mut()
            .and_then(|b| b.account.as_mut())
            .and_then(|a| a.routing_info.as_mut())
        {
            a.value.push('\u{1b}');
        }
        let found = TextLimits::check(&p);
        assert_eq!(
            found.iter().map(|v| v.field.as_str()).collect::<Vec<_>>(),
            vec!["originator.name", "beneficiary.account.routing_info.value"]
        );
        assert!(
            found[0].description.contains("U+0000 at byte 4"),
            "{found:?}"
        );
    }

    #[test]
    fn map_keys_values_list_items_and_rail_details_are_checked() {
        let mut p = ach_payment("P-1", 0);
        let metadata = p.metadata.get_or_insert_with(Default::default);
        metadata
            .attributes
            .insert("bad\u{7f}key".into(), "ok".into());
        metadata.attributes.insert("k".into(), "v\u{85}".into());
        if let Some(pb::payment::Details::Ach(ach)) = p.details.as_mut() {
            ach.addenda.push(pb::AchAddenda {
                type_code: "05".into(),
                payment_related_info: "x".repeat(MAX_TEXT_BYTES + 1),
            });
        }
        assert_eq!(
            fields(&p),
            vec![
                "metadata.attributes",
                "metadata.attributes[\"k\"]",
                "ach.addenda[0].payment_related_info",
            ]
        );
    }

    #[test]
    fn text_that_is_only_unusual_is_kept() {
        let mut p = ach_payment("P-1", 0);
        if let Some(o) = p.originator.as_mut() {
            // A right-to-left mark, an emoji, a combining accent, a zero-width joiner.
            o.name = "\u{200f}שלום 💸 e\u{301} a\u{200d}b".into();
        }
        assert!(fields(&p).is_empty());
    }

    #[test]
    fn a_payment_too_large_to_carry_is_named_with_its_size() {
        let mut p = ach_payment("P-1", 0);
        let metadata = p.metadata.get_or_insert_with(Default::default);
        for i in 0..100 {
            metadata
                .attributes
                .insert(format!("k{i}"), "v".repeat(MAX_TEXT_BYTES));
        }
        let found = TextLimits::check(&p);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].field, "payment");
        assert!(
            found[0]
                .description
                .contains("above the limit of 65536 bytes")
        );
    }
}
