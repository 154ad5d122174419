//! The dead-letter topic's records as the console lists them.

use payments_bus::{Bus, Delivery};
use payments_core::masking::mask_text;
use serde::Serialize;

/// Where dead letters are read from.
#[derive(Clone)]
pub struct DeadLetterSource {
    /// The bus.
    pub bus: Bus,
    /// The dead-letter topic.
    pub topic: String,
}

/// One dead letter: why, from where, and what it held.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DeadLetterView {
    /// Partition of the dead-letter topic.
    pub partition: i32,
    /// Offset there.
    pub offset: i64,
    /// Stage that refused it (`decode`, `validate`).
    pub stage: Option<String>,
    /// Why (digit runs masked as in `preview`).
    pub reason: Option<String>,
    /// `topic/partition/offset` it came from.
    pub source: Option<String>,
    /// When it was dead-lettered.
    pub time: Option<String>,
    /// Its key, as text.
    pub key: String,
    /// The first 160 characters of its value (bytes that are not text shown as `\xNN`),
    /// with runs of 8 or more digits cut to their last four (account numbers, IBANs).
    pub preview: String,
    /// Size of the value in bytes.
    pub bytes: usize,
}

const PREVIEW_CHARS: usize = 160;

/// The topic's first `limit` records.
pub async fn read(
    source: &DeadLetterSource,
    limit: usize,
) -> payments_bus::Result<Vec<DeadLetterView>> {
    let deliveries = source.bus.read_topic(&source.topic, limit).await?;
    Ok(deliveries.iter().map(view).collect())
}

fn view(delivery: &Delivery) -> DeadLetterView {
    let record = &delivery.record;
    let why = delivery.dead_letter_headers();
    DeadLetterView {
        partition: delivery.partition,
        offset: delivery.offset,
        stage: why.stage,
        reason: why.reason.map(|r| mask_text(&r)),
        source: why.source,
        time: why.time,
        key: String::from_utf8_lossy(&record.key).into_owned(),
        preview: preview(&record.value),
        bytes: record.value.len(),
    }
}

/// The value as text for a person: bytes that are not UTF-8 as `\xNN`, control characters as
/// `·`, every account, card number and IBAN masked over the whole value, then cut to
/// [`PREVIEW_CHARS`] (masking first, so that a cut never leaves half a number in clear).
fn preview(value: &[u8]) -> String {
    let mut text = String::with_capacity(value.len());
    for chunk in value.utf8_chunks() {
        for c in chunk.valid().chars() {
            text.push(if c.is_control() { '·' } else { c });
        }
        for b in chunk.invalid() {
            text.push_str(&format!("\\x{b:02x}"));
        }
    }
    mask_text(&text).chars().take(PREVIEW_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use payments_bus::headers;

    #[test]
    fn account_numbers_in_a_dead_letter_are_masked() {
        let delivery = Delivery {
            topic: "payment-transactions.dlq".into(),
            partition: 0,
            offset: 7,
            timestamp_ms: 0,
            record: payments_bus::BusRecord {
                key: bytes::Bytes::from_static(b"ACH-1"),
                value: bytes::Bytes::from_static(br#"{"account_id":"000123456789"}"#),
                headers: vec![(
                    headers::DLQ_REASON.into(),
                    bytes::Bytes::from_static(b"account 000123456789 is closed"),
                )],
            },
        };
        let seen = view(&delivery);
        assert_eq!(seen.preview, r#"{"account_id":"********6789"}"#);
        assert_eq!(
            seen.reason.as_deref(),
            Some("account ********6789 is closed")
        );
        assert_eq!(seen.bytes, 29);
    }

    #[test]
    fn previews_show_text_and_escape_bytes() {
        assert_eq!(preview(b"{\"a\":1}"), "{\"a\":1}");
        assert_eq!(preview(&[0xff, b'o', b'k', b'\n']), "\\xffok·");
        assert_eq!(preview(&[b'x'; 500]).len(), PREVIEW_CHARS);
    }

    #[test]
    fn a_number_the_cut_goes_through_is_masked_as_a_whole() {
        // The IBAN straddles the 160th character: masked before the cut, none of it shows.
        let value = format!(
            "{} DE89 3704 0044 0532 0130 00 and card 4111-1111",
            "x".repeat(150)
        );
        let shown = preview(value.as_bytes());
        assert_eq!(shown.chars().count(), PREVIEW_CHARS);
        assert!(shown.ends_with(" **** ****"), "{shown}");
    }
}
