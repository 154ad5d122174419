//! W3C trace context (`traceparent`): read from gRPC metadata, continued as a child, and
//! written into bus record headers so one trace follows a payment across the bus. When spans
//! are exported ([`crate::telemetry`]), the context is the current span's, and a remote one
//! becomes a span's parent or link.

use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use std::fmt;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// One `traceparent` value: `00-{trace id}-{parent span id}-{flags}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent {
    /// The trace every span of one request shares.
    pub trace_id: [u8; 16],
    /// The span this context names as parent.
    pub span_id: [u8; 8],
    /// Trace flags; bit 0 is "sampled".
    pub flags: u8,
}

/// The metadata key and header name.
pub const TRACEPARENT: &str = "traceparent";

fn random_nonzero<const N: usize>() -> [u8; N] {
    loop {
        let mut bytes = [0u8; N];
        bytes.iter_mut().for_each(|b| *b = fastrand::u8(..));
        if bytes.iter().any(|b| *b != 0) {
            return bytes;
        }
    }
}

fn hex_bytes<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != N * 2
        || !text
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        return None;
    }
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out).filter(|b| b.iter().any(|x| *x != 0))
}

impl TraceParent {
    /// A new trace (sampled), for work that arrived without one.
    pub fn new_root() -> Self {
        Self {
            trace_id: random_nonzero(),
            span_id: random_nonzero(),
            flags: 1,
        }
    }

    /// Parses a version-00 `traceparent`; `None` when it is malformed (W3C: start anew).
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.trim().split('-');
        let (version, trace, span, flags) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if version != "00" || parts.next().is_some() {
            return None;
        }
        Some(Self {
            trace_id: hex_bytes(trace)?,
            span_id: hex_bytes(span)?,
            flags: hex_bytes::<1>(flags)
                .map(|f| f[0])
                .or((flags == "00").then_some(0))?,
        })
    }

    /// The same trace with a new span of ours as the parent of what follows.
    pub fn child(&self) -> Self {
        Self {
            span_id: random_nonzero(),
            ..*self
        }
    }

    /// The context to hand on from a gRPC call: the current span's when spans are exported
    /// (the server's span already continues the caller's), else the one carried by
    /// `metadata`'s `traceparent` continued as a child, else a new root.
    pub fn continue_from(metadata: &tonic::metadata::MetadataMap) -> Self {
        Self::current().unwrap_or_else(|| {
            metadata
                .get(TRACEPARENT)
                .and_then(|v| v.to_str().ok())
                .and_then(Self::parse)
                .map_or_else(Self::new_root, |parent| parent.child())
        })
    }

    /// The current span's context, when spans are exported and a span is active.
    pub fn current() -> Option<Self> {
        let context = tracing::Span::current().context();
        let span = context.span();
        let current = span.span_context();
        current.is_valid().then(|| Self {
            trace_id: current.trace_id().to_bytes(),
            span_id: current.span_id().to_bytes(),
            flags: current.trace_flags().to_u8(),
        })
    }

    /// Puts the current span's context into outgoing gRPC `metadata`, when spans are
    /// exported and one is active.
    pub fn inject_current(metadata: &mut tonic::metadata::MetadataMap) {
        if let Some(current) = Self::current()
            && let Ok(value) = current.to_string().parse()
        {
            metadata.insert(TRACEPARENT, value);
        }
    }

    /// This context as OpenTelemetry's remote span context.
    pub fn span_context(&self) -> SpanContext {
        SpanContext::new(
            TraceId::from_bytes(self.trace_id),
            SpanId::from_bytes(self.span_id),
            TraceFlags::new(self.flags),
            true,
            TraceState::default(),
        )
    }

    /// Makes `span` (not yet entered) a child of this context; nothing when spans are not
    /// exported.
    pub fn adopt(&self, span: &tracing::Span) {
        let parent = opentelemetry::Context::new().with_remote_span_context(self.span_context());
        let _ = span.set_parent(parent);
    }

    /// Links `span` to this context (a batch consumer's span to each producer's).
    pub fn link(&self, span: &tracing::Span) {
        span.add_link(self.span_context());
    }

    /// The trace id as 32 lowercase hex digits (for logs).
    pub fn trace_id_hex(&self) -> String {
        self.trace_id.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "00-{}-", self.trace_id_hex())?;
        for b in self.span_id {
            write!(f, "{b:02x}")?;
        }
        write!(f, "-{:02x}", self.flags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_formats_and_continues() {
        let text = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let parent = TraceParent::parse(text).unwrap();
        assert_eq!(parent.to_string(), text);
        let child = parent.child();
        assert_eq!(child.trace_id, parent.trace_id);
        assert_ne!(child.span_id, parent.span_id);
        assert_eq!(
            TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")
                .map(|t| t.flags),
            Some(0)
        );
    }

    #[test]
    fn malformed_values_start_a_new_trace() {
        for bad in [
            "",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        ] {
            assert_eq!(TraceParent::parse(bad), None, "{bad}");
        }
        let mut metadata = tonic::metadata::MetadataMap::new();
        metadata.insert(TRACEPARENT, "garbage".parse().unwrap());
        let root = TraceParent::continue_from(&metadata);
        assert_eq!(TraceParent::parse(&root.to_string()), Some(root));
    }
}
