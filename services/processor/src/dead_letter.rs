//! [`dead_letter`]: the record sent to the dead-letter topic in place of one that could not
//! be decoded, validated or stored.

use bytes::Bytes;
use payments_bus::{BusRecord, Delivery, headers};

/// The dead-letter record for `delivery`: its key, value and headers, plus why
/// (`reason`), at which `stage` (`decode`, `validate`, `sink:<name>`), where from
/// (`topic/partition/offset`) and when.
pub fn dead_letter(delivery: &Delivery, stage: &str, reason: &str) -> BusRecord {
    tracing::warn!(topic = %delivery.topic, partition = delivery.partition, offset = delivery.offset, stage, reason, "record sent to dead-letter topic");
    let mut record = delivery.record.clone();
    let text = |s: String| Bytes::from(s);
    record
        .headers
        .push((headers::DLQ_REASON.into(), text(reason.to_owned())));
    record
        .headers
        .push((headers::DLQ_STAGE.into(), text(stage.to_owned())));
    record.headers.push((
        headers::DLQ_SOURCE.into(),
        text(format!(
            "{}/{}/{}",
            delivery.topic, delivery.partition, delivery.offset
        )),
    ));
    record.headers.push((
        headers::DLQ_TIME.into(),
        text(chrono::Utc::now().to_rfc3339()),
    ));
    record
}
