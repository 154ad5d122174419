//! Deadlines end to end: a caller's `grpc-timeout` reaches ingest, which stops waiting for
//! a frozen broker and answers DEADLINE_EXCEEDED saying how far it got, before the caller
//! gives up; resubmitting afterwards stores every payment once.

use crate::common::{
    self,
    kafka::Broker,
    pipeline::{
        assert_stored_once, generated, ingest_process, open_store, processor_process, submit,
        wait_stored,
    },
};
use payments_proto::v1 as pb;
use pb::ingest_service_client::IngestServiceClient;
use std::process::Command;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn ingest_answers_deadline_exceeded_while_the_broker_is_frozen_and_a_resubmission_stores_everything_once()
 {
    let Some(broker) = Broker::start().await else {
        return;
    };
    let dir = common::temp_dir("deadlines");
    let ingest = ingest_process(&broker, "partitions=3", &dir).await;
    let _processor = processor_process(&broker, &dir, "processor.log", &[]).await;
    let payments = generated(600, 31);
    let mut client = IngestServiceClient::new(common::channel(ingest.grpc).await);

    broker.pause();
    let mut one = tonic::Request::new(pb::SubmitPaymentRequest {
        payment: Some(payments[0].clone()),
        validation_mode: pb::ValidationMode::Strict as i32,
    });
    one.set_timeout(Duration::from_secs(2));
    let status = client.submit_payment(one).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::DeadlineExceeded, "{status:?}");
    assert!(
        status.message().contains("deadline of 2000 ms passed")
            && status
                .message()
                .contains("resubmitting it with the same id is safe"),
        "{}",
        status.message()
    );

    let records: Vec<pb::SubmitPaymentsRequest> = payments[1..]
        .iter()
        .map(|p| pb::SubmitPaymentsRequest {
            payment: Some(p.clone()),
            validation_mode: pb::ValidationMode::Strict as i32,
            payments: Vec::new(),
        })
        .collect();
    let mut stream = tonic::Request::new(tokio_stream::iter(records));
    stream.set_timeout(Duration::from_secs(3));
    let status = client.submit_payments(stream).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::DeadlineExceeded, "{status:?}");
    assert!(
        status.message().contains(
            "after 599 records: 0 confirmed by the bus, 0 rejected as invalid, 599 not confirmed"
        ),
        "{}",
        status.message()
    );

    // The CLI's --timeout sends the same deadline and reports the server's answer.
    let file = dir.join("one.jsonl");
    let generate = Command::new(common::paymentsctl())
        .args([
            "generate", "--count", "5", "--seed", "32", "--format", "jsonl",
        ])
        .arg("--out")
        .arg(&file)
        .output()
        .unwrap();
    assert!(generate.status.success());
    let server = ingest.grpc.to_string();
    let cli = tokio::task::spawn_blocking(move || {
        Command::new(common::paymentsctl())
            .args(["submit", "--server", &server, "--timeout", "1.5"])
            .arg(&file)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&cli.stderr);
    assert!(
        !cli.status.success(),
        "submit succeeded with a frozen broker"
    );
    assert!(
        stderr.contains("deadline of 1500 ms passed"),
        "paymentsctl did not report the deadline: {stderr}"
    );
    broker.resume();

    // Nothing is lost: the caller resubmits everything it was not told was stored.
    let (acknowledged, failed) = submit(ingest.grpc, &payments, 200).await;
    assert_eq!(failed, 0);
    let store = open_store(&dir.join("payments.db")).await;
    wait_stored(store.as_ref(), 600, Duration::from_secs(120)).await;
    assert_stored_once(store.as_ref(), &acknowledged).await;
}

#[test]
fn a_timeout_that_is_not_a_positive_number_is_refused_by_name() {
    for (value, says) in [
        ("soon", "\"soon\" is not a number of seconds"),
        ("0", "must be more than 0 seconds"),
        ("-3", "must be more than 0 seconds"),
    ] {
        let out = Command::new(common::paymentsctl())
            .args(["list", &format!("--timeout={value}")])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("--timeout") && stderr.contains(says),
            "{value}: {stderr}"
        );
    }
}
