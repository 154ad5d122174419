//! The seed's data and API: its 90-payment fixture goes in through the CLI, and its
//! time-range and type-customer queries return it over gRPC and over HTTP.

use payments_proto::v1 as pb;
use pb::query_service_client::QueryServiceClient;

use crate::common;

fn submit(server: &str, lenient: bool) -> std::process::Output {
    let mut cmd = std::process::Command::new(common::paymentsctl());
    cmd.arg("submit")
        .arg("--server")
        .arg(server)
        .arg(common::seed_fixture());
    if lenient {
        cmd.arg("--lenient");
    }
    cmd.output().expect("running paymentsctl submit")
}

async fn wait_for_count(query: &mut QueryServiceClient<tonic::transport::Channel>, n: i64) {
    for _ in 0..200 {
        let stats = query
            .get_stats(pb::GetStatsRequest { filter: None })
            .await
            .unwrap()
            .into_inner();
        if stats.total_count >= n {
            assert_eq!(stats.total_count, n);
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("{n} payments never became queryable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_submit_rejects_exactly_the_bad_check_digits_naming_the_field() {
    let (stack, _dir) = common::start_stack("seed-strict").await;
    let server = stack.grpc_addr.to_string();
    let out = tokio::task::spawn_blocking(move || submit(&server, false))
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success(),
        "strict submit of the seed must fail: {stdout}"
    );
    let rejected: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("rejected "))
        .collect();
    assert_eq!(rejected.len(), 89, "{stdout}");
    assert!(
        rejected
            .iter()
            .all(|l| l
                .contains("account.routing_info.value: ABA routing number check digit mismatch")),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 accepted (0 with warnings), 89 rejected"),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--lenient"));
    let mut query = QueryServiceClient::new(common::channel(stack.grpc_addr).await);
    wait_for_count(&mut query, 1).await;
    stack.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lenient_submit_accepts_all_90_and_seed_queries_return_them() {
    let (stack, _dir) = common::start_stack("seed-lenient").await;
    let server = stack.grpc_addr.to_string();
    let out = tokio::task::spawn_blocking(move || submit(&server, true))
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("submitted 90 payments: 90 accepted (89 with warnings), 0 rejected"),
        "{stdout}"
    );

    let mut query = QueryServiceClient::new(common::channel(stack.grpc_addr).await);
    wait_for_count(&mut query, 90).await;

    // The seed's time-range query over gRPC: 2024-12-21, the fixture's day.
    let day = |d: &str| payments_proto::Timestamp {
        seconds: chrono_free_midnight(d),
        nanos: 0,
    };
    let filter = pb::PaymentFilter {
        created_from: Some(day("2024-12-21")),
        created_to: Some(day("2024-12-22")),
        ..Default::default()
    };
    let page = query
        .list_payments(pb::ListPaymentsRequest {
            filter: Some(filter),
            page_size: 1000,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.payments.len(), 90);
    assert!(page.next_page_token.is_empty());
    let with_warnings = page
        .payments
        .iter()
        .filter(|p| !p.warnings.is_empty())
        .count();
    assert_eq!(with_warnings, 89, "stored payments carry their warnings");

    // The same over HTTP, in the seed's shapes.
    let rows = common::time_range_rows(stack.http_addr, "2024-12-21", "2024-12-21");
    assert_eq!(rows.len(), 90);
    assert_eq!(rows[0]["payment_id"], "ACH-CAEF9452");
    // A decimal string, as the seed's FastAPI app (pydantic 2.5.2) answered.
    assert_eq!(rows[0]["amount"], "900898.06");
    assert_eq!(rows[0]["created_at"], "2024-12-21T19:42:17.520914");

    // Type + customer, over gRPC and HTTP.
    let filter = pb::PaymentFilter {
        payment_types: vec![pb::PaymentType::Ach as i32],
        originator_id: "CUST88C031C3".into(),
        ..Default::default()
    };
    let page = query
        .list_payments(pb::ListPaymentsRequest {
            filter: Some(filter),
            page_size: 10,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        page.payments
            .iter()
            .map(|p| p.payment_id.as_str())
            .collect::<Vec<_>>(),
        vec!["ACH-CAEF9452"]
    );
    let (status, body) = common::http(
        stack.http_addr,
        "POST",
        "/payments/type-customer",
        Some(r#"{"payment_type":"ACH","customer_id":"CUST88C031C3"}"#),
    );
    assert_eq!(status, 200, "{body}");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["originator_name"], "Turner, Reyes and Vazquez");
    let sepa = r#"{"start_date":"2024-12-01","end_date":"2024-12-31","payment_type":"SEPA_CREDIT_TRANSFER","customer_id":"nobody"}"#;
    let (status, body) = common::http(
        stack.http_addr,
        "POST",
        "/payments/date-type-customer",
        Some(sepa),
    );
    assert_eq!((status, body.as_str()), (200, "[]"));

    stack.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_routes_report_bad_bodies_field_by_field() {
    let (stack, _dir) = common::start_stack("seed-http").await;
    let (status, body) = common::http(stack.http_addr, "GET", "/health", None);
    assert_eq!((status, body.as_str()), (200, r#"{"status":"healthy"}"#));
    let (status, body) = common::http(
        stack.http_addr,
        "POST",
        "/payments/date-type-customer",
        Some(r#"{"start_date":"21/12/2024","payment_type":"BTC"}"#),
    );
    assert_eq!(status, 422);
    let detail: serde_json::Value = serde_json::from_str(&body).unwrap();
    let fields: Vec<&str> = detail["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["loc"][1].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        vec!["start_date", "end_date", "payment_type", "customer_id"]
    );
    // Each entry as pydantic 2 writes it: its type, and the input it was given (the whole
    // body for a missing field).
    let entries = detail["detail"].as_array().unwrap();
    let kinds: Vec<&str> = entries
        .iter()
        .map(|d| d["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        vec![
            "date_from_datetime_parsing",
            "missing",
            "value_error",
            "missing"
        ]
    );
    assert_eq!(entries[0]["input"], "21/12/2024");
    assert_eq!(entries[1]["msg"], "Field required");
    assert_eq!(entries[1]["input"]["payment_type"], "BTC");
    assert_eq!(entries[2]["input"], "BTC");
    let (status, body) = common::http(
        stack.http_addr,
        "POST",
        "/payments/time-range",
        Some("{not json"),
    );
    assert_eq!(status, 422);
    assert!(body.contains(r#""type":"json_invalid""#), "{body}");
    let (status, body) = common::http(stack.http_addr, "POST", "/payments/time-range", Some("[1]"));
    assert_eq!(status, 422);
    assert!(body.contains(r#""type":"model_attributes_type""#), "{body}");
    // CORS as the seed's FastAPI app allowed it: any origin, method and header, credentials.
    let preflight = common::raw_http(
        stack.http_addr,
        "OPTIONS /payments/time-range HTTP/1.1\r\nhost: x\r\norigin: https://dash.example\r\n\
         access-control-request-method: POST\r\naccess-control-request-headers: content-type\r\n\
         connection: close\r\n\r\n",
    );
    assert!(preflight.starts_with("HTTP/1.1 200"), "{preflight}");
    for expected in [
        "access-control-allow-origin: https://dash.example",
        "access-control-allow-credentials: true",
        "access-control-allow-headers: content-type",
    ] {
        assert!(
            preflight.contains(expected),
            "{expected} not in {preflight}"
        );
    }
    let answer = common::raw_http(
        stack.http_addr,
        "GET /health HTTP/1.1\r\nhost: x\r\norigin: https://dash.example\r\nconnection: close\r\n\r\n",
    );
    assert!(
        answer.contains("access-control-allow-origin: https://dash.example"),
        "{answer}"
    );
    for probe in ["/livez", "/readyz"] {
        assert_eq!(
            common::http(stack.http_addr, "GET", probe, None).0,
            200,
            "{probe}"
        );
    }
    stack.shutdown().await.unwrap();
}

/// Seconds since the epoch of a `YYYY-MM-DD` midnight UTC, without a date library.
fn chrono_free_midnight(date: &str) -> i64 {
    let parts: Vec<i64> = date.split('-').map(|p| p.parse().unwrap()).collect();
    let (y, m, d) = (parts[0], parts[1], parts[2]);
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) * 86_400
}
