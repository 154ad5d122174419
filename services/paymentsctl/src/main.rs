//! `paymentsctl`: parses the command line and runs the subcommand.

/// mimalloc: the services allocate and free many small buffers per payment; glibc malloc
/// spent a fifth of the end-to-end benchmark in its locks and free lists.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;
use paymentsctl::cli::{Cli, Command};
use paymentsctl::commands;
use std::process::ExitCode;

fn main() -> ExitCode {
    payments_runtime::async_runtime::block_on(run())
}

async fn run() -> ExitCode {
    let cli = Cli::parse();
    let _telemetry = payments_runtime::telemetry::init_with_default_filter(
        "paymentsctl",
        cli.command.default_log_filter(),
    );
    let result = match cli.command {
        Command::Up(args) => commands::up::run(args).await,
        Command::Generate(args) => commands::generate::run(args),
        Command::Submit(args) => commands::submit::run(args).await,
        Command::Get(args) => commands::query::get(args).await,
        Command::List(args) => commands::query::list(args).await,
        Command::Stats(args) => commands::query::stats(args).await,
        Command::Bench(args) => commands::bench::run(args).await,
        Command::Run(args) => commands::run::run(args).await,
        Command::Dlq(args) => commands::dlq::run(args).await,
        Command::BenchKafka(args) => commands::bench_kafka::run(args).await,
        Command::Verify(args) => commands::verify::run(args).await,
        Command::BenchSink(args) => commands::bench_sink::run(args).await,
        Command::Hbase(args) => commands::hbase::run(args).await,
    };
    paymentsctl::interrupt::exit_code(result)
}
