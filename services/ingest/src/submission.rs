//! [`Submission`]: one message of a submission stream as ingest takes it, whichever way it
//! came: over gRPC with its payments still in protobuf bytes ([`SubmitPaymentsWire`]), or
//! as decoded payments from a caller in this process.

use bytes::Bytes;
use payments_core::{ValidationMode, pb};

/// `payments.v1.SubmitPaymentsRequest` as it comes over the wire, its payments kept as the
/// bytes that encode them. The same fields and tags, so the same messages decode as either.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct SubmitPaymentsWire {
    /// The payment, protobuf-encoded as the client sent it.
    #[prost(bytes = "bytes", optional, tag = "1")]
    pub payment: Option<Bytes>,
    /// Validation mode for this message's payments; unspecified is strict.
    #[prost(enumeration = "pb::ValidationMode", tag = "2")]
    pub validation_mode: i32,
    /// More payments, each protobuf-encoded as the client sent it.
    #[prost(bytes = "bytes", repeated, tag = "3")]
    pub payments: Vec<Bytes>,
}

/// A payment as a submission carries it.
// Each is built once and moved into ingest's check, as the request held its payment: boxing
// the decoded one would allocate for every payment of an in-process caller.
#[allow(clippy::large_enum_variant)]
pub(crate) enum SentPayment {
    /// Decoded already (an in-process caller's payment, or the generated route's).
    Decoded(pb::Payment),
    /// The bytes a client sent, decoded and checked by ingest.
    Encoded(Bytes),
}

/// One message of a submission stream: its payments in order (the message's `payment`,
/// then its `payments`), each a record of its own, and how to validate them. A message
/// without any payment is one record, which has none.
pub(crate) struct Submission {
    pub payments: Vec<SentPayment>,
    pub mode: ValidationMode,
}

impl From<pb::SubmitPaymentsRequest> for Submission {
    fn from(request: pb::SubmitPaymentsRequest) -> Self {
        Self {
            payments: request
                .payment
                .into_iter()
                .chain(request.payments)
                .map(SentPayment::Decoded)
                .collect(),
            mode: ValidationMode::from_proto(request.validation_mode),
        }
    }
}

impl From<SubmitPaymentsWire> for Submission {
    fn from(request: SubmitPaymentsWire) -> Self {
        Self {
            payments: request
                .payment
                .into_iter()
                .chain(request.payments)
                .map(SentPayment::Encoded)
                .collect(),
            mode: ValidationMode::from_proto(request.validation_mode),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use payments_core::sample::ach_payment;
    use prost::Message;

    #[test]
    fn a_request_decodes_as_the_wire_form_with_its_payments_bytes() {
        let payment = ach_payment("WIRE-1", 0);
        let more = [ach_payment("WIRE-2", 1), ach_payment("WIRE-3", 2)];
        let request = pb::SubmitPaymentsRequest {
            payment: Some(payment.clone()),
            validation_mode: pb::ValidationMode::Lenient as i32,
            payments: more.to_vec(),
        };
        let wire = SubmitPaymentsWire::decode(request.encode_to_vec().as_slice()).unwrap();
        assert_eq!(
            wire.payment.as_deref(),
            Some(payment.encode_to_vec().as_slice())
        );
        assert_eq!(wire.validation_mode, pb::ValidationMode::Lenient as i32);
        let more_bytes: Vec<Vec<u8>> = more.iter().map(Message::encode_to_vec).collect();
        assert_eq!(wire.payments, more_bytes);
        let empty = SubmitPaymentsWire::decode(&[][..]).unwrap();
        assert_eq!(empty.payment, None, "a request without a payment has none");
        assert!(empty.payments.is_empty());
    }

    #[test]
    fn a_messages_records_are_its_payment_then_its_payments() {
        let ids = |submission: Submission| -> Vec<String> {
            submission
                .payments
                .into_iter()
                .map(|sent| match sent {
                    SentPayment::Decoded(payment) => payment.payment_id,
                    SentPayment::Encoded(bytes) => {
                        pb::Payment::decode(bytes.as_ref()).unwrap().payment_id
                    }
                })
                .collect()
        };
        let request = pb::SubmitPaymentsRequest {
            payment: Some(ach_payment("FIRST", 0)),
            validation_mode: 0,
            payments: vec![ach_payment("SECOND", 1), ach_payment("THIRD", 2)],
        };
        let wire = SubmitPaymentsWire::decode(request.encode_to_vec().as_slice()).unwrap();
        assert_eq!(ids(request.into()), ["FIRST", "SECOND", "THIRD"]);
        assert_eq!(ids(wire.into()), ["FIRST", "SECOND", "THIRD"]);
        let only_more = pb::SubmitPaymentsRequest {
            payments: vec![ach_payment("ONLY", 0)],
            ..Default::default()
        };
        assert_eq!(ids(only_more.into()), ["ONLY"]);
    }
}
