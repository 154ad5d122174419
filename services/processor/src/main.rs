//! `payments-processor`: consumes the bus into every sink; serves health and reflection.

/// mimalloc: the services allocate and free many small buffers per payment; glibc malloc
/// spent a fifth of the end-to-end benchmark in its locks and free lists.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context;
use clap::Parser;
use payments_bus::Bus;
use payments_processor::{Processor, ProcessorConfig, config::ProcessorArgs};
use payments_runtime::{GrpcRoutes, grpc::bind, http, shutdown};
use std::time::Duration;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = ProcessorArgs::parse();
    payments_runtime::telemetry::init("payments-processor");
    let bus = Bus::connect(&args.bus).with_context(|| format!("connecting to bus {}", args.bus))?;
    let mut sinks = Vec::new();
    for url in &args.sinks {
        sinks.push(
            payments_store::open(url)
                .await
                .with_context(|| format!("opening sink {url}"))?,
        );
    }
    let stop = payments_runtime::Shutdown::new();
    shutdown::cancel_on_signal(stop.clone());
    let (grpc_listener, grpc_addr) = bind(&args.grpc_addr).await?;
    let (http_listener, http_addr) = bind(&args.http_addr).await?;
    let config = ProcessorConfig {
        batch_size: args.batch_size.max(1),
        linger: Duration::from_millis(args.linger_ms),
        validation: args.validation.into(),
        ..Default::default()
    };
    let processor = Processor::new(
        bus.consumer(&args.topic, &args.group)?,
        sinks.clone(),
        bus.producer(),
        config,
    );
    let ready = http::readiness(move || {
        let sinks = sinks.clone();
        async move {
            for sink in &sinks {
                sink.ping()
                    .await
                    .map_err(|e| format!("{}: {e}", sink.describe()))?;
            }
            Ok(())
        }
    });
    tracing::info!(%grpc_addr, %http_addr, bus = %bus.describe(), topic = %args.topic, "payments-processor listening");
    let http_task = tokio::spawn(http::serve(
        http_listener,
        http::probe_routes(ready, stop.clone()),
        stop.clone(),
    ));
    let grpc_task = tokio::spawn(GrpcRoutes::new().serve(grpc_listener, stop.clone()));
    let abort = payments_runtime::Shutdown::new();
    let grace = Duration::from_secs(args.shutdown_grace);
    let abort_later = abort.clone();
    let stop_watch = stop.clone();
    tokio::spawn(async move {
        stop_watch.cancelled().await;
        tokio::time::sleep(grace).await;
        abort_later.cancel();
    });
    processor.run(stop, abort).await?;
    grpc_task
        .await
        .context("grpc task")?
        .context("grpc server")?;
    http_task
        .await
        .context("http task")?
        .context("http server")?;
    Ok(())
}
