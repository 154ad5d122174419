//! [`prepare`]: one consumed batch decoded, normalized and validated into the payments to
//! write and the records to dead-letter.

use crate::dead_letter::dead_letter;
use crate::decode::decode_payment_into;
use bytes::Bytes;
use payments_bus::{BusRecord, Delivery, headers};
use payments_core::payment_value::ValueFormat;
use payments_core::text_limits::MAX_PAYMENT_BYTES;
use payments_core::{PaymentValidator, ValidationMode, ValidationOutcome, normalize, pb};

/// The metadata attribute holding the producer's trace id.
pub const TRACE_ID_ATTRIBUTE: &str = "trace_id";

/// One batch after decoding and validation.
#[derive(Default)]
pub struct Prepared {
    /// The payments to write, in the batch's order.
    pub payments: Vec<pb::Payment>,
    /// For each of `payments`, its protobuf encoding when the record's value is exactly that
    /// (a protobuf value that decoding, normalizing and validating left as it was), so that
    /// a sink storing the encoding keeps it rather than encoding the payment again.
    pub encoded: Vec<Option<Bytes>>,
    /// For each of `payments`, its delivery's index in the batch.
    pub origins: Vec<usize>,
    /// Dead letters of the records that could not be decoded or failed validation.
    pub dead: Vec<BusRecord>,
    /// Payments of a batch written before, each decoded into again (see
    /// [`Prepared::recycling`]).
    spent: Vec<pb::Payment>,
}

impl Prepared {
    /// An empty batch that decodes its payments into `spent`, the payments of a batch its
    /// pipeline has written, rather than into new ones, and keeps them in `room`, an empty
    /// vector ([`Self::take_room`] of the batch before). Each of a payment's forty-odd
    /// strings is then written into the room it had: a new payment allocated every one of
    /// them, and the written batch freed them all (0.77 µs a payment more than decoding
    /// into one used before: `cargo bench -p payments-generator --bench validate`). And the
    /// batch grows in room it had before: a batch of thousands of payments grown into a new
    /// vector moved every payment again at each doubling and faulted in fresh pages (1.5 µs
    /// a payment in a `perf` profile of `paymentsctl bench`).
    pub fn recycling(spent: Vec<pb::Payment>, mut room: Vec<pb::Payment>) -> Self {
        room.clear();
        Self {
            payments: room,
            spent,
            ..Self::default()
        }
    }

    /// The vector the spent payments were taken from, emptied, for the next batch to grow
    /// in ([`Self::recycling`]); a spent payment this batch did not need is freed.
    pub fn take_room(&mut self) -> Vec<pb::Payment> {
        let mut room = std::mem::take(&mut self.spent);
        room.clear();
        room
    }

    /// Decodes, normalizes and validates each record of `batch` (in `validation` mode, or
    /// leniently when ingest accepted the record leniently) and appends the outcome; the
    /// records follow the `delivered` ones this batch was prepared from so far. A record
    /// that the bus could not read whole, cannot be decoded or fails validation becomes a
    /// dead letter naming why; it never holds back the others.
    pub fn extend_from(
        &mut self,
        batch: &[Delivery],
        delivered: usize,
        validation: ValidationMode,
    ) {
        let exporting = payments_runtime::telemetry::exporting();
        self.payments.reserve(batch.len());
        self.encoded.reserve(batch.len());
        self.origins.reserve(batch.len());
        for (index, delivery) in batch.iter().enumerate() {
            if let Some(reason) = delivery.record.header(headers::READ_ERROR) {
                self.dead.push(dead_letter(delivery, "read", reason));
                continue;
            }
            let mut payment = self.spent.pop().unwrap_or_default();
            let format = match decode_payment_into(&delivery.record, &mut payment) {
                Ok(format) => format,
                Err(e) => {
                    self.dead
                        .push(dead_letter(delivery, "decode", &e.to_string()));
                    self.spent.push(payment);
                    continue;
                }
            };
            let ingest_lenient =
                delivery.record.header(headers::VALIDATION_MODE) == Some("lenient");
            let mode = if ingest_lenient {
                ValidationMode::Lenient
            } else {
                validation
            };
            let mut changed = normalize(&mut payment);
            changed |= keep_trace_id(&mut payment, &delivery.record, exporting);
            match PaymentValidator::new(mode).validate(&payment) {
                ValidationOutcome::Accepted { warnings } => {
                    if payment.warnings.is_empty() && !warnings.is_empty() {
                        payment.warnings = warnings.iter().map(|w| w.to_warning()).collect();
                        changed = true;
                    }
                    // Within the size a payment may take, so that what a producer adds
                    // that no field of this build holds is never stored past it.
                    let as_sent = format == ValueFormat::Protobuf
                        && !changed
                        && delivery.record.value.len() <= MAX_PAYMENT_BYTES;
                    self.encoded
                        .push(as_sent.then(|| delivery.record.value.clone()));
                    self.payments.push(payment);
                    self.origins.push(delivered + index);
                }
                ValidationOutcome::Rejected { violations } => {
                    let reason: Vec<String> = violations
                        .iter()
                        .map(|v| format!("{}: {}", v.field, v.description))
                        .collect();
                    self.dead
                        .push(dead_letter(delivery, "validate", &reason.join("; ")));
                    self.spent.push(payment);
                }
            }
        }
    }
}

/// [`Prepared::extend_from`] into a new batch: `batch` decoded, normalized and validated.
#[cfg(test)]
pub(crate) fn prepare(batch: &[Delivery], validation: ValidationMode) -> Prepared {
    let mut out = Prepared::default();
    out.extend_from(batch, 0, validation);
    out
}

/// Keeps the trace id of the record's producer in `metadata.attributes["trace_id"]` when
/// spans are exported, so a stored payment leads to its trace in Jaeger. The key is ours: a
/// value a client sent is dropped, so that it never leads anywhere else. Returns whether it
/// changed the payment.
fn keep_trace_id(payment: &mut pb::Payment, record: &BusRecord, exporting: bool) -> bool {
    let dropped = payment
        .metadata
        .as_mut()
        .is_some_and(|metadata| metadata.attributes.remove(TRACE_ID_ATTRIBUTE).is_some());
    if !exporting {
        return dropped;
    }
    let trace_id = record
        .header(headers::TRACEPARENT)
        .and_then(|traceparent| traceparent.split('-').nth(1))
        .filter(|id| id.len() == 32);
    let Some(trace_id) = trace_id else {
        return dropped;
    };
    payment
        .metadata
        .get_or_insert_with(Default::default)
        .attributes
        .insert(TRACE_ID_ATTRIBUTE.to_owned(), trace_id.to_owned());
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use payments_core::sample::ach_payment;
    use prost::Message;

    fn delivery(offset: i64, record: BusRecord) -> Delivery {
        Delivery {
            topic: "t".into(),
            partition: 0,
            offset,
            timestamp_ms: 0,
            record,
        }
    }

    /// A protobuf record of the sample ACH payment `id`.
    fn ach_record(id: &str) -> BusRecord {
        BusRecord {
            key: Bytes::from(id.to_owned()),
            value: Bytes::from(ach_payment(id, 0).encode_to_vec()),
            headers: vec![(
                headers::CONTENT_TYPE.into(),
                Bytes::from_static(headers::PROTOBUF.as_bytes()),
            )],
        }
    }

    /// Asserts that `prepared` kept payments P-1 and P-3, from the batch's records 0 and 2,
    /// and made one dead letter, which it returns.
    fn kept_p1_and_p3_and_one_dead_letter(prepared: &Prepared) -> &BusRecord {
        let ids: Vec<&str> = prepared
            .payments
            .iter()
            .map(|p| p.payment_id.as_str())
            .collect();
        assert_eq!(ids, ["P-1", "P-3"]);
        assert_eq!(prepared.origins, [0, 2], "indexes in the whole batch");
        let [dead] = prepared.dead.as_slice() else {
            panic!("one dead letter, not {}", prepared.dead.len());
        };
        dead
    }

    #[test]
    fn a_record_the_bus_could_not_read_whole_is_dead_lettered_at_stage_read_alone() {
        let unreadable = BusRecord {
            headers: vec![(
                headers::READ_ERROR.into(),
                Bytes::from_static(b"its headers in the bus file are unreadable"),
            )],
            ..ach_record("P-2")
        };
        let batch = [
            delivery(0, ach_record("P-1")),
            delivery(1, unreadable),
            delivery(2, ach_record("P-3")),
        ];
        let prepared = prepare(&batch, ValidationMode::Strict);
        let dead = kept_p1_and_p3_and_one_dead_letter(&prepared);
        assert_eq!(dead.header(headers::DLQ_STAGE), Some("read"));
        assert_eq!(
            dead.header(headers::DLQ_REASON),
            Some("its headers in the bus file are unreadable")
        );
        assert_eq!(dead.value, batch[1].record.value);
    }

    #[test]
    fn a_batch_grown_in_a_recycled_room_holds_its_own_records_only_with_their_origins() {
        let garbage = BusRecord {
            value: Bytes::from_static(b"\x0a\xff"),
            ..ach_record("P-2")
        };
        let mut prepared = Prepared::recycling(
            vec![ach_payment("OLD-1", 0), ach_payment("OLD-2", 0)],
            Vec::new(),
        );
        assert!(prepared.payments.is_empty(), "the room, not its payments");
        prepared.extend_from(
            &[delivery(10, ach_record("P-1")), delivery(11, garbage)],
            0,
            ValidationMode::Strict,
        );
        prepared.extend_from(
            &[delivery(12, ach_record("P-3"))],
            2,
            ValidationMode::Strict,
        );
        let dead = kept_p1_and_p3_and_one_dead_letter(&prepared);
        assert_eq!(prepared.encoded.len(), 2);
        assert_eq!(dead.header(headers::DLQ_STAGE), Some("decode"));
    }

    #[test]
    fn a_payment_decoded_into_a_spent_one_holds_nothing_of_it() {
        // Spent payments carrying what the new ones do not: attributes, warnings, a
        // scenario, longer text.
        let spent: Vec<pb::Payment> = (0..3)
            .map(|i| {
                let mut payment = ach_payment(&format!("SPENT-{i}-{}", "X".repeat(200)), 9);
                let metadata = payment.metadata.get_or_insert_default();
                metadata.attributes.insert("team".into(), "old".into());
                payment.warnings.push(pb::ValidationWarning {
                    field: "old.field".into(),
                    description: "an old warning".into(),
                });
                payment.scenario = Some(Default::default());
                normalize(&mut payment);
                payment
            })
            .collect();
        let json = BusRecord {
            value: Bytes::from(serde_json::to_vec(&ach_payment("P-3", 0)).expect("json")),
            headers: Vec::new(),
            ..ach_record("P-3")
        };
        let batch = [
            delivery(0, ach_record("P-1")),
            delivery(1, ach_record("P-2")),
            delivery(2, json),
        ];
        let mut prepared = Prepared::recycling(spent, vec![ach_payment("OLD-IN-ROOM", 0)]);
        prepared.extend_from(&batch, 0, ValidationMode::Strict);
        let fresh = prepare(&batch, ValidationMode::Strict);
        assert!(prepared.dead.is_empty(), "dead: {:?}", prepared.dead);
        assert_eq!(prepared.payments.len(), 3);
        assert_eq!(prepared.payments, fresh.payments);
        assert_eq!(prepared.encoded, fresh.encoded);
        let room = prepared.take_room();
        assert!(
            room.is_empty() && room.capacity() >= 3,
            "the spent payments' vector"
        );
    }

    #[test]
    fn a_canonical_protobuf_record_keeps_its_value_as_the_encoding_and_others_do_not() {
        let protobuf = |payment: &pb::Payment| BusRecord {
            key: Bytes::from_static(b"k"),
            value: Bytes::from(payment.encode_to_vec()),
            headers: vec![(
                headers::CONTENT_TYPE.into(),
                Bytes::from_static(headers::PROTOBUF.as_bytes()),
            )],
        };
        let mut canonical = ach_payment("ENC-1", 1);
        canonical
            .metadata
            .get_or_insert_default()
            .attributes
            .insert("team".into(), "payments".into());
        normalize(&mut canonical);
        let not_normalized = pb::Payment {
            revision: 0,
            ..canonical.clone()
        };
        let mut with_trace_attribute = canonical.clone();
        with_trace_attribute
            .metadata
            .get_or_insert_default()
            .attributes
            .insert(TRACE_ID_ATTRIBUTE.into(), "forged".into());
        let json = BusRecord {
            value: Bytes::from(serde_json::to_vec(&canonical).expect("json")),
            headers: Vec::new(),
            ..protobuf(&canonical)
        };
        // Field 1000, which Payment does not have, holding more than a payment may take.
        let mut oversized = protobuf(&canonical);
        let mut value = oversized.value.to_vec();
        prost::encoding::bytes::encode(1000, &vec![7u8; 70_000], &mut value);
        oversized.value = Bytes::from(value);
        let batch = [
            delivery(0, protobuf(&canonical)),
            delivery(1, protobuf(&not_normalized)),
            delivery(2, protobuf(&with_trace_attribute)),
            delivery(3, json),
            delivery(4, oversized),
        ];
        let prepared = prepare(&batch, ValidationMode::Strict);
        assert_eq!(prepared.payments.len(), 5, "dead: {:?}", prepared.dead);
        let kept: Vec<bool> = prepared.encoded.iter().map(Option::is_some).collect();
        assert_eq!(kept, [true, false, false, false, false]);
        assert_eq!(prepared.encoded[0].as_ref(), Some(&batch[0].record.value));
        for payment in &prepared.payments {
            assert_eq!(
                payment, &canonical,
                "prepared payments are all the canonical one"
            );
        }
    }
}
