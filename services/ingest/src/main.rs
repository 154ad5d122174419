//! `payments-ingest`: serves IngestService with health and reflection.

/// mimalloc: the services allocate and free many small buffers per payment; glibc malloc
/// spent a fifth of the end-to-end benchmark in its locks and free lists.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context;
use clap::Parser;
use payments_ingest::{IngestRole, config::IngestArgs};
use payments_runtime::{App, ServeFlags};

fn main() -> std::process::ExitCode {
    payments_runtime::async_runtime::block_on_result(run())
}

async fn run() -> anyhow::Result<()> {
    let args = IngestArgs::parse();
    let _telemetry = payments_runtime::telemetry::init("payments-ingest");
    let role = IngestRole::connect(&args)
        .await
        .with_context(|| format!("connecting to bus {}", args.bus))?;
    App::builder(args.app_config()?)
        .with_role(role)
        .run()
        .await?;
    Ok(())
}
