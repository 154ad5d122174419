//! Tests of [`decode_into`](super::decode_into): whatever payment it decodes into, the
//! result is what decoding afresh makes, or the same error.

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

#[test]
fn payments_as_encoders_write_them_are_filled_without_prost() {
    use super::ReuseDecode;
    let corpus = corpus();
    // The shapes one encoder wrote, before the two made of payments back to back.
    let written = &corpus[..corpus.len() - 3];
    let mut into = pb::Payment::default();
    for (i, bytes) in written.iter().enumerate() {
        into.reset_keeping_room();
        assert_eq!(into.fill_from(bytes), Ok(()), "shape {i}");
        assert_eq!(
            into,
            pb::Payment::decode(bytes.as_slice()).unwrap(),
            "shape {i}"
        );
    }
    let mut with_lists = full();
    with_lists.processing.as_mut().unwrap().status_history = vec![
        pb::StatusChange {
            status: 2,
            ..Default::default()
        };
        3
    ];
    with_lists.unmodeled = [("a".into(), "1".into()), ("b".into(), String::new())].into();
    // Negative numbers are varints of ten bytes.
    with_lists.amount.as_mut().unwrap().minor_units = -5;
    with_lists.created_at.as_mut().unwrap().seconds = -86_400;
    let bytes = with_lists.encode_to_vec();
    into.reset_keeping_room();
    assert_eq!(into.fill_from(&bytes), Ok(()));
    assert_eq!(into, with_lists);
}

#[test]
fn bytes_no_encoder_writes_are_left_to_prost_and_decode_as_it_decodes_them() {
    use super::{Declined, ReuseDecode};
    let full = full().encode_to_vec();
    let cases: [(&str, Vec<u8>); 5] = [
        // Field 99 is not in the contract: prost skips it.
        (
            "an unknown field",
            [full.as_slice(), &[0x98, 0x06, 0x01]].concat(),
        ),
        // Two payments back to back: `amount` occurs twice and is merged.
        (
            "a nested message twice",
            [full.clone(), full.clone()].concat(),
        ),
        // `payment_id` (field 1) sent as a varint: prost refuses it.
        ("a field of another wire type", vec![0x08, 0x01]),
        // `payment_id` as bytes that are not UTF-8: prost refuses them.
        ("text that is not UTF-8", vec![0x0a, 0x01, 0xff]),
        // `revision` as an eleven-byte varint: prost refuses it.
        (
            "a varint too long",
            [&[0x20][..], &[0xff; 10], &[0x01]].concat(),
        ),
    ];
    for (what, bytes) in cases {
        let mut filled = pb::Payment::default();
        assert_eq!(filled.fill_from(&bytes), Err(Declined), "{what}");
        let mut into = pb::Payment::decode(full.as_slice()).unwrap();
        assert_same_as_fresh(&mut into, &bytes, what);
    }
}

#[test]
fn a_message_nested_past_the_deepest_taken_is_left_to_prost() {
    use super::{Declined, MAX_DEPTH, ReuseDecode};
    let bytes = full().encode_to_vec();
    let mut at_the_limit = pb::Payment::default();
    assert_eq!(at_the_limit.fill_nested(&bytes, MAX_DEPTH), Err(Declined));
    let mut within = pb::Payment::default();
    assert_eq!(within.fill_nested(&bytes, MAX_DEPTH - 4), Ok(()));
    assert_eq!(within, full());
}
