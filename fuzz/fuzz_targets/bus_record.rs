//! Any record value from the payments topic, as any Kafka producer may write it (the seed's
//! legacy JSON, protobuf, proto3 JSON, under any content type or none): the processor's
//! decoder answers a payment or an error, and never panics.

#![no_main]

use libfuzzer_sys::fuzz_target;
use payments_core::payment_value::{JSON_CONTENT_TYPE, PROTOBUF_CONTENT_TYPE, decode_payment_value};

fuzz_target!(|input: (u8, &[u8])| {
    let (kind, value) = input;
    let content_type = match kind % 4 {
        0 => None,
        1 => Some(PROTOBUF_CONTENT_TYPE),
        2 => Some(JSON_CONTENT_TYPE),
        _ => Some("text/plain"),
    };
    let _ = decode_payment_value(content_type, value);
});
