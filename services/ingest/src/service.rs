//! `payments.v1.IngestService` over gRPC.

use crate::counters::IngestMetrics;
use crate::ingest::Ingest;
use crate::server::IngestServer;
use crate::submission::{SentPayment, Submission};
use crate::{IngestError, Ingestor, TraceHeader};
use payments_bus::{BusRecord, Receipt};
use payments_core::ServiceError;
use payments_core::ValidationMode;
use payments_core::pb::{self, ingest_service_server::IngestService};
use payments_runtime::TraceParent;
use payments_runtime::deadline::{CallDeadline, within};
use payments_runtime::status::invalid_field;
use std::collections::VecDeque;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};
use tracing::Instrument;

/// Most rejected records a summary details (all are counted in `rejected`), so that a bad
/// file's summary stays far below clients' default 4 MiB message limit.
pub const MAX_DETAILED_REJECTIONS: usize = 1_000;

/// Counts a rejected record and details it while the summary has room.
fn reject(summary: &mut pb::SubmitPaymentsResponse, record: pb::RejectedRecord) {
    IngestMetrics::get().rejected(record.violations.first().map_or("", |v| v.field.as_str()));
    summary.rejected += 1;
    if summary.rejections.len() < MAX_DETAILED_REJECTIONS {
        summary.rejections.push(record);
    }
}

/// Records buffered from a submission stream before they are handed to the bus together.
const PUBLISH_BATCH: usize = 512;

/// Batches of one stream handed to the bus but not yet confirmed; past this the stream
/// waits for the oldest (back-pressure towards the client), so at most
/// `PUBLISH_BATCH * MAX_BATCHES_IN_FLIGHT` records are unconfirmed at once.
const MAX_BATCHES_IN_FLIGHT: usize = 32;

/// A batch handed to the bus: its receipt and what it counts once confirmed.
struct InFlight {
    receipt: Receipt,
    records: u64,
    warned: u64,
}

/// Serves IngestService over an [`Ingestor`].
#[derive(Clone)]
pub struct IngestGrpc {
    ingestor: Ingestor,
}

impl IngestGrpc {
    /// A service over `ingestor`.
    pub fn new(ingestor: Ingestor) -> Self {
        Self { ingestor }
    }

    /// The gRPC server for this service, with message size limits: `SubmitPayments` takes
    /// each payment as the bytes the client encoded ([`IngestServer`]).
    pub fn into_server(self) -> IngestServer {
        IngestServer::new(self)
    }
}

fn to_status(error: IngestError) -> Status {
    error.to_status()
}

#[tonic::async_trait]
impl IngestService for IngestGrpc {
    async fn submit_payment(
        &self,
        request: Request<pb::SubmitPaymentRequest>,
    ) -> Result<Response<pb::SubmitPaymentResponse>, Status> {
        let span = self.ingestor.publish_span(1);
        let trace =
            span.in_scope(|| TraceHeader::new(&TraceParent::continue_from(request.metadata())));
        let deadline = CallDeadline::from_metadata(request.metadata());
        within(
            deadline,
            self.submit_one(request.into_inner(), trace)
                .instrument(span),
        )
        .await
        .unwrap_or_else(|passed| {
            Err(passed.to_status(
                "before the bus confirmed the payment; it may still be stored, and \
                 resubmitting it with the same id is safe",
            ))
        })
    }

    /// Reached only through tonic's generated server: [`IngestServer`] serves this method
    /// on the requests' wire form, through the same [`IngestGrpc::submit_requests`].
    async fn submit_payments(
        &self,
        request: Request<Streaming<pb::SubmitPaymentsRequest>>,
    ) -> Result<Response<pb::SubmitPaymentsResponse>, Status> {
        self.submit_requests(request).await
    }
}

impl IngestGrpc {
    /// `SubmitPayments` over a stream of its requests, in whichever form they were decoded.
    pub(crate) async fn submit_requests<M>(
        &self,
        request: Request<Streaming<M>>,
    ) -> Result<Response<pb::SubmitPaymentsResponse>, Status>
    where
        M: Into<Submission> + Send + 'static,
    {
        let span = self.ingestor.publish_span(0);
        let trace =
            span.in_scope(|| TraceHeader::new(&TraceParent::continue_from(request.metadata())));
        let deadline = CallDeadline::from_metadata(request.metadata());
        let mut summary = pb::SubmitPaymentsResponse::default();
        let result = within(
            deadline,
            self.submit_stream(
                request.into_inner().map(|item| item.map(Into::into)),
                trace,
                &mut summary,
            )
            .instrument(span.clone()),
        )
        .await
        .map(|done| done.map(|()| Response::new(std::mem::take(&mut summary))))
        .unwrap_or_else(|passed| {
            tracing::warn!(
                received = summary.received,
                accepted = summary.accepted,
                timeout_ms = passed.timeout.as_millis() as u64,
                "submission stream stopped at the caller's deadline"
            );
            let unconfirmed = summary
                .received
                .saturating_sub(summary.accepted + summary.rejected);
            Err(passed.to_status(&format!(
                "after {} records: {} confirmed by the bus, {} rejected as invalid, {} not \
                 confirmed (they may or may not be stored; resubmitting them with the same ids \
                 is safe)",
                summary.received, summary.accepted, summary.rejected, unconfirmed
            )))
        });
        if let Ok(summary) = &result {
            span.record("messaging.batch.message_count", summary.get_ref().accepted);
        }
        result
    }

    async fn submit_one(
        &self,
        request: pb::SubmitPaymentRequest,
        trace: TraceHeader,
    ) -> Result<Response<pb::SubmitPaymentResponse>, Status> {
        let payment = request
            .payment
            .ok_or_else(|| invalid_field("payment", "is required"))?;
        let (submitted, record) = tracing::info_span!("validate payment")
            .in_scope(|| {
                self.ingestor.prepare(
                    payment,
                    ValidationMode::from_proto(request.validation_mode),
                    &trace,
                )
            })
            .map_err(|e| {
                if let IngestError::Invalid { violations, .. } = &e {
                    IngestMetrics::get().rejected_for(violations);
                }
                to_status(e)
            })?;
        IngestMetrics::get().accepted.increment(1);
        let receipt = self
            .ingestor
            .enqueue(vec![record])
            .await
            .map_err(to_status)?;
        receipt.await.map_err(|e| to_status(IngestError::Bus(e)))?;
        IngestMetrics::get().produced.increment(1);
        Ok(Response::new(pb::SubmitPaymentResponse {
            payment_id: submitted.payment_id,
            warnings: submitted.warnings.iter().map(|w| w.to_warning()).collect(),
        }))
    }

    async fn submit_stream<S>(
        &self,
        mut stream: S,
        trace: TraceHeader,
        summary: &mut pb::SubmitPaymentsResponse,
    ) -> Result<(), Status>
    where
        S: Stream<Item = Result<Submission, Status>> + Unpin + Send,
    {
        let mut pending: Vec<BusRecord> = Vec::with_capacity(PUBLISH_BATCH);
        let mut pending_warned = 0;
        let mut in_flight: VecDeque<InFlight> = VecDeque::new();
        // Looked up once per stream, not per record: the stream is the hot path.
        let accepted = &IngestMetrics::get().accepted;
        // Each payment sent encoded is decoded into the one before it (`decode_into`).
        let mut scratch = pb::Payment::default();
        loop {
            let submission = match stream.next().await {
                Some(Ok(submission)) => submission,
                None => break,
                Some(Err(status)) => {
                    // The client broke the stream: publish nothing more and say so.
                    tracing::warn!(received = summary.received, %status, "submission stream broken by client");
                    return Err(status);
                }
            };
            if submission.payments.is_empty() {
                let index = summary.received;
                summary.received += 1;
                reject(
                    summary,
                    pb::RejectedRecord {
                        index,
                        payment_id: String::new(),
                        violations: vec![pb::FieldViolation {
                            field: "payment".into(),
                            description: "is required".into(),
                        }],
                    },
                );
                continue;
            }
            for payment in submission.payments {
                let index = summary.received;
                summary.received += 1;
                let prepared = match payment {
                    SentPayment::Decoded(payment) => {
                        self.ingestor.prepare(payment, submission.mode, &trace)
                    }
                    SentPayment::Encoded(sent) => {
                        self.ingestor
                            .prepare_encoded(sent, submission.mode, &trace, &mut scratch)
                    }
                };
                match prepared {
                    Ok((submitted, record)) => {
                        accepted.increment(1);
                        pending.push(record);
                        pending_warned += u64::from(!submitted.warnings.is_empty());
                    }
                    Err(IngestError::Invalid {
                        payment_id,
                        violations,
                    }) => {
                        reject(
                            summary,
                            pb::RejectedRecord {
                                index,
                                payment_id,
                                violations: violations.iter().map(|v| v.to_proto()).collect(),
                            },
                        );
                    }
                    Err(e) => return Err(to_status(e)),
                }
                if pending.len() >= PUBLISH_BATCH {
                    self.hand_over(&mut pending, &mut pending_warned, &mut in_flight, summary)
                        .await?;
                }
            }
        }
        self.hand_over(&mut pending, &mut pending_warned, &mut in_flight, summary)
            .await?;
        while !in_flight.is_empty() {
            confirm_oldest(&mut in_flight, summary).await?;
        }
        tracing::info!(
            received = summary.received,
            accepted = summary.accepted,
            rejected = summary.rejected,
            "submission stream done"
        );
        Ok(())
    }
}

/// In-process callers (the generator in the same app) submit through the same stream
/// handling as gRPC clients.
#[async_trait::async_trait]
impl Ingest for IngestGrpc {
    async fn submit_batch(
        &self,
        payments: &[pb::Payment],
    ) -> Result<pb::SubmitPaymentsResponse, Status> {
        let span = self.ingestor.publish_span(payments.len());
        // A batch handed over in-process continues the caller's trace, or starts one.
        let trace = span.in_scope(|| {
            TraceHeader::new(&TraceParent::current().unwrap_or_else(TraceParent::new_root))
        });
        let mut summary = pb::SubmitPaymentsResponse::default();
        // In-process, no message has a size to keep under: the batch is one submission (and
        // an empty batch none, which a submission without payments would be a record of).
        let submission = Submission {
            payments: payments.iter().cloned().map(SentPayment::Decoded).collect(),
            mode: ValidationMode::Strict,
        };
        let requests = tokio_stream::iter((!payments.is_empty()).then_some(Ok(submission)));
        self.submit_stream(requests, trace, &mut summary)
            .instrument(span)
            .await?;
        Ok(summary)
    }
}

impl IngestGrpc {
    /// Hands the buffered records to the bus; waits for the oldest batch first when too
    /// many are unconfirmed.
    async fn hand_over(
        &self,
        pending: &mut Vec<BusRecord>,
        warned: &mut u64,
        in_flight: &mut VecDeque<InFlight>,
        summary: &mut pb::SubmitPaymentsResponse,
    ) -> Result<(), Status> {
        if pending.is_empty() {
            return Ok(());
        }
        while in_flight.len() >= MAX_BATCHES_IN_FLIGHT {
            confirm_oldest(in_flight, summary).await?;
        }
        let records = pending.len() as u64;
        let receipt = self
            .ingestor
            // The next batch starts with room for a whole batch, not grown from nothing.
            .enqueue(std::mem::replace(
                pending,
                Vec::with_capacity(PUBLISH_BATCH),
            ))
            .await
            .map_err(|e| bus_failed(summary, &e))?;
        in_flight.push_back(InFlight {
            receipt,
            records,
            warned: std::mem::take(warned),
        });
        Ok(())
    }
}

/// Waits until the bus holds the oldest batch in flight and counts it as accepted.
async fn confirm_oldest(
    in_flight: &mut VecDeque<InFlight>,
    summary: &mut pb::SubmitPaymentsResponse,
) -> Result<(), Status> {
    let Some(batch) = in_flight.pop_front() else {
        return Ok(());
    };
    batch
        .receipt
        .await
        .map_err(|e| bus_failed(summary, &IngestError::Bus(e)))?;
    summary.accepted += batch.records;
    summary.accepted_with_warnings += batch.warned;
    IngestMetrics::get().produced.increment(batch.records);
    Ok(())
}

/// UNAVAILABLE, saying how many records the bus had confirmed before it failed.
fn bus_failed(summary: &pb::SubmitPaymentsResponse, error: &IngestError) -> Status {
    Status::unavailable(format!(
        "bus unavailable after {} of {} records were accepted: {}",
        summary.accepted,
        summary.received,
        error.explain()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RecordKey;
    use bytes::Bytes;
    use payments_bus::Bus;
    use payments_core::sample::ach_payment;
    use prost::Message;
    use std::time::Duration;

    #[tokio::test]
    async fn an_in_process_batch_is_one_record_a_payment_and_an_empty_batch_none()
    -> anyhow::Result<()> {
        let bus = Bus::connect("memory://").await?;
        let ingest = IngestGrpc::new(Ingestor::new(bus.producer(), "t", RecordKey::PaymentId));
        let mut invalid = ach_payment("IN-2", 0);
        invalid.amount = None;
        let batch = [ach_payment("IN-1", 0), invalid, ach_payment("IN-3", 0)];
        let summary = ingest.submit_batch(&batch).await?;
        assert_eq!(
            (summary.received, summary.accepted, summary.rejected),
            (3, 2, 1)
        );
        assert_eq!(
            (
                summary.rejections[0].index,
                summary.rejections[0].payment_id.as_str()
            ),
            (1, "IN-2")
        );
        let empty = ingest.submit_batch(&[]).await?;
        assert_eq!((empty.received, empty.rejected), (0, 0));
        let mut consumer = bus.consumer("t", "g")?;
        let stored = consumer.poll(10, Duration::from_secs(1)).await?;
        assert_eq!(stored.len(), 2);
        Ok(())
    }

    #[tokio::test]
    async fn each_payment_of_a_stream_is_checked_as_sent_not_as_the_one_before_it()
    -> anyhow::Result<()> {
        // Each payment sent encoded is decoded into the one before it: a part the one before
        // had and this one lacks must be missing, not left over.
        let bus = Bus::connect("memory://").await?;
        let ingest = IngestGrpc::new(Ingestor::new(bus.producer(), "t", RecordKey::PaymentId));
        let mut no_amount = ach_payment("IN-2", 0);
        no_amount.amount = None;
        let mut no_originator = ach_payment("IN-4", 0);
        no_originator.originator = None;
        let sent = [
            ach_payment("IN-1", 0),
            no_amount,
            ach_payment("IN-3", 0),
            no_originator,
            ach_payment("IN-5", 0),
        ]
        .map(|payment| Bytes::from(payment.encode_to_vec()));
        let submission = Submission {
            payments: sent.iter().cloned().map(SentPayment::Encoded).collect(),
            mode: ValidationMode::Strict,
        };
        let mut summary = pb::SubmitPaymentsResponse::default();
        let trace = TraceHeader::new(&TraceParent::new_root());
        ingest
            .submit_stream(tokio_stream::iter([Ok(submission)]), trace, &mut summary)
            .await?;
        let rejected: Vec<_> = summary
            .rejections
            .iter()
            .map(|r| (r.index, r.payment_id.as_str()))
            .collect();
        assert_eq!(rejected, [(1, "IN-2"), (3, "IN-4")]);
        let reasons: Vec<Vec<(&str, &str)>> = summary
            .rejections
            .iter()
            .map(|r| {
                r.violations
                    .iter()
                    .map(|v| (v.field.as_str(), v.description.as_str()))
                    .collect()
            })
            .collect();
        assert_eq!(
            reasons,
            [[("amount", "is required")], [("originator", "is required")]]
        );
        let mut consumer = bus.consumer("t", "g")?;
        let stored = consumer.poll(10, Duration::from_secs(1)).await?;
        let values: Vec<_> = stored.iter().map(|d| d.record.value.clone()).collect();
        assert_eq!(values, [sent[0].clone(), sent[2].clone(), sent[4].clone()]);
        Ok(())
    }
}
