//! A payment as the value of a bus record, whoever wrote it: protobuf (our producers), the
//! seed's JSON (its legacy Python producers: JSON value, no headers) or proto3 JSON, told
//! apart by the record's content type, or, without one, by the value's first byte.

use crate::pb;
use crate::seed_json::from_json_text;

/// The content type of a protobuf `payments.v1.Payment`.
pub const PROTOBUF_CONTENT_TYPE: &str = "application/x-protobuf";

/// The content type of a JSON payment (proto3 JSON, or the seed's JSON).
pub const JSON_CONTENT_TYPE: &str = "application/json";

/// Why a record's value is not a payment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Not valid protobuf for `payments.v1.Payment`.
    #[error("not a payments.v1.Payment protobuf: {0}")]
    Protobuf(String),
    /// JSON that is not a payment.
    #[error("not a JSON payment: {0}")]
    Json(String),
    /// An unsupported content type header.
    #[error("unsupported content type {0:?}")]
    ContentType(String),
}

/// How a record's value encodes its payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueFormat {
    /// Protobuf `payments.v1.Payment`.
    Protobuf,
    /// JSON: proto3 JSON or the seed's.
    Json,
}

impl ValueFormat {
    /// The format `content_type` names (or, without one, what the value looks like: a value
    /// starting with `{` is JSON); an unsupported content type is an error.
    pub fn of(content_type: Option<&str>, value: &[u8]) -> Result<Self, DecodeError> {
        match content_type {
            Some(PROTOBUF_CONTENT_TYPE) => Ok(Self::Protobuf),
            Some(ct) if ct.starts_with(JSON_CONTENT_TYPE) => Ok(Self::Json),
            Some(other) => Err(DecodeError::ContentType(other.to_owned())),
            None if value.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') => {
                Ok(Self::Json)
            }
            None => Ok(Self::Protobuf),
        }
    }

    /// Decodes `value` as a payment in this format. Any bytes give a payment or an error,
    /// never a panic.
    pub fn decode(self, value: &[u8]) -> Result<pb::Payment, DecodeError> {
        match self {
            Self::Protobuf => decode_protobuf(value),
            Self::Json => decode_json(value),
        }
    }

    /// [`Self::decode`] into `out`, whatever it held: a protobuf value is decoded into the
    /// room of `out`'s text ([`payments_proto::decode_into`]), so a payment used before is
    /// filled without allocating its strings again. On an error `out` holds a default payment.
    pub fn decode_into(self, value: &[u8], out: &mut pb::Payment) -> Result<(), DecodeError> {
        match self {
            Self::Protobuf => payments_proto::decode_into(value, out)
                .map_err(|e| DecodeError::Protobuf(e.to_string())),
            Self::Json => {
                *out = decode_json(value).inspect_err(|_| *out = pb::Payment::default())?;
                Ok(())
            }
        }
    }
}

/// Decodes `value` according to `content_type` (or, without one, by sniffing: a value
/// starting with `{` is JSON). Any bytes give a payment or an error, never a panic.
pub fn decode_payment_value(
    content_type: Option<&str>,
    value: &[u8],
) -> Result<pb::Payment, DecodeError> {
    ValueFormat::of(content_type, value)?.decode(value)
}

fn decode_protobuf(value: &[u8]) -> Result<pb::Payment, DecodeError> {
    payments_proto::decode(value).map_err(|e| DecodeError::Protobuf(e.to_string()))
}

fn decode_json(value: &[u8]) -> Result<pb::Payment, DecodeError> {
    from_json_text(value).map_err(|e| DecodeError::Json(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::ach_payment;
    use prost::Message;

    #[test]
    fn protobuf_json_and_seed_json_decode() -> Result<(), DecodeError> {
        let p = ach_payment("P-1", 0);
        assert_eq!(
            decode_payment_value(Some(PROTOBUF_CONTENT_TYPE), &p.encode_to_vec())?,
            p
        );
        let json = serde_json::to_vec(&p).map_err(|e| DecodeError::Json(e.to_string()))?;
        assert_eq!(decode_payment_value(None, &json)?, p);
        let seed = serde_json::to_vec(&crate::seed_json::to_seed(&p))
            .map_err(|e| DecodeError::Json(e.to_string()))?;
        assert_eq!(decode_payment_value(None, &seed)?.payment_id, "P-1");
        Ok(())
    }

    #[test]
    fn garbage_and_truncation_are_errors() {
        assert!(matches!(
            decode_payment_value(Some(PROTOBUF_CONTENT_TYPE), &[0xff, 0x00, 0x13]),
            Err(DecodeError::Protobuf(_))
        ));
        let mut bytes = ach_payment("P-2", 0).encode_to_vec();
        bytes.truncate(bytes.len() / 2);
        assert!(matches!(
            decode_payment_value(None, &bytes),
            Err(DecodeError::Protobuf(_))
        ));
        assert!(matches!(
            decode_payment_value(None, b"{not json"),
            Err(DecodeError::Json(_))
        ));
        assert!(matches!(
            decode_payment_value(Some("text/csv"), &[1]),
            Err(DecodeError::ContentType(_))
        ));
    }
}
