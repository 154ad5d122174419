//! `payments-query`: serves QueryService and the seed's HTTP routes.

/// mimalloc: the services allocate and free many small buffers per payment; glibc malloc
/// spent a fifth of the end-to-end benchmark in its locks and free lists.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context;
use clap::Parser;
use payments_query::{QueryGrpc, config::QueryArgs, http_routes};
use payments_runtime::{GrpcRoutes, grpc::bind, http, shutdown};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = QueryArgs::parse();
    payments_runtime::telemetry::init("payments-query");
    let store = payments_store::open(&args.store)
        .await
        .with_context(|| format!("opening store {}", args.store))?;
    let stop = payments_runtime::Shutdown::new();
    shutdown::cancel_on_signal(stop.clone());
    let (grpc_listener, grpc_addr) = bind(&args.grpc_addr).await?;
    let (http_listener, http_addr) = bind(&args.http_addr).await?;
    let routes = GrpcRoutes::new().add_service(QueryGrpc::new(store.clone()).into_server());
    let ready_store = store.clone();
    let ready = http::readiness(move || {
        let store = ready_store.clone();
        async move { store.ping().await.map_err(|e| e.to_string()) }
    });
    let router = http_routes(store).merge(http::probe_routes(ready, stop.clone()));
    tracing::info!(%grpc_addr, %http_addr, "payments-query listening");
    let http_task = tokio::spawn(http::serve(http_listener, router, stop.clone()));
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
