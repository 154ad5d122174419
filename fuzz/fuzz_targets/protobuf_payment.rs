//! Any bytes as a `payments.v1.Payment` protobuf, as a gRPC client or a Kafka producer may
//! send them: decoding never panics, and a decoded payment goes through every rule the
//! services apply (validation, text limits, normalization, masking, the row key) without
//! panicking; its encoding decodes back to the same payment. Decoded into a payment used
//! before, as ingest decodes a stream's payments (`decode_into`), or into a new one by the code
//! written for each message (`payments_proto::decode`), the bytes make exactly what prost's
//! decoding makes, or the same error. Its compact JSON is serde_json's, byte for byte.

#![no_main]

use libfuzzer_sys::fuzz_target;
use payments_core::sample::ach_payment;
use payments_core::{PaymentValidator, ValidationMode, masking, normalize, pb, row_key};
use payments_proto::decode_into;
use prost::Message;

fuzz_target!(|data: &[u8]| {
    let fresh = pb::Payment::decode(data);
    // A payment with every part an ACH payment has, so that each part the input lacks must
    // be dropped, not left over.
    let mut reused = ach_payment("FUZZ-BEFORE", 0);
    let into = decode_into(data, &mut reused);
    // Decoded afresh by the code written for each message, falling back on prost.
    let filled = payments_proto::decode::<pb::Payment>(data);
    match &fresh {
        Ok(fresh) => {
            assert_eq!((into, &reused), (Ok(()), fresh), "decoded into a used payment");
            assert_eq!(filled.as_ref(), Ok(fresh), "decoded afresh, filled");
        }
        Err(error) => {
            assert_eq!(into.map_err(|e| e.to_string()), Err(error.to_string()));
            assert_eq!(filled.map_err(|e| e.to_string()), Err(error.to_string()));
        }
    }
    let Ok(mut payment) = fresh else {
        return;
    };
    let again = pb::Payment::decode(payment.encode_to_vec().as_slice());
    assert_eq!(again.as_ref(), Ok(&payment), "protobuf round trip");
    for mode in [ValidationMode::Strict, ValidationMode::Lenient] {
        let _ = PaymentValidator::new(mode).validate(&payment);
    }
    normalize(&mut payment);
    let normalized = payment.clone();
    normalize(&mut payment);
    assert_eq!(payment, normalized, "normalization is idempotent");
    let _ = row_key(&payment);
    // The compact JSON `generate` and the seed's JSON write is serde_json's, byte for byte,
    // whatever the text holds (quotes, control characters, any length), or the same refusal.
    let mut compact = Vec::new();
    let written = payments_core::compact_json::write_compact_json(&payment, &mut compact);
    match serde_json::to_vec(&payment) {
        Ok(theirs) => assert!(written.is_ok() && compact == theirs, "compact json"),
        Err(_) => assert!(written.is_err(), "compact json wrote what serde_json refuses"),
    }
    masking::mask_accounts(&mut payment);
});
