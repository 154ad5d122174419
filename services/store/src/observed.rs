//! Every store and sink [`crate::open`] returns is wrapped in [`Observed`]: each call runs in a
//! client span named after the backend and operation (OpenTelemetry database conventions),
//! so a payment's trace shows each write and each query; and each call's latency, failures
//! and rows written are counted by backend.

use crate::{Page, PageRequest, PaymentFilter, Result, Sink, Stats, Store};
use async_trait::async_trait;
use bytes::Bytes;
use payments_core::metric_names as names;
use payments_core::pb;
use std::sync::Arc;
use tracing::Instrument;

/// A store or sink whose calls are traced.
pub struct Observed<T: ?Sized> {
    inner: Arc<T>,
    system: &'static str,
}

impl<T: Sink + ?Sized> Observed<T> {
    /// Wraps `inner`.
    pub fn new(inner: Arc<T>) -> Self {
        let system = system_of(&inner.describe());
        Self { inner, system }
    }

    fn span(&self, operation: &'static str) -> tracing::Span {
        tracing::info_span!(
            "store call",
            otel.name = format!("{operation} {}", self.system),
            otel.kind = "client",
            db.system.name = self.system,
            db.operation.name = operation,
            db.operation.batch.size = tracing::field::Empty,
            error.type = tracing::field::Empty,
        )
    }
}

/// The OpenTelemetry `db.system.name` of a backend, from its URL's scheme.
fn system_of(described: &str) -> &'static str {
    match described.split_once("://").map(|(s, _)| s) {
        Some("postgres" | "postgresql") => "postgresql",
        Some("mongodb") => "mongodb",
        Some("redis") => "redis",
        Some("hbase") => "hbase",
        Some("sqlite") => "sqlite",
        _ => "other_sql",
    }
}

/// Runs `call` in `span`, marking the span failed when it fails, and records its latency
/// (`payments_store_operation_seconds`) and failures (`payments_store_errors_total`).
async fn traced<V>(
    span: tracing::Span,
    system: &'static str,
    operation: &'static str,
    call: impl Future<Output = Result<V>>,
) -> Result<V> {
    let started = std::time::Instant::now();
    let result = call.instrument(span.clone()).await;
    metrics::histogram!(
        "payments_store_operation_seconds",
        "system" => system,
        "operation" => operation,
    )
    .record(started.elapsed().as_secs_f64());
    if let Err(e) = &result {
        span.record("error.type", tracing::field::display(e));
        metrics::counter!(
            "payments_store_errors_total",
            "system" => system,
            "operation" => operation,
        )
        .increment(1);
    }
    result
}

#[async_trait]
impl<T: Sink + ?Sized> Sink for Observed<T> {
    async fn upsert_encoded(
        &self,
        payments: &[pb::Payment],
        encoded: &[Option<Bytes>],
    ) -> Result<u64> {
        let span = self.span("upsert");
        span.record("db.operation.batch.size", payments.len());
        let written = traced(
            span,
            self.system,
            "upsert",
            self.inner.upsert_encoded(payments, encoded),
        )
        .await?;
        metrics::counter!(names::STORE_WRITTEN, "system" => self.system).increment(written);
        Ok(written)
    }

    async fn ping(&self) -> Result<()> {
        self.inner.ping().await
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }

    async fn close(&self) -> Result<()> {
        self.inner.close().await
    }
}

#[async_trait]
impl<T: Store + ?Sized> Store for Observed<T> {
    async fn get(&self, payment_id: &str) -> Result<Option<pb::Payment>> {
        traced(
            self.span("get"),
            self.system,
            "get",
            self.inner.get(payment_id),
        )
        .await
    }

    async fn list(&self, filter: &PaymentFilter, page: &PageRequest) -> Result<Page> {
        traced(
            self.span("list"),
            self.system,
            "list",
            self.inner.list(filter, page),
        )
        .await
    }

    async fn stats(&self, filter: &PaymentFilter) -> Result<Stats> {
        traced(
            self.span("stats"),
            self.system,
            "stats",
            self.inner.stats(filter),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::system_of;

    #[test]
    fn backends_are_named_as_opentelemetry_names_them() {
        assert_eq!(system_of("postgres://u@h/db"), "postgresql");
        assert_eq!(system_of("sqlite://payments.db"), "sqlite");
        assert_eq!(system_of("hbase://h:9090?table=payments"), "hbase");
        assert_eq!(system_of("nonsense"), "other_sql");
    }
}
