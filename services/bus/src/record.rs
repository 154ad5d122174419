//! Records as producers write them and consumers receive them.

use bytes::Bytes;
use std::borrow::Cow;

/// One record header: a name and a value. The names the services agree on ([`headers`]) are
/// borrowed, so that a record made or read costs no allocation for them.
pub type Header = (Cow<'static, str>, Bytes);

/// A record to append: key (used for partitioning), value and headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BusRecord {
    /// Partitioning key (by default the payment id).
    pub key: Bytes,
    /// The payload.
    pub value: Bytes,
    /// Headers: content type, schema, trace context, dead-letter reasons.
    pub headers: Vec<Header>,
}

/// Bytes a record takes on the wire beyond its key, value and headers (Kafka's record and
/// batch framing, rounded up), counted by [`BusRecord::size`].
const FRAMING_BYTES: usize = 128;

impl BusRecord {
    /// The bytes this record takes against a producer's limit
    /// ([`crate::Producer::max_record_bytes`]): key, value, header names and values, and
    /// framing.
    pub fn size(&self) -> usize {
        let headers: usize = self
            .headers
            .iter()
            .map(|(name, value)| name.len() + value.len() + 8)
            .sum();
        FRAMING_BYTES + self.key.len() + self.value.len() + headers
    }

    /// The value of the first header named `name`, as UTF-8 text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    }
}

/// A record as delivered to a consumer, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Topic it was read from.
    pub topic: String,
    /// Partition it was read from.
    pub partition: i32,
    /// Its offset in that partition.
    pub offset: i64,
    /// When the bus accepted it, in milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    /// The record.
    pub record: BusRecord,
}

/// Why and from where a record was dead-lettered, as its headers say (each `None` when
/// the header is missing, as on a record that was never dead-lettered).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeadLetterHeaders {
    /// The stage that refused it (`decode`, `validate`).
    pub stage: Option<String>,
    /// Why.
    pub reason: Option<String>,
    /// `topic/partition/offset` it came from.
    pub source: Option<String>,
    /// When it was dead-lettered (RFC 3339).
    pub time: Option<String>,
}

impl Delivery {
    /// The dead-letter headers of this record.
    pub fn dead_letter_headers(&self) -> DeadLetterHeaders {
        let header = |name: &str| self.record.header(name).map(str::to_owned);
        DeadLetterHeaders {
            stage: header(headers::DLQ_STAGE),
            reason: header(headers::DLQ_REASON),
            source: header(headers::DLQ_SOURCE),
            time: header(headers::DLQ_TIME),
        }
    }
}

/// Header names the services agree on.
pub mod headers {
    /// MIME type of the value: `application/x-protobuf` or `application/json`.
    pub const CONTENT_TYPE: &str = "content-type";
    /// Fully qualified message name of a protobuf value: `payments.v1.Payment`.
    pub const SCHEMA: &str = "schema";
    /// Validation mode ingest accepted the payment in (`strict` or `lenient`).
    pub const VALIDATION_MODE: &str = "validation-mode";
    /// W3C trace context of the producer.
    pub const TRACEPARENT: &str = "traceparent";
    /// Why a record was dead-lettered.
    pub const DLQ_REASON: &str = "dlq-reason";
    /// Which stage dead-lettered it (`read`, `decode`, `validate`, or the refusing sink's).
    pub const DLQ_STAGE: &str = "dlq-stage";
    /// Topic, partition and offset it came from: `topic/partition/offset`.
    pub const DLQ_SOURCE: &str = "dlq-source";
    /// When it was dead-lettered (RFC 3339).
    pub const DLQ_TIME: &str = "dlq-time";
    /// Set by a bus on a record it could not read whole, saying what is wrong (the file bus,
    /// when a record's stored headers are unreadable): the record is still delivered, in its
    /// place, so that it is dead-lettered with that reason rather than holding back the
    /// records after it.
    pub const READ_ERROR: &str = "bus-read-error";
    /// Protobuf content type.
    pub const PROTOBUF: &str = payments_core::payment_value::PROTOBUF_CONTENT_TYPE;
    /// JSON content type (a payment in proto3 JSON, or the seed's JSON).
    pub const JSON: &str = payments_core::payment_value::JSON_CONTENT_TYPE;
    /// Schema name of a payment.
    pub const PAYMENT_SCHEMA: &str = "payments.v1.Payment";

    /// Every header name above.
    const NAMES: [&str; 9] = [
        CONTENT_TYPE,
        SCHEMA,
        VALIDATION_MODE,
        TRACEPARENT,
        DLQ_REASON,
        DLQ_STAGE,
        DLQ_SOURCE,
        DLQ_TIME,
        READ_ERROR,
    ];

    /// `name` as a record header's name: one of the names above borrowed, any other copied.
    pub fn name(name: &str) -> super::Cow<'static, str> {
        NAMES
            .into_iter()
            .find(|known| *known == name)
            .map_or_else(|| name.to_owned().into(), Into::into)
    }
}

/// How a payment is encoded in a record's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ValueEncoding {
    /// `payments.v1.Payment` as protobuf (`application/x-protobuf`): compact, the default.
    #[default]
    Protobuf,
    /// The payment as proto3 JSON (`application/json`): readable with Kafka's console
    /// consumer and any JSON tool, about three times larger.
    Json,
}

impl ValueEncoding {
    /// `protobuf` or `json`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "protobuf" => Some(Self::Protobuf),
            "json" => Some(Self::Json),
            _ => None,
        }
    }

    /// The `content-type` header value of a record encoded this way.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Protobuf => headers::PROTOBUF,
            Self::Json => headers::JSON,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agreed_header_names_are_borrowed_and_any_other_is_kept_as_it_came() {
        for known in [
            headers::CONTENT_TYPE,
            headers::TRACEPARENT,
            headers::READ_ERROR,
        ] {
            let name = headers::name(known);
            assert!(matches!(name, Cow::Borrowed(_)), "{known}");
            assert_eq!(name, known);
        }
        let other = headers::name("x-tenant");
        assert!(matches!(other, Cow::Owned(_)));
        assert_eq!(other, "x-tenant");
        assert_eq!(headers::name(""), "");
    }
}
