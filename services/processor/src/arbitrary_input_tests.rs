//! Property tests: arbitrary bytes, mutated protobuf and arbitrary `Payment` messages thrown
//! at decode, normalization and validation (seeded, so a failure is reproducible from the
//! seed it prints). Nothing panics; a decode failure says what the bytes are not; every
//! validation rejection names a field and says what is wrong with it.

use crate::decode::decode_payment;
use crate::prepare::prepare;
use bytes::Bytes;
use payments_bus::{BusRecord, Delivery, headers};
use payments_core::pb::Timestamp;
use payments_core::sample::ach_payment;
use payments_core::{PaymentValidator, ValidationMode, ValidationOutcome, normalize, pb};
use prost::Message;

const CASES: u64 = 4_000;

fn record(value: Vec<u8>, content_type: Option<&str>) -> BusRecord {
    BusRecord {
        key: Bytes::from_static(b"k"),
        value: Bytes::from(value),
        headers: content_type
            .map(|t| vec![(headers::CONTENT_TYPE.into(), Bytes::from(t.to_owned()))])
            .unwrap_or_default(),
    }
}

fn random_bytes(rng: &mut fastrand::Rng, max: usize) -> Vec<u8> {
    let len = rng.usize(..=max);
    (0..len).map(|_| rng.u8(..)).collect()
}

fn random_text(rng: &mut fastrand::Rng) -> String {
    let len = rng.usize(..40);
    (0..len)
        .map(|_| match rng.u8(..4) {
            0 => rng.char('0'..='9'),
            1 => rng.char('A'..='Z'),
            2 => rng.char(..),
            _ => rng.char(' '..='~'),
        })
        .collect()
}

/// A payment with arbitrary values in the fields rules look at.
fn arbitrary_payment(rng: &mut fastrand::Rng) -> pb::Payment {
    let mut p = ach_payment(&format!("ACH-{}", rng.u32(..)), rng.i64(-10_000..10_000));
    if rng.bool() {
        p.payment_id = random_text(rng);
    }
    if rng.bool() {
        p.payment_type = rng.i32(-3..15);
    }
    if rng.bool() {
        p.status = rng.i32(-3..15);
    }
    if rng.bool() {
        p.revision = rng.u32(..);
    }
    if rng.bool() {
        p.created_at = match rng.u8(..3) {
            0 => None,
            1 => Some(Timestamp {
                seconds: rng.i64(..),
                nanos: rng.i32(..),
            }),
            _ => Some(Timestamp {
                seconds: rng.i64(-100_000_000_000..100_000_000_000),
                nanos: rng.i32(0..1_000_000_000),
            }),
        };
    }
    if let Some(amount) = p.amount.as_mut() {
        if rng.bool() {
            amount.minor_units = match rng.u8(..3) {
                0 => rng.i64(..),
                1 => i64::MIN,
                _ => rng.i64(-1_000..1_000),
            };
        }
        if rng.bool() {
            amount.currency = random_text(rng).chars().take(rng.usize(..6)).collect();
        }
    }
    if rng.u8(..4) == 0 {
        p.amount = None;
    }
    for party in [p.originator.as_mut(), p.beneficiary.as_mut()]
        .into_iter()
        .flatten()
    {
        if rng.bool() {
            party.party_id = random_text(rng);
        }
        if rng.bool() {
            party.name = random_text(rng);
        }
        if let Some(account) = party.account.as_mut() {
            if rng.bool() {
                account.account_id = random_text(rng);
            }
            if rng.bool() {
                account.iban = random_text(rng);
            }
            if rng.bool() {
                account.bic = random_text(rng);
            }
            if let Some(routing) = account.routing_info.as_mut() {
                if rng.bool() {
                    routing.r#type = rng.i32(-2..10);
                }
                if rng.bool() {
                    routing.value = random_text(rng);
                }
            }
        }
    }
    if rng.u8(..5) == 0 {
        p.originator = None;
    }
    if rng.u8(..5) == 0 {
        p.details = None;
    }
    p
}

/// Normalizes and validates in both modes; every rejection must name its field.
fn check_validation(mut payment: pb::Payment, seed: u64) {
    normalize(&mut payment);
    for mode in [ValidationMode::Strict, ValidationMode::Lenient] {
        match PaymentValidator::new(mode).validate(&payment) {
            ValidationOutcome::Accepted { warnings } => {
                for w in warnings {
                    assert!(!w.field.is_empty(), "seed {seed}: a warning names no field");
                }
            }
            ValidationOutcome::Rejected { violations } => {
                assert!(
                    !violations.is_empty(),
                    "seed {seed}: rejected without a reason"
                );
                for v in violations {
                    assert!(
                        !v.field.is_empty() && !v.description.is_empty(),
                        "seed {seed}: a violation without field or description: {v:?}"
                    );
                }
            }
        }
    }
}

/// The promise behind `Prepared::encoded`: an encoding kept for a payment decodes to exactly
/// the payment prepared from its record, whatever the record held. Returns how many were kept.
fn check_kept_encodings(records: Vec<BusRecord>, seed: u64) -> usize {
    let batch: Vec<Delivery> = records
        .into_iter()
        .enumerate()
        .map(|(offset, record)| Delivery {
            topic: "t".into(),
            partition: 0,
            offset: offset as i64,
            timestamp_ms: 0,
            record,
        })
        .collect();
    let mut kept = 0;
    for mode in [ValidationMode::Strict, ValidationMode::Lenient] {
        let prepared = prepare(&batch, mode);
        assert_eq!(
            prepared.encoded.len(),
            prepared.payments.len(),
            "seed {seed}"
        );
        for (payment, encoded) in prepared.payments.iter().zip(&prepared.encoded) {
            if let Some(encoded) = encoded {
                let decoded = pb::Payment::decode(encoded.as_ref());
                assert_eq!(
                    decoded.as_ref(),
                    Ok(payment),
                    "seed {seed}: kept encoding differs"
                );
                kept += 1;
            }
        }
    }
    kept
}

#[test]
fn an_encoding_kept_for_the_store_is_always_the_prepared_payment() {
    let mut kept = 0;
    for seed in 0..CASES {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut payment = arbitrary_payment(&mut rng);
        // Half of them as ingest sends them (normalized, with its warnings): those are the
        // ones whose encoding can be kept.
        if rng.bool() {
            normalize(&mut payment);
            if let ValidationOutcome::Accepted { warnings } =
                PaymentValidator::new(ValidationMode::Lenient).validate(&payment)
            {
                payment.warnings = warnings.iter().map(|w| w.to_warning()).collect();
            }
        }
        let mut records = vec![record(payment.encode_to_vec(), Some(headers::PROTOBUF))];
        if let Ok(json) = serde_json::to_vec(&payment) {
            records.push(record(json, None));
        }
        let mut mutated = payment.encode_to_vec();
        if !mutated.is_empty() {
            let i = rng.usize(..mutated.len());
            mutated[i] ^= 1 << rng.u8(..8);
        }
        records.push(record(mutated, None));
        kept += check_kept_encodings(records, seed);
    }
    assert!(
        kept > 0,
        "no encoding was ever kept: the property was never exercised"
    );
}

#[test]
fn arbitrary_bytes_never_panic_and_failures_say_what_the_bytes_are_not() {
    for seed in 0..CASES {
        let mut rng = fastrand::Rng::with_seed(seed);
        let bytes = random_bytes(&mut rng, 512);
        for content_type in [Some(headers::PROTOBUF), Some("application/json"), None] {
            match decode_payment(&record(bytes.clone(), content_type)) {
                Ok(payment) => check_validation(payment, seed),
                Err(e) => assert!(!e.to_string().is_empty(), "seed {seed}: empty error"),
            }
        }
    }
}

#[test]
fn mutated_protobuf_never_panics_and_rejections_name_a_field() {
    let valid = ach_payment("ACH-PROP-1", 0).encode_to_vec();
    for seed in 0..CASES {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut bytes = valid.clone();
        for _ in 0..rng.usize(1..6) {
            match rng.u8(..3) {
                0 if !bytes.is_empty() => {
                    let i = rng.usize(..bytes.len());
                    bytes[i] ^= 1 << rng.u8(..8);
                }
                1 => bytes.truncate(rng.usize(..=bytes.len())),
                _ => {
                    let i = rng.usize(..=bytes.len());
                    bytes.insert(i, rng.u8(..));
                }
            }
        }
        match decode_payment(&record(bytes, Some(headers::PROTOBUF))) {
            Ok(payment) => check_validation(payment, seed),
            Err(e) => assert!(
                e.to_string()
                    .starts_with("not a payments.v1.Payment protobuf"),
                "seed {seed}: {e}"
            ),
        }
    }
}

#[test]
fn arbitrary_payments_never_panic_and_rejections_name_a_field() {
    for seed in 0..CASES {
        let mut rng = fastrand::Rng::with_seed(seed);
        let payment = arbitrary_payment(&mut rng);
        // Through the wire and through JSON too, as the processor receives them.
        let encoded = payment.encode_to_vec();
        if let Ok(decoded) = decode_payment(&record(encoded, Some(headers::PROTOBUF))) {
            assert_eq!(decoded, payment, "seed {seed}: protobuf did not round-trip");
        }
        if let Ok(json) = serde_json::to_vec(&payment) {
            let _ = decode_payment(&record(json, None));
        }
        check_validation(payment, seed);
    }
}
