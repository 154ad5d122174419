//! `paymentsctl hbase init`.

use crate::cli::{HbaseArgs, HbaseCommand, HbaseInitArgs};
use anyhow::Context;

/// Runs an `hbase` subcommand.
pub async fn run(args: HbaseArgs) -> anyhow::Result<()> {
    match args.command {
        HbaseCommand::Init(init) => self::init(init).await,
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
