//! [`IngestServer`]: IngestService's gRPC server, whose `SubmitPayments` takes each payment
//! as the bytes the client encoded it to.
//!
//! tonic's generated server decodes every request into its message; for `SubmitPayments`
//! that would lose the payment's bytes, which ingest otherwise encodes again for the bus
//! (a payment decoded, checked and unchanged is those bytes). This server routes
//! `SubmitPayments` to the same stream handling over [`SubmitPaymentsWire`], the request's
//! wire form, and every other method to the generated server.

use crate::IngestGrpc;
use crate::submission::SubmitPaymentsWire;
use payments_core::pb;
use payments_core::pb::ingest_service_server::{IngestServiceServer, SERVICE_NAME};
use payments_proto::SliceCodec;
use std::convert::Infallible;
use std::task::{Context, Poll};
use tonic::body::Body;
use tonic::codegen::BoxFuture;
use tonic::server::{ClientStreamingService, Grpc, NamedService};
use tonic::{Request, Response, Status, Streaming};
use tower_service::Service;

/// The path of `SubmitPayments`, which this server answers itself.
const SUBMIT_PAYMENTS: &str = "/payments.v1.IngestService/SubmitPayments";

/// IngestService over gRPC: `SubmitPayments` on its requests' wire form, the rest through
/// tonic's generated server; both with the same message size limit.
#[derive(Clone)]
pub struct IngestServer {
    service: IngestGrpc,
    generated: IngestServiceServer<IngestGrpc>,
}

impl IngestServer {
    /// The server of `service`.
    pub(crate) fn new(service: IngestGrpc) -> Self {
        let generated = IngestServiceServer::new(service.clone())
            .max_decoding_message_size(payments_runtime::grpc::MAX_MESSAGE_BYTES);
        Self { service, generated }
    }
}

impl Service<http::Request<Body>> for IngestServer {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Infallible>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        if request.uri().path() != SUBMIT_PAYMENTS {
            return self.generated.call(request);
        }
        let route = SubmitPaymentsRoute(self.service.clone());
        Box::pin(async move {
            let mut grpc =
                Grpc::new(SliceCodec::<pb::SubmitPaymentsResponse, SubmitPaymentsWire>::default())
                    .apply_max_message_size_config(
                        Some(payments_runtime::grpc::MAX_MESSAGE_BYTES),
                        None,
                    );
            Ok(grpc.client_streaming(route, request).await)
        })
    }
}

impl NamedService for IngestServer {
    const NAME: &'static str = SERVICE_NAME;
}

/// `SubmitPayments` over its requests' wire form.
struct SubmitPaymentsRoute(IngestGrpc);

impl ClientStreamingService<SubmitPaymentsWire> for SubmitPaymentsRoute {
    type Response = pb::SubmitPaymentsResponse;
    type Future = BoxFuture<Response<pb::SubmitPaymentsResponse>, Status>;

    fn call(&mut self, request: Request<Streaming<SubmitPaymentsWire>>) -> Self::Future {
        let service = self.0.clone();
        Box::pin(async move { service.submit_requests(request).await })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LocalIngest;
    use bytes::{Bytes, BytesMut};
    use payments_bus::Bus;
    use payments_core::sample::ach_payment;
    use prost::Message;
    use std::time::Duration;
    use tonic::codegen::http::uri::PathAndQuery;

    /// Submits `payments` (each the bytes of a payment, or none), a message each, over gRPC
    /// to an ingest on a memory bus, and returns its summary and the values of the records
    /// it published.
    async fn submit(
        payments: Vec<Option<Bytes>>,
    ) -> anyhow::Result<(pb::SubmitPaymentsResponse, Vec<Bytes>)> {
        let messages = payments.into_iter().map(|payment| SubmitPaymentsWire {
            payment,
            validation_mode: pb::ValidationMode::Strict as i32,
            payments: Vec::new(),
        });
        submit_messages(messages.collect()).await
    }

    /// Submits `messages` over gRPC to an ingest on a memory bus, and returns its summary
    /// and the values of the records it published.
    async fn submit_messages(
        messages: Vec<SubmitPaymentsWire>,
    ) -> anyhow::Result<(pb::SubmitPaymentsResponse, Vec<Bytes>)> {
        let bus = Bus::connect("memory://").await?;
        let ingest = LocalIngest::start(&bus, "t").await?;
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", ingest.addr()))?
            .connect()
            .await?;
        let mut grpc = tonic::client::Grpc::new(channel);
        grpc.ready().await?;
        let summary = grpc
            .client_streaming(
                Request::new(tokio_stream::iter(messages)),
                PathAndQuery::from_static(SUBMIT_PAYMENTS),
                SliceCodec::<SubmitPaymentsWire, pb::SubmitPaymentsResponse>::default(),
            )
            .await?
            .into_inner();
        let mut consumer = bus.consumer("t", "g")?;
        let values = consumer
            .poll(100, Duration::from_secs(1))
            .await?
            .into_iter()
            .map(|delivery| delivery.record.value)
            .collect();
        ingest.stop().await?;
        Ok((summary, values))
    }

    fn encoded(payment: &pb::Payment) -> Bytes {
        Bytes::from(payment.encode_to_vec())
    }

    /// `payment`'s bytes followed by field 1000, which `Payment` does not have, holding
    /// `unknown`.
    fn with_unknown_field(payment: &pb::Payment, unknown: &[u8]) -> Bytes {
        let mut bytes = BytesMut::from(encoded(payment).as_ref());
        prost::encoding::bytes::encode(1000, &unknown.to_vec(), &mut bytes);
        bytes.freeze()
    }

    #[tokio::test]
    async fn a_payment_whose_bytes_do_not_decode_is_refused_alone() -> anyhow::Result<()> {
        let broken = Bytes::from_static(&[0x0a, 0xff, 0x01, b'P']);
        let (summary, values) = submit(vec![
            Some(encoded(&ach_payment("P-1", 0))),
            Some(broken),
            None,
            Some(encoded(&ach_payment("P-4", 0))),
        ])
        .await?;
        assert_eq!(
            (summary.received, summary.accepted, summary.rejected),
            (4, 2, 2)
        );
        let broken = &summary.rejections[0];
        assert_eq!(
            (broken.index, broken.violations[0].field.as_str()),
            (1, "payment")
        );
        assert!(
            broken.violations[0]
                .description
                .starts_with("is not a protobuf Payment: failed to decode"),
            "{broken:?}"
        );
        let missing = &summary.rejections[1];
        assert_eq!(
            (missing.index, missing.violations[0].description.as_str()),
            (2, "is required")
        );
        let ids: Vec<String> = values
            .iter()
            .map(|value| pb::Payment::decode(value.as_ref()).map(|p| p.payment_id))
            .collect::<Result<_, _>>()?;
        assert_eq!(ids, ["P-1", "P-4"]);
        Ok(())
    }

    #[tokio::test]
    async fn each_payment_of_a_message_is_a_record_of_its_own_and_a_bad_one_is_refused_alone()
    -> anyhow::Result<()> {
        let broken = Bytes::from_static(&[0x0a, 0xff, 0x01, b'P']);
        let ids = |ids: &[&str]| -> Vec<Bytes> {
            ids.iter().map(|id| encoded(&ach_payment(id, 0))).collect()
        };
        let (summary, values) = submit_messages(vec![
            SubmitPaymentsWire {
                payment: Some(encoded(&ach_payment("P-1", 0))),
                validation_mode: 0,
                payments: [ids(&["P-2"]), vec![broken], ids(&["P-4"])].concat(),
            },
            SubmitPaymentsWire::default(),
            SubmitPaymentsWire {
                payment: None,
                validation_mode: 0,
                payments: ids(&["P-6", "P-7"]),
            },
        ])
        .await?;
        assert_eq!(
            (summary.received, summary.accepted, summary.rejected),
            (7, 5, 2)
        );
        let refused: Vec<(u64, &str)> = summary
            .rejections
            .iter()
            .map(|r| (r.index, r.violations[0].description.as_str()))
            .collect();
        assert_eq!(refused[0].0, 2, "counted across the message's payments");
        assert!(refused[0].1.starts_with("is not a protobuf Payment"));
        assert_eq!(
            refused[1],
            (4, "is required"),
            "a message without any payment"
        );
        let stored: Vec<String> = values
            .iter()
            .map(|value| pb::Payment::decode(value.as_ref()).map(|p| p.payment_id))
            .collect::<Result<_, _>>()?;
        assert_eq!(stored, ["P-1", "P-2", "P-4", "P-6", "P-7"]);
        Ok(())
    }

    #[tokio::test]
    async fn a_payment_ingest_leaves_as_it_came_travels_as_its_bytes_and_any_other_is_encoded_again()
    -> anyhow::Result<()> {
        let kept = with_unknown_field(&ach_payment("P-1", 0), b"from a newer client");
        let mut lower_case = ach_payment("P-2", 0);
        if let Some(amount) = lower_case.amount.as_mut() {
            amount.currency = "usd".into();
        }
        let oversized = with_unknown_field(&ach_payment("P-3", 0), &[7; 70_000]);
        let (summary, values) = submit(vec![
            Some(kept.clone()),
            Some(encoded(&lower_case)),
            Some(oversized),
        ])
        .await?;
        assert_eq!((summary.accepted, summary.rejected), (3, 0));
        assert_eq!(
            values[0], kept,
            "unchanged: the bytes sent, unknown field and all"
        );
        let normalized = pb::Payment::decode(values[1].as_ref())?;
        assert_eq!(
            normalized.amount.map(|a| a.currency).as_deref(),
            Some("USD")
        );
        assert_eq!(
            values[2],
            encoded(&ach_payment("P-3", 0)),
            "past the payment size limit as sent: encoded again, without what it does not know"
        );
        Ok(())
    }
}
