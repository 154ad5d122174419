//! `paymentsctl run`: a long run on the server's generator, followed until it ends.

use crate::cli::RunArgs;
use crate::client;
use crate::commands::query::describe_status;
use payments_core::pb;
use std::time::Duration;

fn progress(run: &pb::Run) -> String {
    format!(
        "{} {}: generated {}, acknowledged {}, rejected {}, {:.0} payments/s{}",
        run.run_id,
        run.state()
            .as_str_name()
            .trim_start_matches("RUN_STATE_")
            .to_ascii_lowercase(),
        run.generated,
        run.acknowledged,
        run.rejected,
        run.actual_rate,
        if run.last_error.is_empty() {
            String::new()
        } else {
            format!(" (last error: {})", run.last_error)
        }
    )
}

/// Starts the run, prints its progress every second, stops it on Ctrl-C.
pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    let spec = pb::RunSpec {
        rate: args.rate,
        count: args.count,
        duration_seconds: args.duration,
        seed: args.seed,
        types: super::generate::parse_types(&args.types)?
            .into_iter()
            .map(|t| t as i32)
            .collect(),
        scenario_rate: args.scenario_rate,
        ingest_target: args.target.clone(),
        burst_every_seconds: args.burst_every,
        burst_seconds: args.burst_seconds,
        burst_factor: args.burst_factor,
    };
    let mut generator = client::generator(client::connect(&args.server).await?);
    let fail = |s: tonic::Status| anyhow::anyhow!(describe_status(&s));
    let mut run = generator
        .start_run(pb::StartRunRequest { spec: Some(spec) })
        .await
        .map_err(fail)?
        .into_inner()
        .run
        .ok_or_else(|| anyhow::anyhow!("the server returned no run"))?;
    println!("started {}", run.run_id);
    // One Ctrl-C listener for the whole run, so a press during a GetRun call is not lost.
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    let mut stopping = false;
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    ticker.tick().await;
    while run.state() == pb::RunState::Running {
        tokio::select! {
            _ = ticker.tick() => {
                match generator.get_run(pb::GetRunRequest { run_id: run.run_id.clone() }).await {
                    Ok(response) => run = response.into_inner().run.unwrap_or(run),
                    Err(status) => {
                        // Leave no run behind that nobody follows.
                        let _ = generator.stop_run(pb::StopRunRequest { run_id: run.run_id.clone() }).await;
                        return Err(fail(status));
                    }
                }
                eprintln!("{}", progress(&run));
            }
            _ = &mut interrupted, if !stopping => {
                stopping = true;
                eprintln!("stopping {}", run.run_id);
                run = generator
                    .stop_run(pb::StopRunRequest { run_id: run.run_id.clone() })
                    .await
                    .map_err(fail)?
                    .into_inner()
                    .run
                    .unwrap_or(run);
            }
        }
    }
    println!("{}", progress(&run));
    Ok(())
}
