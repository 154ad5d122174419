//! Record → `Payment`: the record's value decoded as its content type header says
//! ([`payments_core::payment_value`]).

use payments_bus::{BusRecord, headers};
pub use payments_core::payment_value::DecodeError;
use payments_core::payment_value::ValueFormat;
use payments_core::pb;

/// Decodes a record's value according to its content type (or, without one, by sniffing:
/// a value starting with `{` is JSON).
pub fn decode_payment(record: &BusRecord) -> Result<pb::Payment, DecodeError> {
    value_format(record)?.decode(&record.value)
}

/// [`decode_payment`] into `out`, a payment used before whose text's room it fills (see
/// [`ValueFormat::decode_into`]); returns the format the value was in. On an error `out`
/// holds a default payment.
pub fn decode_payment_into(
    record: &BusRecord,
    out: &mut pb::Payment,
) -> Result<ValueFormat, DecodeError> {
    let format = value_format(record).inspect_err(|_| *out = pb::Payment::default())?;
    format.decode_into(&record.value, out)?;
    Ok(format)
}

fn value_format(record: &BusRecord) -> Result<ValueFormat, DecodeError> {
    ValueFormat::of(record.header(headers::CONTENT_TYPE), &record.value)
}
