//! One filter, four surfaces: `to=2025-01-06` (the whole of that UTC day, and nothing
//! after it) gives the same payments from the CLI, gRPC, the seed's HTTP routes and the
//! console's API, because each is a thin adapter over one parser.

use crate::common;
use payments_core::sample::ach_payment;
use payments_proto::v1 as pb;
use pb::ingest_service_client::IngestServiceClient;
use pb::query_service_client::QueryServiceClient;
use std::collections::BTreeSet;

/// Seconds after 2025-01-06T09:00:00Z (the sample payments' base) of each payment: around
/// the end of 2025-01-06, on both sides of midnight.
const OFFSETS: [(&str, i64); 6] = [
    ("F-jan-04", -2 * 86_400),
    ("F-jan-05", -86_400),
    ("F-jan-06-0900", 0),
    ("F-jan-06-235959", 15 * 3_600 - 1),
    ("F-jan-07-0000", 15 * 3_600),
    ("F-jan-08", 2 * 86_400),
];

fn ids(values: impl IntoIterator<Item = String>) -> BTreeSet<String> {
    values.into_iter().collect()
}

fn json_ids(array: &serde_json::Value) -> BTreeSet<String> {
    ids(array
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {array}"))
        .iter()
        .map(|p| p["payment_id"].as_str().unwrap_or_default().to_owned()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn to_a_day_gives_the_same_payments_from_the_cli_grpc_the_seed_routes_and_the_console() {
    let (stack, _dir) = common::start_stack("filters").await;
    let channel = common::channel(stack.grpc_addr).await;
    let mut ingest = IngestServiceClient::new(channel.clone());
    for (id, offset) in OFFSETS {
        ingest
            .submit_payment(pb::SubmitPaymentRequest {
                payment: Some(ach_payment(id, offset)),
                validation_mode: pb::ValidationMode::Strict as i32,
            })
            .await
            .unwrap();
    }
    let mut query = QueryServiceClient::new(channel);
    for _ in 0..400 {
        let stats = query
            .get_stats(pb::GetStatsRequest { filter: None })
            .await
            .unwrap()
            .into_inner();
        if stats.total_count == OFFSETS.len() as i64 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let expected = ids(OFFSETS[..4].iter().map(|(id, _)| (*id).to_owned()));

    // The CLI: `--to 2025-01-06`.
    let server = stack.grpc_addr.to_string();
    let output = tokio::process::Command::new(common::paymentsctl())
        .args(["list", "--server", &server, "--to", "2025-01-06"])
        .args(["--format", "jsonl", "--all"])
        .output()
        .await
        .unwrap();
    let cli = ids(common::succeeded(&output).lines().map(|line| {
        let payment: serde_json::Value = serde_json::from_str(line).unwrap();
        payment["paymentId"].as_str().unwrap_or_default().to_owned()
    }));
    assert_eq!(cli, expected, "paymentsctl list --to 2025-01-06");

    // gRPC: a timestamp bound is exclusive, so the day's end is the next midnight.
    let listed = query
        .list_payments(pb::ListPaymentsRequest {
            filter: Some(pb::PaymentFilter {
                created_to: Some(payments_core::pb::Timestamp {
                    seconds: 1_736_208_000, // 2025-01-07T00:00:00Z
                    nanos: 0,
                }),
                ..Default::default()
            }),
            page_size: 0,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let grpc = ids(listed.payments.into_iter().map(|p| p.payment_id));
    assert_eq!(
        grpc, expected,
        "ListPayments created_to 2025-01-07T00:00:00Z"
    );

    // The seed's routes: both ends of a date range are inclusive days.
    let body = r#"{"start_date": "2000-01-01", "end_date": "2025-01-06"}"#;
    let (status, text) = common::http(stack.http_addr, "POST", "/payments/time-range", Some(body));
    assert_eq!(status, 200, "{text}");
    let seed = json_ids(&serde_json::from_str(&text).unwrap());
    assert_eq!(
        seed, expected,
        "POST /payments/time-range end_date 2025-01-06"
    );

    // The console's API.
    let (status, text) = common::http(stack.http_addr, "GET", "/api/payments?to=2025-01-06", None);
    assert_eq!(status, 200, "{text}");
    let answer: serde_json::Value = serde_json::from_str(&text).unwrap();
    let console = json_ids(&answer["payments"]);
    assert_eq!(console, expected, "GET /api/payments?to=2025-01-06");

    // A bad bound is named on every surface.
    let output = tokio::process::Command::new(common::paymentsctl())
        .args(["list", "--server", &server, "--to", "2025-13-01"])
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--to \"2025-13-01\""), "{stderr}");
    let (status, text) = common::http(stack.http_addr, "GET", "/api/payments?to=2025-13-01", None);
    assert_eq!(status, 400, "{text}");
    assert!(text.contains(r#""parameter":"to""#), "{text}");

    stack.shutdown().await.unwrap();
}
