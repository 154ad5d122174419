//! Record → `Payment`: the record's value decoded as its content type header says
//! ([`payments_core::payment_value`]).

use payments_bus::{BusRecord, headers};
pub use payments_core::payment_value::DecodeError;
use payments_core::payment_value::ValueFormat;
use payments_core::pb;

/// Decodes a record's value according to its content type (or, without one, by sniffing:
/// a value starting with `{` is JSON).
pub fn decode_payment(record: &BusRecord) -> Result<pb::Payment, DecodeError> {
    decode_payment_as(record).map(|(payment, _)| payment)
}

/// [`decode_payment`], with the format the value was in.
pub fn decode_payment_as(record: &BusRecord) -> Result<(pb::Payment, ValueFormat), DecodeError> {
    let format = ValueFormat::of(record.header(headers::CONTENT_TYPE), &record.value)?;
    Ok((format.decode(&record.value)?, format))
}
