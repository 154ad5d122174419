//! [`PreEncodedCodec`]: a gRPC client codec whose requests were encoded beforehand.
//!
//! `bench-kafka` times ingest over gRPC against rdkafka producing records built before its
//! clock starts. Its client runs in the same process as the ingest it measures, on the same
//! cores: with requests encoded on the clock, the client's protobuf encoding (13% of that
//! leg's CPU in a profile) was charged to ingest. Encoding them first, as the produce leg
//! builds its records first, leaves only what a client elsewhere would not take from the
//! server: copying the bytes into gRPC frames.

use crate::client::Connection;
use bytes::{BufMut, Bytes};
use payments_core::pb;
use payments_ingest::MessageGroups;
use std::marker::PhantomData;
use tokio_stream::Stream;
use tonic::Status;
use tonic::codec::{Codec, EncodeBuf, Encoder};
use tonic::codegen::http::uri::PathAndQuery;
use tonic_prost::{ProstCodec, ProstDecoder};

/// Sends each request as the protobuf bytes it was encoded to beforehand, and decodes each
/// response as a `R`.
pub struct PreEncodedCodec<R> {
    response: PhantomData<fn() -> R>,
}

impl<R> Default for PreEncodedCodec<R> {
    fn default() -> Self {
        Self {
            response: PhantomData,
        }
    }
}

impl<R: prost::Message + Default + Send + 'static> Codec for PreEncodedCodec<R> {
    type Encode = Bytes;
    type Decode = R;
    type Encoder = BytesEncoder;
    /// Responses are decoded as the generated clients decode them.
    type Decoder = ProstDecoder<R>;

    fn encoder(&mut self) -> BytesEncoder {
        BytesEncoder
    }

    fn decoder(&mut self) -> ProstDecoder<R> {
        ProstCodec::<(), R>::default().decoder()
    }
}

/// Copies a request's bytes into its frame.
pub struct BytesEncoder;

impl Encoder for BytesEncoder {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

/// The request submitting `payment` for strict validation, as the benches encode it
/// beforehand. The payment is in the repeated `payments`, so that such requests' bytes put
/// back to back are one request carrying all their payments ([`joined`]).
pub fn strict_request(payment: pb::Payment) -> pb::SubmitPaymentsRequest {
    pb::SubmitPaymentsRequest {
        payment: None,
        validation_mode: pb::ValidationMode::Strict as i32,
        payments: vec![payment],
    }
}

/// `requests`, each a [`strict_request`] encoded, joined into the messages a client sends:
/// grouped as [`MessageGroups`] groups them, at most `per_message` a message, each group's
/// bytes back to back (protobuf appends the values of a repeated field met again, and every
/// request has the same validation mode).
pub fn joined(requests: Vec<Bytes>, per_message: usize) -> Vec<Bytes> {
    MessageGroups::with_limit(requests, Bytes::len, per_message)
        .map(|group| match <[Bytes; 1]>::try_from(group) {
            Ok([one]) => one,
            Err(group) => Bytes::from(group.concat()),
        })
        .collect()
}

/// Submits `requests`, each a `SubmitPaymentsRequest` encoded beforehand, on one
/// `SubmitPayments` stream over `channel`, and returns ingest's summary.
pub async fn submit_pre_encoded(
    channel: Connection,
    requests: impl Stream<Item = Bytes> + Send + 'static,
) -> Result<pb::SubmitPaymentsResponse, Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| Status::unknown(format!("ingest was not ready: {e}")))?;
    let path = PathAndQuery::from_static("/payments.v1.IngestService/SubmitPayments");
    let request = tonic::Request::new(requests);
    grpc.client_streaming(request, path, PreEncodedCodec::default())
        .await
        .map(tonic::Response::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::ServerArg;
    use payments_bus::Bus;
    use payments_ingest::LocalIngest;
    use prost::Message;
    use std::time::Duration;

    #[tokio::test]
    async fn pre_encoded_requests_joined_reach_ingest_as_the_payments_they_encode()
    -> anyhow::Result<()> {
        let bus = Bus::connect("memory://").await?;
        let ingest = LocalIngest::start(&bus, "t").await?;
        let payments: Vec<pb::Payment> = (0..5)
            .map(|i| payments_core::sample::ach_payment(&format!("PRE-{i}"), i))
            .collect();
        let requests: Vec<Bytes> = payments
            .iter()
            .map(|payment| Bytes::from(strict_request(payment.clone()).encode_to_vec()))
            .collect();
        let messages = joined(requests, 2);
        assert_eq!(messages.len(), 3, "five payments, at most two a message");
        let second = pb::SubmitPaymentsRequest::decode(messages[1].as_ref())?;
        assert_eq!(second.payments, payments[2..4]);
        assert_eq!(second.validation_mode, pb::ValidationMode::Strict as i32);
        let channel = crate::client::connect(&ServerArg::plain(&ingest.addr().to_string())).await?;
        let summary = submit_pre_encoded(channel, tokio_stream::iter(messages)).await?;
        assert_eq!((summary.accepted, summary.rejected), (5, 0));
        let mut consumer = bus.consumer("t", "g")?;
        let delivered = consumer.poll(10, Duration::from_secs(1)).await?;
        let stored: Vec<pb::Payment> = delivered
            .iter()
            .map(|d| pb::Payment::decode(d.record.value.as_ref()))
            .collect::<Result<_, _>>()?;
        assert_eq!(stored.len(), 5);
        for (got, sent) in stored.iter().zip(&payments) {
            assert_eq!(got.payment_id, sent.payment_id);
        }
        ingest.stop().await?;
        Ok(())
    }
}
