//! Any bytes as a `payments.v1.Payment` protobuf, as a gRPC client or a Kafka producer may
//! send them: decoding never panics, and a decoded payment goes through every rule the
//! services apply (validation, text limits, normalization, masking, the row key) without
//! panicking; its encoding decodes back to the same payment.

#![no_main]

use libfuzzer_sys::fuzz_target;
use payments_core::{PaymentValidator, ValidationMode, masking, normalize, pb, row_key};
use prost::Message;

fuzz_target!(|data: &[u8]| {
    let Ok(mut payment) = pb::Payment::decode(data) else {
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
    let _ = serde_json::to_string(&payment);
    masking::mask_accounts(&mut payment);
});
