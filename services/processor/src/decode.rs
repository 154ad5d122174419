//! Record value → `Payment`: protobuf (our producers), the seed's JSON (legacy Python
//! producers: JSON value, no headers) or protobuf JSON.

use payments_bus::{BusRecord, headers};
use payments_core::pb;
use payments_core::seed_json::from_json_text;
use prost::Message;

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

/// Decodes a record's value according to its content type (or, without one, by sniffing:
/// a value starting with `{` is JSON).
pub fn decode_payment(record: &BusRecord) -> Result<pb::Payment, DecodeError> {
    let value = record.value.as_ref();
    let content_type = record.header(headers::CONTENT_TYPE);
    let looks_json = value.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    match content_type {
        Some(headers::PROTOBUF) => decode_protobuf(value),
        Some(ct) if ct.starts_with("application/json") => decode_json(value),
        Some(other) => Err(DecodeError::ContentType(other.to_owned())),
        None if looks_json => decode_json(value),
        None => decode_protobuf(value),
    }
}

fn decode_protobuf(value: &[u8]) -> Result<pb::Payment, DecodeError> {
    pb::Payment::decode(value).map_err(|e| DecodeError::Protobuf(e.to_string()))
}

fn decode_json(value: &[u8]) -> Result<pb::Payment, DecodeError> {
    from_json_text(value).map_err(|e| DecodeError::Json(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use payments_core::sample::ach_payment;

    fn record(value: Vec<u8>, content_type: Option<&str>) -> BusRecord {
        BusRecord {
            key: Bytes::new(),
            value: Bytes::from(value),
            headers: content_type
                .map(|ct| vec![(headers::CONTENT_TYPE.to_owned(), Bytes::from(ct.to_owned()))])
                .unwrap_or_default(),
        }
    }

    #[test]
    fn protobuf_json_and_seed_json_decode() -> Result<(), DecodeError> {
        let p = ach_payment("P-1", 0);
        assert_eq!(
            decode_payment(&record(p.encode_to_vec(), Some(headers::PROTOBUF)))?,
            p
        );
        let json = serde_json::to_vec(&p).map_err(|e| DecodeError::Json(e.to_string()))?;
        assert_eq!(decode_payment(&record(json, None))?, p);
        let seed = serde_json::to_vec(&payments_core::seed_json::to_seed(&p))
            .map_err(|e| DecodeError::Json(e.to_string()))?;
        assert_eq!(decode_payment(&record(seed, None))?.payment_id, "P-1");
        Ok(())
    }

    #[test]
    fn garbage_and_truncation_are_errors() {
        assert!(matches!(
            decode_payment(&record(vec![0xff, 0x00, 0x13], Some(headers::PROTOBUF))),
            Err(DecodeError::Protobuf(_))
        ));
        let mut bytes = ach_payment("P-2", 0).encode_to_vec();
        bytes.truncate(bytes.len() / 2);
        assert!(matches!(
            decode_payment(&record(bytes, None)),
            Err(DecodeError::Protobuf(_))
        ));
        assert!(matches!(
            decode_payment(&record(b"{not json".to_vec(), None)),
            Err(DecodeError::Json(_))
        ));
        assert!(matches!(
            decode_payment(&record(vec![1], Some("text/csv"))),
            Err(DecodeError::ContentType(_))
        ));
    }
}
