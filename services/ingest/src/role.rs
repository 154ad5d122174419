//! [`IngestRole`]: IngestService mounted on an app, ready only while its bus answers.

use crate::config::IngestArgs;
use crate::{Ingest, IngestGrpc, Ingestor, RecordKey};
use payments_bus::Bus;
use payments_runtime::http::{NotReady, ReadinessCheck, readiness};
use payments_runtime::{AppConfig, AppError, Mount, Role, ServeFlags};
use std::sync::Arc;
use std::time::Duration;

/// The ingest role: validates payments and acknowledges each once the bus holds it.
pub struct IngestRole {
    service: IngestGrpc,
    bus: Bus,
}

impl IngestRole {
    /// Ingest publishing to `topic` on `bus`, keyed by `key`, in the bus's value encoding.
    pub fn new(bus: Bus, topic: &str, key: RecordKey) -> Self {
        let ingestor =
            Ingestor::new(bus.producer(), topic, key).with_encoding(bus.value_encoding());
        Self {
            service: IngestGrpc::new(ingestor),
            bus,
        }
    }

    /// Ingest as the `payments-ingest` flags describe, on a networked bus.
    pub async fn connect(args: &IngestArgs) -> Result<Self, payments_bus::Error> {
        let bus = Bus::connect_networked(&args.bus, "payments-ingest", &[&args.topic]).await?;
        Ok(Self::new(bus, &args.topic, args.key))
    }

    /// This ingest, for callers in the same process (the generator of `paymentsctl up`).
    pub fn local(&self) -> Arc<dyn Ingest> {
        Arc::new(self.service.clone())
    }
}

impl Role for IngestRole {
    fn name(&self) -> &'static str {
        "ingest"
    }

    fn mount(self: Box<Self>, mount: &mut Mount) {
        mount.add_grpc_service(self.service.into_server());
        mount.add_readiness(bus_readiness(self.bus));
    }
}

/// Ready while `bus` answers (the in-process bus always does).
pub fn bus_readiness(bus: Bus) -> ReadinessCheck {
    readiness(move || {
        let bus = bus.clone();
        async move {
            bus.check_ready()
                .await
                .map_err(|e| NotReady::failed("bus", e))
        }
    })
}

impl ServeFlags for IngestArgs {
    fn app_config(&self) -> Result<AppConfig, AppError> {
        let grace = Duration::from_secs(self.shutdown_grace);
        Ok(
            AppConfig::new("payments-ingest", &self.grpc_addr, &self.http_addr, grace)
                .with_tls_flags(&self.tls)?
                .with_tokens_file(self.auth_tokens_file.as_deref())?
                .with_call_limit(self.max_concurrent_calls),
        )
    }
}
