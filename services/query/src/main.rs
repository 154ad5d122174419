//! `payments-query`: serves QueryService and the seed's HTTP routes.

/// mimalloc: the services allocate and free many small buffers per payment; glibc malloc
/// spent a fifth of the end-to-end benchmark in its locks and free lists.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context;
use clap::Parser;
use payments_query::{AccountView, QueryGrpc, config::QueryArgs, console_from_args, http_routes};
use payments_runtime::auth::BearerTokens;
use payments_runtime::{GrpcRoutes, ServiceSpec, http, serve_service, shutdown};
use payments_store::CachedStore;
use std::sync::Arc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    payments_runtime::exit_code(run().await)
}

async fn run() -> anyhow::Result<()> {
    let args = QueryArgs::parse();
    let _telemetry = payments_runtime::telemetry::init("payments-query");
    let tls = args.tls.server_config().map_err(anyhow::Error::msg)?;
    let accounts = if args.reveal_accounts {
        AccountView::Full
    } else {
        AccountView::MaskedUnlessAllowed
    };
    let tokens =
        BearerTokens::load(args.auth_tokens_file.as_deref()).map_err(anyhow::Error::msg)?;
    let requires_tokens = tokens.is_some();
    let mut store = payments_store::open(&args.store)
        .await
        .with_context(|| format!("opening store {}", args.store))?;
    if let Some(url) = &args.cache {
        anyhow::ensure!(
            url.starts_with("redis://"),
            "--cache {url}: the cache must be a redis:// URL"
        );
        let cache = payments_store::redis::RedisSink::open(url)
            .await
            .with_context(|| format!("opening cache {url}"))?;
        store = Arc::new(CachedStore::new(store, Arc::new(cache)));
    }
    tracing::info!(store = %store.describe(), "serving queries");
    let stop = shutdown::on_signal();
    let routes = GrpcRoutes::new()
        .with_tls(tls)
        .require_bearer(tokens)
        .add_service(
            QueryGrpc::new(store.clone())
                .with_account_view(accounts)
                .into_server(),
        );
    let ready_store = store.clone();
    let ready = http::readiness(move || {
        let store = ready_store.clone();
        async move { store.ping().await.map_err(|e| e.to_string()) }
    });
    let spec = ServiceSpec::new(
        "payments-query",
        &args.grpc_addr,
        &args.http_addr,
        args.shutdown_grace,
    );
    let mut http_app = http_routes(store.clone(), accounts);
    if let Some(console) =
        console_from_args(&args.console, store, requires_tokens, stop.clone()).await?
    {
        http_app = http_app.merge(console);
    }
    serve_service(spec, routes, http_app, ready, stop).await?;
    Ok(())
}
