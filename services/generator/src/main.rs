//! `payments-generator`: serves GeneratorService with health and reflection.

/// mimalloc: the services allocate and free many small buffers per payment; glibc malloc
/// spent a fifth of the end-to-end benchmark in its locks and free lists.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context;
use clap::Parser;
use payments_generator::{GeneratorGrpc, config::GeneratorArgs};
use payments_runtime::{GrpcRoutes, grpc::bind, http, shutdown};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = GeneratorArgs::parse();
    payments_runtime::telemetry::init("payments-generator");
    let stop = payments_runtime::Shutdown::new();
    shutdown::cancel_on_signal(stop.clone());
    let (grpc_listener, grpc_addr) = bind(&args.grpc_addr).await?;
    let (http_listener, http_addr) = bind(&args.http_addr).await?;
    let routes = GrpcRoutes::new().add_service(GeneratorGrpc::new(args.customers).into_server());
    let probes = http::probe_routes(http::readiness(|| async { Ok(()) }), stop.clone());
    tracing::info!(%grpc_addr, %http_addr, "payments-generator listening");
    let http_task = tokio::spawn(http::serve(http_listener, probes, stop.clone()));
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
