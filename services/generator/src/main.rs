//! `payments-generator`: serves GeneratorService with health and reflection.

/// mimalloc: the services allocate and free many small buffers per payment; glibc malloc
/// spent a fifth of the end-to-end benchmark in its locks and free lists.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context;
use clap::Parser;
use payments_bus::Bus;
use payments_generator::{
    GeneratorGrpc, IngestorSink, PaymentSink, config::GeneratorArgs, traffic_resource,
};
use payments_ingest::Ingestor;
use payments_runtime::{GrpcRoutes, ServiceSpec, http, serve_service, shutdown};
use std::sync::Arc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    payments_runtime::exit_code(run().await)
}

async fn run() -> anyhow::Result<()> {
    let args = GeneratorArgs::parse();
    if args.traffic.print_crd {
        print!("{}", traffic_resource::crd_yaml()?);
        return Ok(());
    }
    let _telemetry = payments_runtime::telemetry::init("payments-generator");
    let tls = args.tls.server_config().map_err(anyhow::Error::msg)?;
    let ingest_client = args.ingest.client().map_err(anyhow::Error::msg)?;
    let bus = match &args.bus {
        Some(url) => {
            let bus = Bus::connect_networked(url, "payments-generator", &[&args.topic])
                .await
                .with_context(|| format!("connecting to bus {url}"))?;
            tracing::info!(bus = %bus.describe(), topic = %args.topic, "runs without an ingest target publish to the bus");
            Some(bus)
        }
        None => None,
    };
    let local_sink = bus.as_ref().map(|bus| {
        Arc::new(IngestorSink(
            Ingestor::new(bus.producer(), args.topic.clone(), args.key)
                .with_encoding(bus.value_encoding()),
        )) as Arc<dyn PaymentSink>
    });
    let stop = shutdown::on_signal();
    let generator = GeneratorGrpc::new(args.customers, local_sink, ingest_client, stop.clone());
    let mut controller = None;
    if args.traffic.watch_payment_traffic {
        let client = kube::Client::try_default().await.context(
            "connecting to the Kubernetes API (in-cluster service account or ~/.kube/config)",
        )?;
        let context = Arc::new(traffic_resource::TrafficContext::new(
            client,
            generator.runs(),
            args.traffic.traffic_default_target.clone(),
            stop.clone(),
        ));
        let watch = traffic_resource::TrafficWatch::connect(
            args.traffic.traffic_namespace.as_deref(),
            context,
        )
        .await?;
        controller = Some(tokio::spawn(watch.run()));
    }
    let routes = GrpcRoutes::new()
        .with_tls(tls)
        .add_service(generator.into_server());
    let ready = http::readiness(move || {
        let bus = bus.clone();
        async move {
            match bus {
                Some(bus) => bus.check_ready().await,
                None => Ok(()),
            }
        }
    });
    let spec = ServiceSpec::new(
        "payments-generator",
        &args.grpc_addr,
        &args.http_addr,
        args.shutdown_grace,
    );
    serve_service(spec, routes, axum::Router::new(), ready, stop).await?;
    if let Some(controller) = controller {
        // It stops with the same signal, then lets go of its objects' finalizers.
        if tokio::time::timeout(std::time::Duration::from_secs(10), controller)
            .await
            .is_err()
        {
            tracing::warn!("payment traffic controller did not stop within 10 s");
        }
    }
    Ok(())
}
