//! `payments-generator`: serves GeneratorService with health and reflection.

/// mimalloc: the services allocate and free many small buffers per payment; glibc malloc
/// spent a fifth of the end-to-end benchmark in its locks and free lists.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;
use payments_generator::{GeneratorGrpc, config::GeneratorArgs};
use payments_runtime::{GrpcRoutes, ServiceSpec, http, serve_service, shutdown};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    payments_runtime::exit_code(run().await)
}

async fn run() -> anyhow::Result<()> {
    let args = GeneratorArgs::parse();
    payments_runtime::telemetry::init("payments-generator");
    let stop = shutdown::on_signal();
    let routes = GrpcRoutes::new()
        .add_service(GeneratorGrpc::new(args.customers, None, stop.clone()).into_server());
    let ready = http::readiness(|| async { Ok(()) });
    let spec = ServiceSpec::new(
        "payments-generator",
        &args.grpc_addr,
        &args.http_addr,
        args.shutdown_grace,
    );
    serve_service(spec, routes, axum::Router::new(), ready, stop).await?;
    Ok(())
}
