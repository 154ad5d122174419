//! `payments-query`: serves QueryService and the seed's HTTP routes.

/// mimalloc: the services allocate and free many small buffers per payment; glibc malloc
/// spent a fifth of the end-to-end benchmark in its locks and free lists.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;
use payments_query::{QueryRole, config::QueryArgs};
use payments_runtime::{App, ServeFlags};

fn main() -> std::process::ExitCode {
    payments_runtime::async_runtime::block_on_result(run())
}

async fn run() -> anyhow::Result<()> {
    let args = QueryArgs::parse();
    let _telemetry = payments_runtime::telemetry::init("payments-query");
    let role = QueryRole::connect(&args).await?;
    App::builder(args.app_config()?)
        .with_role(role)
        .run()
        .await?;
    Ok(())
}
