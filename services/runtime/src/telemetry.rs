//! Logging and tracing: structured `tracing` output, text for people or JSON for collectors,
//! and OpenTelemetry spans exported over OTLP/gRPC when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set.
//!
//! The exporter honours the standard variables: `OTEL_SERVICE_NAME` and
//! `OTEL_RESOURCE_ATTRIBUTES` (else `service.name` is the binary's name),
//! `OTEL_EXPORTER_OTLP_HEADERS`, `…_TIMEOUT`, `…_COMPRESSION`, `OTEL_BSP_*` for batching and
//! `OTEL_TRACES_SAMPLER` (default: parent-based, always on).

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use std::io::IsTerminal;
use tracing_subscriber::{EnvFilter, Layer, fmt, prelude::*};

/// What [`init`] installed; flushes and stops the span exporter when dropped, so spans of
/// the last moments reach the collector.
#[must_use = "dropping it stops exporting spans"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Whether spans are exported.
    pub fn exporting(&self) -> bool {
        self.provider.is_some()
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(e) = provider.shutdown()
        {
            eprintln!("warning: flushing spans to the OTLP collector failed: {e}");
        }
    }
}

/// Whether this process exports spans (set once by [`init`]).
static EXPORTING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether this process exports spans: work done only for exported spans (links, for one)
/// can be skipped when it does not.
pub fn exporting() -> bool {
    EXPORTING.load(std::sync::atomic::Ordering::Relaxed)
}

fn variable_set(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !v.trim().is_empty())
}

/// The tracer provider exporting to the configured OTLP endpoint, or why it cannot be built.
fn otlp_provider(
    service: &'static str,
) -> Result<SdkTracerProvider, opentelemetry_otlp::ExporterBuildError> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .build()?;
    let mut resource = Resource::builder();
    let named = variable_set("OTEL_SERVICE_NAME")
        || std::env::var("OTEL_RESOURCE_ATTRIBUTES").is_ok_and(|v| v.contains("service.name="));
    if !named {
        resource = resource.with_service_name(service);
    }
    Ok(SdkTracerProvider::builder()
        .with_resource(resource.build())
        .with_batch_exporter(exporter)
        .build())
}

/// Installs the global subscriber for `service`. `RUST_LOG` sets the log filter (default
/// `info`); `LOG_FORMAT=json` switches to one JSON object per line. Logs go to stderr so
/// that commands writing data to stdout stay clean. With an OTLP endpoint set, spans are
/// exported too (call from within the tokio runtime). Calling it twice is harmless: the
/// second call installs nothing.
pub fn init(service: &'static str) -> Telemetry {
    init_with_default_filter(service, "info")
}

/// [`init`], with `default_filter` as the log filter when `RUST_LOG` is not set: `warn` for a
/// command whose own output is the point (a benchmark's progress and figures), so that the
/// services it runs inside it do not log every call between them.
pub fn init_with_default_filter(service: &'static str, default_filter: &str) -> Telemetry {
    crate::metrics::install();
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let json = std::env::var("LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let provider = if variable_set("OTEL_EXPORTER_OTLP_ENDPOINT")
        || variable_set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    {
        match otlp_provider(service) {
            Ok(provider) => Some(provider),
            Err(e) => {
                eprintln!("warning: not exporting spans: cannot build the OTLP exporter: {e}");
                None
            }
        }
    } else {
        None
    };
    // The exporter's own transport spans stay out of the traces it exports.
    let otel = provider.as_ref().map(|p| {
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer(service))
            .with_filter(EnvFilter::new("info,h2=off,hyper=off,tonic=off,tower=off"))
    });
    let logs = if json {
        fmt::layer().json().with_writer(std::io::stderr).boxed()
    } else {
        fmt::layer()
            .with_target(false)
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr)
            .boxed()
    };
    let installed = tracing_subscriber::registry()
        .with(otel)
        .with(logs.with_filter(filter))
        .try_init()
        .is_ok();
    if installed {
        EXPORTING.store(provider.is_some(), std::sync::atomic::Ordering::Relaxed);
        tracing::debug!(
            service,
            exporting = provider.is_some(),
            "telemetry initialised"
        );
        Telemetry { provider }
    } else {
        Telemetry { provider: None }
    }
}
