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
mod tests {
    use super::decode_into;
    use crate::v1 as pb;
    use prost::Message;

    fn party(name: &str, with_account: bool, with_address: bool) -> pb::Party {
        pb::Party {
            party_type: 1,
            party_id: format!("P-{name}"),
            name: name.into(),
            account: with_account.then(|| pb::Account {
                account_id: "ACC-1".into(),
                account_type: 1,
                routing_info: Some(pb::RoutingInfo {
                    r#type: 1,
                    value: "021000021".into(),
                }),
                iban: "DE89370400440532013000".into(),
                bic: "COBADEFFXXX".into(),
            }),
            address: with_address.then(|| pb::Address {
                street: "1 Main St".into(),
                city: "Springfield".into(),
                state: "IL".into(),
                postal_code: "62701".into(),
                country: "US".into(),
            }),
            email: format!("{name}@example.com"),
            phone: "+15555550100".into(),
        }
    }

    /// A payment with every kind of field set: text, numbers, nested messages two deep,
    /// lists, a map and a oneof.
    fn full() -> pb::Payment {
        pb::Payment {
            payment_id: "WIRE-0001".into(),
            payment_type: 2,
            schema_version: "1.0".into(),
            revision: 3,
            created_at: Some(crate::Timestamp {
                seconds: 1_736_154_000,
                nanos: 5,
            }),
            updated_at: Some(crate::Timestamp {
                seconds: 1_736_154_001,
                nanos: 0,
            }),
            status: 2,
            amount: Some(pb::Money {
                minor_units: 12_345,
                currency: "EUR".into(),
            }),
            exchange_info: Some(pb::ExchangeInfo {
                source_currency: "USD".into(),
                target_currency: "EUR".into(),
                rate: "0.912345".into(),
                source_amount: Some(pb::Money {
                    minor_units: 13_500,
                    currency: "USD".into(),
                }),
            }),
            originator: Some(party("acme", true, true)),
            beneficiary: Some(party("globex", true, false)),
            processing: Some(pb::ProcessingInfo {
                priority: 1,
                submission_date: Some(crate::Timestamp {
                    seconds: 1_736_154_000,
                    nanos: 0,
                }),
                status_history: vec![pb::StatusChange::default(); 2],
                ..Default::default()
            }),
            references: Some(pb::References {
                end_to_end_id: "E2E-1".into(),
                ..Default::default()
            }),
            remittance_info: Some(pb::RemittanceInfo {
                description: "Invoice 1".into(),
                ..Default::default()
            }),
            regulatory: Some(pb::Regulatory {
                compliance_checks: vec![pb::ComplianceCheck {
                    name: "aml_check".into(),
                    status: "CLEARED".into(),
                }],
                reporting: Some(pb::RegulatoryReporting {
                    authority_name: "FinCEN".into(),
                    details: "CTR".into(),
                }),
            }),
            metadata: Some(pb::Metadata {
                source_system: "TEST".into(),
                business_unit: "TREASURY".into(),
                attributes: [("k".into(), "v".into())].into(),
            }),
            warnings: vec![pb::ValidationWarning {
                field: "amount".into(),
                description: "large".into(),
            }],
            scenario: Some(pb::ScenarioLabel {
                typology: 1,
                scenario_id: "S-1".into(),
                ..Default::default()
            }),
            unmodeled: [("extra".into(), "1".into())].into(),
            details: Some(pb::payment::Details::Wire(pb::WireDetails::default())),
        }
    }

    /// Encodings of payments of many shapes: the full one, each nested message taken away in
    /// turn, nested ones emptied, other details, an empty payment, and fields that occur twice.
    fn corpus() -> Vec<Vec<u8>> {
        let full = full();
        let mut shapes = vec![full.clone(), pb::Payment::default()];
        let takeaways: [fn(&mut pb::Payment); 14] = [
            |p| p.created_at = None,
            |p| p.amount = None,
            |p| p.exchange_info = None,
            |p| p.exchange_info.as_mut().unwrap().source_amount = None,
            |p| p.originator = None,
            |p| p.beneficiary.as_mut().unwrap().account = None,
            |p| {
                p.originator
                    .as_mut()
                    .unwrap()
                    .account
                    .as_mut()
                    .unwrap()
                    .routing_info = None
            },
            |p| p.originator.as_mut().unwrap().address = None,
            |p| p.processing = None,
            |p| p.regulatory.as_mut().unwrap().reporting = None,
            |p| p.metadata = None,
            |p| p.scenario = None,
            |p| p.details = Some(pb::payment::Details::Ach(pb::AchDetails::default())),
            |p| p.details = None,
        ];
        for take in takeaways {
            let mut shape = full.clone();
            take(&mut shape);
            shapes.push(shape);
        }
        let mut emptied = full.clone();
        emptied.originator = Some(pb::Party::default());
        emptied.amount = Some(pb::Money::default());
        shapes.push(emptied);
        let mut encodings: Vec<Vec<u8>> = shapes.iter().map(Message::encode_to_vec).collect();
        // Two payments back to back are one payment, merged: nested messages occur twice.
        encodings.push([encodings[0].clone(), encodings[5].clone()].concat());
        encodings.push([encodings[6].clone(), encodings[1].clone()].concat());
        // A nested message present but empty on the wire (field 10, length 0).
        encodings.push(vec![0x52, 0x00]);
        encodings
    }

    fn assert_same_as_fresh(into: &mut pb::Payment, bytes: &[u8], what: &str) {
        let fresh = pb::Payment::decode(bytes);
        let reused = decode_into(bytes, into);
        match fresh {
            Ok(fresh) => {
                assert!(reused.is_ok(), "{what}: {reused:?}");
                assert_eq!(*into, fresh, "{what}");
            }
            Err(error) => {
                assert_eq!(
                    reused.map_err(|e| e.to_string()),
                    Err(error.to_string()),
                    "{what}"
                );
                assert_eq!(*into, pb::Payment::default(), "{what}");
            }
        }
    }

    #[test]
    fn decoded_into_any_payment_before_it_a_payment_is_what_decoding_afresh_makes() {
        let corpus = corpus();
        for (i, before) in corpus.iter().enumerate() {
            for (j, bytes) in corpus.iter().enumerate() {
                let mut into = pb::Payment::decode(before.as_slice()).unwrap_or_default();
                assert_same_as_fresh(&mut into, bytes, &format!("{j} into {i}"));
            }
        }
    }

    #[test]
    fn damaged_bytes_decode_into_a_used_payment_as_they_decode_afresh() {
        let corpus = corpus();
        let mut rng = fastrand::Rng::with_seed(19);
        let mut into = pb::Payment::default();
        for round in 0..20_000 {
            let mut bytes = corpus[rng.usize(..corpus.len())].clone();
            match rng.u8(..3) {
                0 if !bytes.is_empty() => {
                    let at = rng.usize(..bytes.len());
                    bytes[at] ^= 1 << rng.u8(..8);
                }
                1 if !bytes.is_empty() => bytes.truncate(rng.usize(..bytes.len())),
                _ => {
                    let at = rng.usize(..=bytes.len());
                    bytes.insert(at, rng.u8(..));
                }
            }
            assert_same_as_fresh(&mut into, &bytes, &format!("round {round}: {bytes:?}"));
        }
    }
}
