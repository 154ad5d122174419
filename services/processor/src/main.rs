//! `payments-processor`: consumes the bus into every sink; serves health and reflection.

/// mimalloc: the services allocate and free many small buffers per payment; glibc malloc
/// spent a fifth of the end-to-end benchmark in its locks and free lists.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;
use payments_processor::{ProcessorRole, config::ProcessorArgs};
use payments_runtime::{App, ServeFlags};

fn main() -> std::process::ExitCode {
    payments_runtime::async_runtime::block_on_result(run())
}

async fn run() -> anyhow::Result<()> {
    let args = ProcessorArgs::parse();
    let _telemetry = payments_runtime::telemetry::init("payments-processor");
    let role = ProcessorRole::connect(&args).await?;
    App::builder(args.app_config()?)
        .with_role(role)
        .run()
        .await?;
    Ok(())
}
