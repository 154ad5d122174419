//! The flat columns every backend indexes, derived from a payment in one place.

use bytes::Bytes;
use payments_core::pb;
use payments_core::time::timestamp_micros;
use prost::Message;

/// A payment flattened for storage.
#[derive(Debug, Clone)]
pub struct PaymentColumns {
    /// `payment_id`.
    pub payment_id: String,
    /// Lifecycle revision.
    pub revision: i64,
    /// Rail (protobuf enum value).
    pub payment_type: i32,
    /// Status (protobuf enum value).
    pub status: i32,
    /// `created_at` in microseconds since the epoch.
    pub created_micros: i64,
    /// Originator party id.
    pub originator_id: String,
    /// Beneficiary party id.
    pub beneficiary_id: String,
    /// Amount in minor units.
    pub amount_minor: i64,
    /// ISO 4217 currency.
    pub currency: String,
    /// The seed's row key with the payment id.
    pub row_key: String,
    /// The whole payment, protobuf-encoded (the encoding given, shared, not copied).
    pub body: Bytes,
}

impl PaymentColumns {
    /// Flattens `payment`.
    pub fn new(payment: &pb::Payment) -> Self {
        Self::with_encoding(payment, None)
    }

    /// Flattens `payment`, whose protobuf encoding is `encoded` when given (see
    /// [`crate::Sink::upsert_encoded`]): the body is then those bytes, not encoded again.
    pub fn with_encoding(payment: &pb::Payment, encoded: Option<&Bytes>) -> Self {
        let amount = payment.amount.as_ref();
        Self {
            payment_id: payment.payment_id.clone(),
            revision: i64::from(payment.revision),
            payment_type: payment.payment_type,
            status: payment.status,
            created_micros: payment
                .created_at
                .as_ref()
                .map(timestamp_micros)
                .unwrap_or_default(),
            originator_id: payment
                .originator
                .as_ref()
                .map(|p| p.party_id.clone())
                .unwrap_or_default(),
            beneficiary_id: payment
                .beneficiary
                .as_ref()
                .map(|p| p.party_id.clone())
                .unwrap_or_default(),
            amount_minor: amount.map(|a| a.minor_units).unwrap_or_default(),
            currency: amount.map(|a| a.currency.clone()).unwrap_or_default(),
            row_key: payments_core::row_key(payment),
            body: encoded.map_or_else(|| Bytes::from(payment.encode_to_vec()), Bytes::clone),
        }
    }
}

/// The encoding given for `payments[index]` in [`crate::Sink::upsert_encoded`]'s `encoded`.
pub fn encoded_at(encoded: &[Option<Bytes>], index: usize) -> Option<&Bytes> {
    encoded.get(index).and_then(Option::as_ref)
}

/// Decodes a stored body, naming the row when it is corrupt.
pub fn decode_body(payment_id: &str, body: &[u8]) -> crate::Result<pb::Payment> {
    payments_proto::decode(body).map_err(|e| crate::Error::Corrupt {
        payment_id: payment_id.to_owned(),
        reason: e.to_string(),
    })
}
