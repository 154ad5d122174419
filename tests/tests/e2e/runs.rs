//! Long runs over gRPC: StartRun generates at a rate into ingest, GetRun shows progress,
//! StopRun ends it, and every acknowledged payment is stored.

use payments_proto::v1 as pb;
use pb::generator_service_client::GeneratorServiceClient;
use pb::query_service_client::QueryServiceClient;
use std::time::Duration;
use tonic_types::StatusExt;

use crate::common;

async fn start(
    generator: &mut GeneratorServiceClient<tonic::transport::Channel>,
    spec: pb::RunSpec,
) -> pb::Run {
    generator
        .start_run(pb::StartRunRequest { spec: Some(spec) })
        .await
        .unwrap()
        .into_inner()
        .run
        .unwrap()
}

async fn stored(query: &mut QueryServiceClient<tonic::transport::Channel>, expected: u64) -> u64 {
    let mut count = 0;
    for _ in 0..400 {
        count = query
            .get_stats(pb::GetStatsRequest { filter: None })
            .await
            .unwrap()
            .into_inner()
            .total_count as u64;
        if count >= expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    count
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_in_process_run_completes_its_count_and_everything_is_stored() {
    let (stack, _dir) = common::start_stack("run-count").await;
    let channel = common::channel(stack.grpc_addr).await;
    let mut generator = GeneratorServiceClient::new(channel.clone());
    let spec = pb::RunSpec {
        rate: 2_000,
        count: 1_000,
        seed: 12,
        ..Default::default()
    };
    let run = start(&mut generator, spec).await;
    assert_eq!(run.state(), pb::RunState::Running);
    let done = common::pipeline::wait_run_finished(&mut generator, &run.run_id).await;
    assert_eq!(done.state(), pb::RunState::Completed);
    assert_eq!(
        (done.generated, done.acknowledged, done.rejected),
        (1_000, 1_000, 0)
    );
    assert!(done.finished_at.is_some());
    let listed = generator
        .list_runs(pb::ListRunsRequest {})
        .await
        .unwrap()
        .into_inner()
        .runs;
    assert_eq!(
        listed.first().map(|r| r.run_id.as_str()),
        Some(run.run_id.as_str())
    );
    let mut query = QueryServiceClient::new(channel);
    assert_eq!(stored(&mut query, 1_000).await, 1_000);
    stack.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_into_a_grpc_ingest_target_stops_on_request_and_loses_nothing() {
    // Its own address is the one target a stack's runs may name unless others are allowed.
    let own = format!("127.0.0.1:{}", common::kafka::free_port());
    let (stack, _dir) = common::start_stack_on("run-stop", &own).await;
    let channel = common::channel(stack.grpc_addr).await;
    let mut generator = GeneratorServiceClient::new(channel.clone());
    let spec = pb::RunSpec {
        rate: 1_000,
        ingest_target: stack.grpc_addr.to_string(),
        ..Default::default()
    };
    let run = start(&mut generator, spec).await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let stopped = generator
        .stop_run(pb::StopRunRequest { run_id: run.run_id })
        .await
        .unwrap()
        .into_inner()
        .run
        .unwrap();
    assert_eq!(stopped.state(), pb::RunState::Stopped);
    assert!(
        stopped.acknowledged >= 500,
        "about 1,500 expected, got {}",
        stopped.acknowledged
    );
    assert_eq!(stopped.generated, stopped.acknowledged + stopped.rejected);
    assert_eq!(stopped.last_error, "");
    let mut query = QueryServiceClient::new(channel);
    assert_eq!(
        stored(&mut query, stopped.acknowledged).await,
        stopped.acknowledged
    );
    stack.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_run_requests_name_their_field() {
    let (stack, _dir) = common::start_stack("run-bad").await;
    let mut generator = GeneratorServiceClient::new(common::channel(stack.grpc_addr).await);
    let zero = generator
        .start_run(pb::StartRunRequest {
            spec: Some(pb::RunSpec::default()),
        })
        .await
        .unwrap_err();
    assert_eq!(zero.code(), tonic::Code::InvalidArgument);
    assert_eq!(
        zero.get_details_bad_request().unwrap().field_violations[0].field,
        "spec.rate"
    );
    let spec = pb::RunSpec {
        rate: 10,
        ingest_target: "not a url %%".into(),
        ..Default::default()
    };
    let target = generator
        .start_run(pb::StartRunRequest { spec: Some(spec) })
        .await
        .unwrap_err();
    // Not on the allow-list, so never parsed nor reached: refused by name.
    assert_eq!(target.code(), tonic::Code::PermissionDenied);
    assert_eq!(
        target.get_details_bad_request().unwrap().field_violations[0].field,
        "spec.ingest_target"
    );
    let missing = generator
        .get_run(pb::GetRunRequest {
            run_id: "run-nope".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), tonic::Code::NotFound);
    stack.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_follows_a_run_and_ctrl_c_stops_it() {
    let (stack, _dir) = common::start_stack("run-cli").await;
    let server = stack.grpc_addr.to_string();
    let output = tokio::task::spawn_blocking(move || {
        let child = std::process::Command::new(common::paymentsctl())
            .args(["run", "--rate", "500", "--server", &server])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(2_500));
        std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    let stdout = common::succeeded(&output);
    let last = stdout.lines().last().unwrap_or_default();
    assert!(last.contains(" stopped: generated "), "{stdout}");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains(" running: generated "),
        "progress is shown"
    );
    stack.shutdown().await.unwrap();
}
