//! `payments-processor`: consumes the bus into every sink; serves health and reflection.

/// mimalloc: the services allocate and free many small buffers per payment; glibc malloc
/// spent a fifth of the end-to-end benchmark in its locks and free lists.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context;
use clap::Parser;
use payments_bus::Bus;
use payments_processor::{Processor, ProcessorConfig, config::ProcessorArgs, publish_metrics};
use payments_runtime::{GrpcRoutes, ServiceSpec, Shutdown, http, serve_service, shutdown};
use std::time::Duration;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    payments_runtime::exit_code(run().await)
}

async fn run() -> anyhow::Result<()> {
    let args = ProcessorArgs::parse();
    let _telemetry = payments_runtime::telemetry::init("payments-processor");
    let tls = args.tls.server_config().map_err(anyhow::Error::msg)?;
    let topics = [args.topic.as_str(), args.dead_letter_topic.as_str()];
    let bus = Bus::connect_networked(&args.bus, "payments-processor", &topics)
        .await
        .with_context(|| format!("connecting to bus {}", args.bus))?;
    let mut sinks = Vec::new();
    for url in &args.sinks {
        sinks.push(
            payments_store::open_sink(url)
                .await
                .with_context(|| format!("opening sink {url}"))?,
        );
    }
    let stop = shutdown::on_signal();
    let config = ProcessorConfig {
        batch_size: args.batch_size.max(1),
        linger: Duration::from_millis(args.linger_ms),
        validation: args.validation.into(),
        dead_letter_topic: args.dead_letter_topic.clone(),
    };
    let processor = Processor::new(
        bus.consumer_as(&args.topic, &args.group, args.instance_id.as_deref())?,
        sinks.clone(),
        bus.producer(),
        config,
    );
    publish_metrics(processor.counters());
    let ready_bus = bus.clone();
    let ready = http::readiness(move || {
        let (sinks, bus) = (sinks.clone(), ready_bus.clone());
        async move {
            bus.check_ready().await?;
            for sink in &sinks {
                sink.ping()
                    .await
                    .map_err(|e| format!("{}: {e}", sink.describe()))?;
            }
            Ok(())
        }
    });
    let spec = ServiceSpec::new(
        "payments-processor",
        &args.grpc_addr,
        &args.http_addr,
        args.shutdown_grace,
    );
    let server = tokio::spawn(serve_service(
        spec,
        GrpcRoutes::new().with_tls(tls),
        axum::Router::new(),
        ready,
        stop.clone(),
    ));
    // Past the grace period a sink that keeps failing is given up on (its batch stays
    // uncommitted and is redelivered to the next processor).
    let abort = Shutdown::new();
    let (grace, abort_later, stop_watch) = (
        Duration::from_secs(args.shutdown_grace),
        abort.clone(),
        stop.clone(),
    );
    tokio::spawn(async move {
        stop_watch.cancelled().await;
        tokio::time::sleep(grace).await;
        abort_later.cancel();
    });
    processor.run(stop, abort).await?;
    server.await.context("server task")??;
    Ok(())
}
