//! `payments-generator`: serves GeneratorService with health and reflection.

/// mimalloc: the services allocate and free many small buffers per payment; glibc malloc
/// spent a fifth of the end-to-end benchmark in its locks and free lists.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;
use payments_generator::{GeneratorRole, config::GeneratorArgs, traffic_resource};
use payments_runtime::{App, ServeFlags};

fn main() -> std::process::ExitCode {
    payments_runtime::async_runtime::block_on_result(run())
}

async fn run() -> anyhow::Result<()> {
    let args = GeneratorArgs::parse();
    if args.traffic.print_crd {
        print!("{}", traffic_resource::crd_yaml()?);
        return Ok(());
    }
    let _telemetry = payments_runtime::telemetry::init("payments-generator");
    let role = GeneratorRole::connect(&args).await?;
    App::builder(args.app_config()?)
        .with_role(role)
        .run()
        .await?;
    Ok(())
}
