//! `payments-ingest`: serves IngestService with health and reflection.

/// mimalloc: the services allocate and free many small buffers per payment; glibc malloc
/// spent a fifth of the end-to-end benchmark in its locks and free lists.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context;
use clap::Parser;
use payments_bus::Bus;
use payments_ingest::{IngestGrpc, Ingestor, config::IngestArgs};
use payments_runtime::{GrpcRoutes, grpc::bind, http, shutdown};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = IngestArgs::parse();
    payments_runtime::telemetry::init("payments-ingest");
    let bus = Bus::connect(&args.bus).with_context(|| format!("connecting to bus {}", args.bus))?;
    if args.bus.starts_with("memory://") {
        tracing::warn!(
            "memory:// bus is in-process: nothing outside this process will read these payments"
        );
    }
    let stop = payments_runtime::Shutdown::new();
    shutdown::cancel_on_signal(stop.clone());
    let (grpc_listener, grpc_addr) = bind(&args.grpc_addr).await?;
    let (http_listener, http_addr) = bind(&args.http_addr).await?;
    let ingestor = Ingestor::new(bus.producer(), args.topic.clone(), args.key);
    let routes = GrpcRoutes::new().add_service(IngestGrpc::new(ingestor).into_server());
    let ready_bus = bus.clone();
    let ready = http::readiness(move || {
        let bus = ready_bus.clone();
        async move {
            if bus.ready().await {
                Ok(())
            } else {
                Err("bus unreachable".to_owned())
            }
        }
    });
    tracing::info!(%grpc_addr, %http_addr, bus = %bus.describe(), topic = %args.topic, "payments-ingest listening");
    let http_task = tokio::spawn(http::serve(
        http_listener,
        http::probe_routes(ready, stop.clone()),
        stop.clone(),
    ));
    routes
        .serve(grpc_listener, stop)
        .await
        .context("grpc server")?;
    http_task
        .await
        .context("http task")?
        .context("http server")?;
    Ok(())
}
