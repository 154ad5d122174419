//! `payments-ingest`: serves IngestService with health and reflection.

/// mimalloc: the services allocate and free many small buffers per payment; glibc malloc
/// spent a fifth of the end-to-end benchmark in its locks and free lists.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context;
use clap::Parser;
use payments_bus::Bus;
use payments_ingest::{IngestGrpc, Ingestor, config::IngestArgs};
use payments_runtime::auth::BearerTokens;
use payments_runtime::{GrpcRoutes, ServiceSpec, http, serve_service, shutdown};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    payments_runtime::exit_code(run().await)
}

async fn run() -> anyhow::Result<()> {
    let args = IngestArgs::parse();
    let _telemetry = payments_runtime::telemetry::init("payments-ingest");
    let tls = args.tls.server_config().map_err(anyhow::Error::msg)?;
    let tokens =
        BearerTokens::load(args.auth_tokens_file.as_deref()).map_err(anyhow::Error::msg)?;
    let bus = Bus::connect_networked(&args.bus, "payments-ingest", &[&args.topic])
        .await
        .with_context(|| format!("connecting to bus {}", args.bus))?;
    let stop = shutdown::on_signal();
    let ingestor = Ingestor::new(bus.producer(), args.topic.clone(), args.key)
        .with_encoding(bus.value_encoding());
    let routes = GrpcRoutes::new()
        .with_tls(tls)
        .require_bearer(tokens)
        .limit_concurrent_calls(Some(args.max_concurrent_calls).filter(|n| *n > 0))
        .add_service(IngestGrpc::new(ingestor).into_server());
    let ready = http::readiness(move || {
        let bus = bus.clone();
        async move { bus.check_ready().await }
    });
    let spec = ServiceSpec::new(
        "payments-ingest",
        &args.grpc_addr,
        &args.http_addr,
        args.shutdown_grace,
    );
    serve_service(spec, routes, axum::Router::new(), ready, stop).await?;
    Ok(())
}
