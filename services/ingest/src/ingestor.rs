//! [`Ingestor`]: normalize, validate, encode, publish.

use bytes::Bytes;
use payments_bus::{BusRecord, Producer, Receipt, ValueEncoding, headers};
use payments_core::text_limits::MAX_PAYMENT_BYTES;
use payments_core::validation::Severity;
use payments_core::{
    FieldViolation, PaymentValidator, ValidationMode, ValidationOutcome, normalize, pb,
};
use payments_proto::decode_into;
use payments_runtime::TraceParent;
use prost::Message;
use std::sync::Arc;

/// Which field keys a record on the bus (and so picks its partition).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum RecordKey {
    /// The payment id: the revisions of one payment stay in order (the default).
    #[default]
    PaymentId,
    /// The originator's party id: one customer's payments stay in order.
    Originator,
    /// The rail, as the seed names it (`ACH`, `SEPA_CREDIT_TRANSFER`): similar payments stay
    /// together, under the keys the seed's consumers know.
    PaymentType,
}

impl RecordKey {
    fn of(self, payment: &pb::Payment) -> Bytes {
        match self {
            Self::PaymentId => Bytes::copy_from_slice(payment.payment_id.as_bytes()),
            Self::Originator => Bytes::copy_from_slice(
                payment
                    .originator
                    .as_ref()
                    .map(|o| o.party_id.as_bytes())
                    .unwrap_or_default(),
            ),
            Self::PaymentType => Bytes::from_static(
                payments_core::names::seed_type_name(payment.payment_type()).as_bytes(),
            ),
        }
    }
}

/// A `traceparent` header value, rendered once per request and shared (cheaply cloned) by
/// every record of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceHeader(Bytes);

impl TraceHeader {
    /// The header for records carried on behalf of `trace`.
    pub fn new(trace: &TraceParent) -> Self {
        Self(Bytes::from(trace.to_string()))
    }

    /// The header of a new trace, for work that arrived without one.
    pub fn new_root() -> Self {
        Self::new(&TraceParent::new_root())
    }
}

/// Why a payment was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// It broke rules; every failure is listed.
    #[error("payment {payment_id:?} is invalid")]
    Invalid {
        /// Its id, possibly empty.
        payment_id: String,
        /// Every failed rule.
        violations: Vec<FieldViolation>,
    },
    /// The bus did not take it; the caller may retry.
    #[error("bus unavailable")]
    Bus(#[from] payments_bus::Error),
}

impl payments_core::ServiceError for IngestError {
    fn kind(&self) -> payments_core::ErrorKind {
        match self {
            Self::Invalid { .. } => payments_core::ErrorKind::BadRequest,
            Self::Bus(e) => e.kind(),
        }
    }

    /// An invalid payment's status carries a `google.rpc.BadRequest` with every violation.
    fn to_status(&self) -> tonic::Status {
        match self {
            Self::Invalid {
                payment_id,
                violations,
            } => payments_runtime::status::invalid_payment(payment_id, violations),
            Self::Bus(e) => e.to_status(),
        }
    }
}

/// An accepted payment: its id and the warnings stored with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    /// The payment id.
    pub payment_id: String,
    /// Content rules waived in lenient mode.
    pub warnings: Vec<FieldViolation>,
}

/// `payment` as a record value in `encoding`, and the content type it was encoded in. A
/// payment proto3 JSON cannot express (an enum number no name stands for) goes as protobuf,
/// which the processor reads as well, rather than not at all.
fn encode(payment: &pb::Payment, encoding: ValueEncoding) -> (Bytes, ValueEncoding) {
    if encoding == ValueEncoding::Json {
        match serde_json::to_vec(payment) {
            Ok(json) => return (Bytes::from(json), ValueEncoding::Json),
            Err(error) => tracing::warn!(
                payment_id = %payment.payment_id,
                %error,
                "payment has no json form, published as protobuf"
            ),
        }
    }
    (
        Bytes::from(payment.encode_to_vec()),
        ValueEncoding::Protobuf,
    )
}

/// Validates payments and puts them on the bus.
#[derive(Clone)]
pub struct Ingestor {
    producer: Arc<dyn Producer>,
    topic: String,
    key: RecordKey,
    encoding: ValueEncoding,
}

impl Ingestor {
    /// An ingestor publishing to `topic` through `producer`, keyed by `key`.
    pub fn new(producer: Arc<dyn Producer>, topic: impl Into<String>, key: RecordKey) -> Self {
        Self {
            producer,
            topic: topic.into(),
            key,
            encoding: ValueEncoding::Protobuf,
        }
    }

    /// The same ingestor, encoding record values as `encoding` says (protobuf by default;
    /// a bus's [`payments_bus::Bus::value_encoding`] is what its URL asks for).
    pub fn with_encoding(mut self, encoding: ValueEncoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// Normalizes and validates `payment`; on success returns the bus record to publish,
    /// carrying `trace` as its `traceparent` header. A payment whose record the bus could
    /// not carry is refused here, on its own, naming the field `payment` and the sizes.
    pub fn prepare(
        &self,
        mut payment: pb::Payment,
        mode: ValidationMode,
        trace: &TraceHeader,
    ) -> Result<(Submitted, BusRecord), IngestError> {
        self.prepare_as_sent(&mut payment, None, mode, trace)
    }

    /// [`Self::prepare`] for a payment that arrived as the protobuf bytes `sent`. A payment
    /// that does not decode is refused on its own, naming the field `payment` and what
    /// protobuf found wrong. One that ingest leaves as it came (nothing normalized, no
    /// warnings, within [`MAX_PAYMENT_BYTES`]) goes to a protobuf bus as those bytes, and
    /// is not encoded again: fields this build does not know travel on with it.
    ///
    /// The payment is decoded into `scratch`, whatever it held: pass the same one for every
    /// payment of a stream, and each payment's text goes into the room the last one's left
    /// ([`decode_into`]). Afterwards it holds the payment as ingest checked it, less its id,
    /// which the result carries.
    pub fn prepare_encoded(
        &self,
        sent: Bytes,
        mode: ValidationMode,
        trace: &TraceHeader,
        scratch: &mut pb::Payment,
    ) -> Result<(Submitted, BusRecord), IngestError> {
        decode_into(sent.as_ref(), scratch).map_err(|error| IngestError::Invalid {
            payment_id: String::new(),
            violations: vec![FieldViolation {
                field: "payment".into(),
                description: format!("is not a protobuf Payment: {error}"),
                severity: Severity::Structural,
            }],
        })?;
        self.prepare_as_sent(scratch, Some(sent), mode, trace)
    }

    fn prepare_as_sent(
        &self,
        payment: &mut pb::Payment,
        sent: Option<Bytes>,
        mode: ValidationMode,
        trace: &TraceHeader,
    ) -> Result<(Submitted, BusRecord), IngestError> {
        let mut changed = normalize(payment);
        let warnings = match PaymentValidator::new(mode).validate(payment) {
            ValidationOutcome::Accepted { warnings } => warnings,
            ValidationOutcome::Rejected { violations } => {
                return Err(IngestError::Invalid {
                    payment_id: std::mem::take(&mut payment.payment_id),
                    violations,
                });
            }
        };
        let stamped: Vec<_> = warnings.iter().map(FieldViolation::to_warning).collect();
        changed |= stamped != payment.warnings;
        payment.warnings = stamped;
        let (value, encoding) = match sent {
            Some(sent)
                if !changed
                    && self.encoding == ValueEncoding::Protobuf
                    && sent.len() <= MAX_PAYMENT_BYTES =>
            {
                (sent, ValueEncoding::Protobuf)
            }
            _ => encode(payment, self.encoding),
        };
        let record = BusRecord {
            key: self.key.of(payment),
            value,
            headers: vec![
                (
                    headers::CONTENT_TYPE.into(),
                    Bytes::from_static(encoding.content_type().as_bytes()),
                ),
                (
                    headers::SCHEMA.into(),
                    Bytes::from_static(headers::PAYMENT_SCHEMA.as_bytes()),
                ),
                (
                    headers::VALIDATION_MODE.into(),
                    Bytes::from_static(mode.as_str().as_bytes()),
                ),
                (headers::TRACEPARENT.into(), trace.0.clone()),
            ],
        };
        let (size, limit) = (record.size(), self.producer.max_record_bytes());
        if size > limit {
            return Err(IngestError::Invalid {
                payment_id: std::mem::take(&mut payment.payment_id),
                violations: vec![FieldViolation {
                    field: "payment".into(),
                    description: format!(
                        "is {size} bytes as a bus record, above the bus's limit of {limit} bytes"
                    ),
                    severity: Severity::Structural,
                }],
            });
        }
        Ok((
            Submitted {
                payment_id: std::mem::take(&mut payment.payment_id),
                warnings,
            },
            record,
        ))
    }

    /// The producer span of one request's records (OpenTelemetry messaging conventions);
    /// their `traceparent` is taken inside it, so consumers continue from it.
    pub fn publish_span(&self, records: usize) -> tracing::Span {
        tracing::info_span!(
            "publish",
            otel.name = format!("publish {}", self.topic),
            otel.kind = "producer",
            messaging.system = self.producer.system(),
            messaging.operation.type = "send",
            messaging.destination.name = %self.topic,
            messaging.batch.message_count = records,
        )
    }

    /// Hands records already prepared to the bus, in order (waiting while its queue is
    /// full), and returns the receipt that resolves once the bus holds them all.
    pub async fn enqueue(&self, records: Vec<BusRecord>) -> Result<Receipt, IngestError> {
        Ok(self.producer.enqueue(&self.topic, records).await?)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_rail_key_is_the_seeds_type_name() {
        let mut payment = ach_payment("SEPA-KEY-1", 0);
        payment.payment_type = pb::PaymentType::Sepa as i32;
        assert_eq!(
            RecordKey::PaymentType.of(&payment).as_ref(),
            b"SEPA_CREDIT_TRANSFER"
        );
        assert_eq!(RecordKey::PaymentId.of(&payment).as_ref(), b"SEPA-KEY-1");
    }

    use super::*;
    use payments_bus::Bus;
    use payments_core::sample::ach_payment;
    use std::time::Duration;

    impl Ingestor {
        /// Prepares one payment and waits until the bus holds it.
        async fn submit(
            &self,
            payment: pb::Payment,
            mode: ValidationMode,
            trace: &TraceHeader,
        ) -> Result<Submitted, IngestError> {
            let (submitted, record) = self.prepare(payment, mode, trace)?;
            self.enqueue(vec![record]).await?.await?;
            Ok(submitted)
        }
    }

    #[tokio::test]
    async fn accepted_payment_reaches_the_bus_with_headers() -> anyhow::Result<()> {
        let bus = Bus::connect("memory://").await?;
        let ingestor = Ingestor::new(bus.producer(), "t", RecordKey::PaymentId);
        let submitted = ingestor
            .submit(
                ach_payment("P-1", 0),
                ValidationMode::Strict,
                &TraceHeader::new_root(),
            )
            .await?;
        assert_eq!(submitted.payment_id, "P-1");
        let mut consumer = bus.consumer("t", "g")?;
        let got = consumer.poll(10, Duration::from_millis(50)).await?;
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].record.key.as_ref(), b"P-1");
        assert_eq!(
            got[0].record.header(headers::SCHEMA),
            Some("payments.v1.Payment")
        );
        assert_eq!(
            got[0].record.header(headers::VALIDATION_MODE),
            Some("strict")
        );
        let traceparent = got[0]
            .record
            .header(headers::TRACEPARENT)
            .unwrap_or_default();
        assert!(
            TraceParent::parse(traceparent).is_some(),
            "traceparent {traceparent:?}"
        );
        Ok(())
    }

    #[tokio::test]
    async fn invalid_payment_never_reaches_the_bus() -> anyhow::Result<()> {
        let bus = Bus::connect("memory://").await?;
        let ingestor = Ingestor::new(bus.producer(), "t", RecordKey::PaymentId);
        let mut bad = ach_payment("P-2", 0);
        bad.amount = None;
        let err = ingestor
            .submit(bad, ValidationMode::Lenient, &TraceHeader::new_root())
            .await;
        assert!(
            matches!(err, Err(IngestError::Invalid { ref violations, .. }) if violations[0].field == "amount")
        );
        let mut consumer = bus.consumer("t", "g")?;
        assert!(
            consumer
                .poll(10, Duration::from_millis(20))
                .await?
                .is_empty()
        );
        Ok(())
    }

    /// A producer over the in-process bus whose records may take at most `limit` bytes.
    struct SmallRecords {
        inner: Arc<dyn Producer>,
        limit: usize,
    }

    #[async_trait::async_trait]
    impl Producer for SmallRecords {
        async fn enqueue(
            &self,
            topic: &str,
            records: Vec<BusRecord>,
        ) -> payments_bus::Result<Receipt> {
            self.inner.enqueue(topic, records).await
        }
        fn system(&self) -> &'static str {
            "memory"
        }
        fn max_record_bytes(&self) -> usize {
            self.limit
        }
    }

    #[tokio::test]
    async fn a_payment_the_bus_cannot_carry_is_refused_naming_its_size() -> anyhow::Result<()> {
        let bus = Bus::connect("memory://").await?;
        let producer = Arc::new(SmallRecords {
            inner: bus.producer(),
            limit: 2_000,
        });
        let ingestor = Ingestor::new(producer, "t", RecordKey::PaymentId);
        let trace = TraceHeader::new_root();
        let mut large = ach_payment("P-LARGE", 0);
        large
            .metadata
            .get_or_insert_with(Default::default)
            .attributes
            .insert("note".into(), "x".repeat(1_500));
        let refused = ingestor.prepare(large, ValidationMode::Strict, &trace);
        let Err(IngestError::Invalid { violations, .. }) = refused else {
            panic!("a record over the bus's limit must be refused");
        };
        assert_eq!(violations[0].field, "payment");
        assert!(
            violations[0]
                .description
                .contains("above the bus's limit of 2000 bytes"),
            "{violations:?}"
        );
        assert!(
            ingestor
                .prepare(ach_payment("P-SMALL", 0), ValidationMode::Strict, &trace)
                .is_ok()
        );
        Ok(())
    }

    #[tokio::test]
    async fn lenient_payment_carries_its_warnings() -> anyhow::Result<()> {
        let bus = Bus::connect("memory://").await?;
        let ingestor = Ingestor::new(bus.producer(), "t", RecordKey::Originator);
        let mut p = ach_payment("P-3", 0);
        if let Some(r) = p
            .originator
            .as_mut()
            .and_then(|o| o.account.as_mut())
            .and_then(|a| a.routing_info.as_mut())
        {
            r.value = "123456789".into();
        }
        let submitted = ingestor
            .submit(p, ValidationMode::Lenient, &TraceHeader::new_root())
            .await?;
        assert_eq!(submitted.warnings.len(), 1);
        let mut consumer = bus.consumer("t", "g")?;
        let got = consumer.poll(10, Duration::from_millis(50)).await?;
        let stored = pb::Payment::decode(got[0].record.value.as_ref())?;
        assert_eq!(
            stored.warnings[0].field,
            "originator.account.routing_info.value"
        );
        assert_eq!(got[0].record.key.as_ref(), b"CUST0001");
        Ok(())
    }
}
