//! [`Submission`]: one record of a submission stream as ingest takes it, whichever way it
//! came: over gRPC with its payment still in protobuf bytes ([`SubmitPaymentsWire`]), or
//! as a decoded payment from a caller in this process.

use bytes::Bytes;
use payments_core::{ValidationMode, pb};

/// `payments.v1.SubmitPaymentsRequest` as it comes over the wire, its payment kept as the
/// bytes that encode it. The same fields and tags, so the same messages decode as either.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct SubmitPaymentsWire {
    /// The payment, protobuf-encoded as the client sent it.
    #[prost(bytes = "bytes", optional, tag = "1")]
    pub payment: Option<Bytes>,
    /// Validation mode for this record; unspecified is strict.
    #[prost(enumeration = "pb::ValidationMode", tag = "2")]
    pub validation_mode: i32,
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

/// One record of a submission stream: its payment, if it has one, and how to validate it.
pub(crate) struct Submission {
    pub payment: Option<SentPayment>,
    pub mode: ValidationMode,
}

impl From<pb::SubmitPaymentsRequest> for Submission {
    fn from(request: pb::SubmitPaymentsRequest) -> Self {
        Self {
            payment: request.payment.map(SentPayment::Decoded),
            mode: ValidationMode::from_proto(request.validation_mode),
        }
    }
}

impl From<SubmitPaymentsWire> for Submission {
    fn from(request: SubmitPaymentsWire) -> Self {
        Self {
            payment: request.payment.map(SentPayment::Encoded),
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
        let request = pb::SubmitPaymentsRequest {
            payment: Some(payment.clone()),
            validation_mode: pb::ValidationMode::Lenient as i32,
        };
        let wire = SubmitPaymentsWire::decode(request.encode_to_vec().as_slice()).unwrap();
        assert_eq!(
            wire.payment.as_deref(),
            Some(payment.encode_to_vec().as_slice())
        );
        assert_eq!(wire.validation_mode, pb::ValidationMode::Lenient as i32);
        let empty = SubmitPaymentsWire::decode(&[][..]).unwrap();
        assert_eq!(empty.payment, None, "a request without a payment has none");
    }
}
