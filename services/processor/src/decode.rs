//! Record → `Payment`: the record's value decoded as its content type header says
//! ([`payments_core::payment_value`]).

use payments_bus::{BusRecord, headers};
pub use payments_core::payment_value::DecodeError;
use payments_core::payment_value::decode_payment_value;
use payments_core::pb;

/// Decodes a record's value according to its content type (or, without one, by sniffing:
/// a value starting with `{` is JSON).
pub fn decode_payment(record: &BusRecord) -> Result<pb::Payment, DecodeError> {
    decode_payment_value(record.header(headers::CONTENT_TYPE), &record.value)
}
