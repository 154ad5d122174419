//! `paymentsctl up`: the whole system in this process until Ctrl-C or SIGTERM.

use crate::cli::UpArgs;
use crate::stack::{RunningStack, StackConfig};
use payments_runtime::shutdown::wait_for_signal;
use std::time::Duration;

/// Runs the stack, prints where it listens, drains on a signal.
pub async fn run(args: UpArgs) -> anyhow::Result<()> {
    let config = StackConfig {
        grpc_addr: args.grpc_addr,
        http_addr: args.http_addr,
        bus: args.bus,
        store: args.store.clone(),
        rate: args.rate,
        seed: args.seed.unwrap_or_else(super::clock_seed),
        shutdown_grace: Duration::from_secs(args.shutdown_grace),
        trace_link: args.trace_link.clone(),
        allow_ingest_targets: args.allow_ingest_target.clone(),
        ..Default::default()
    };
    let stack = RunningStack::start(config).await?;
    let grpc = stack.grpc_addr;
    let http = stack.http_addr;
    println!("payments is up");
    println!(
        "  gRPC   {grpc}  payments.v1.GeneratorService, IngestService, QueryService; grpc.health.v1.Health; reflection"
    );
    println!(
        "  HTTP   http://{http}  /health /livez /readyz /metrics  POST /payments/time-range /payments/type-customer /payments/date-type-customer"
    );
    println!(
        "  console http://{http}/  the pipeline live, payments, mix, dead letters, traffic runs"
    );
    println!("  bus    {}", stack.bus());
    println!("  store  {}", args.store);
    match args.rate {
        Some(rate) if rate > 0 => println!("  traffic {rate} payments/s"),
        _ => println!("  traffic none (add --rate N for steady generated traffic)"),
    }
    println!("try:   grpcurl -plaintext {grpc} list");
    println!("       paymentsctl submit --lenient seed-transactions.json");
    println!("Ctrl-C drains and exits.");
    let failure = stack.failure();
    tokio::select! {
        signal = wait_for_signal() => tracing::info!(signal, "shutdown requested; draining"),
        () = failure.cancelled() => tracing::error!("a part of the stack stopped; draining"),
    }
    let (processor, traffic, runs) = (stack.processor.clone(), stack.traffic.clone(), stack.runs());
    stack.shutdown().await?;
    let load =
        |counter: &std::sync::atomic::AtomicU64| counter.load(std::sync::atomic::Ordering::Relaxed);
    let run_acks: u64 = runs.list().iter().map(|r| r.acknowledged).sum();
    println!(
        "drained: steady traffic generated {} and ingest acknowledged {} of them; traffic runs acknowledged {}; processor stored {} from every source, clients' submissions included ({} of them replays of stored revisions), and dead-lettered {}; bye",
        load(&traffic.generated),
        load(&traffic.accepted),
        run_acks,
        processor.stored(),
        processor.unchanged(),
        processor.dead_lettered()
    );
    Ok(())
}
