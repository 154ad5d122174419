//! `paymentsctl hbase init` and `paymentsctl hbase serve-standin`.

use crate::cli::{HbaseArgs, HbaseCommand, HbaseInitArgs, HbaseStandinArgs};
use anyhow::Context;
use payments_hbase_standin::HbaseStandin;

/// Runs an `hbase` subcommand.
pub async fn run(args: HbaseArgs) -> anyhow::Result<()> {
    match args.command {
        HbaseCommand::Init(init) => self::init(init).await,
        HbaseCommand::ServeStandin(serve) => serve_standin(serve).await,
    }
}

async fn init(args: HbaseInitArgs) -> anyhow::Result<()> {
    let tables = payments_store::hbase::init(&args.hbase)
        .await
        .with_context(|| format!("creating the payments tables at {}", args.hbase))?;
    for table in tables {
        let what = if table.created {
            "created"
        } else {
            "already exists, left as it is"
        };
        println!("{}: {what}", table.table);
    }
    Ok(())
}

async fn serve_standin(args: HbaseStandinArgs) -> anyhow::Result<()> {
    let standin = HbaseStandin::start(&args.listen)
        .with_context(|| format!("listening on {}", args.listen))?;
    println!(
        "HBase Thrift stand-in (in memory, not HBase) serving {}; Ctrl-C stops it",
        standin.url()
    );
    let signal = payments_runtime::shutdown::wait_for_signal().await;
    tracing::info!(signal, "hbase stand-in stopping");
    drop(standin);
    Ok(())
}
