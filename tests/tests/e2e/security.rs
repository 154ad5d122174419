//! Bearer tokens and load shedding on the gRPC servers: a call without a listed token gets
//! UNAUTHENTICATED (health checks need none), and a call past ingest's concurrency limit is
//! refused at once with RESOURCE_EXHAUSTED instead of queueing.

use crate::common;

use common::kafka::Broker;
use common::pipeline::*;
use common::services::ServiceProcess;
use payments_proto::v1 as pb;
use pb::ingest_service_client::IngestServiceClient;
use pb::query_service_client::QueryServiceClient;
use tonic::Code;

fn with_token<T>(message: T, token: Option<&str>) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Some(token) = token {
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    request
}

/// A query service over a fresh SQLite store in `dir` holding the sample payment `id`,
/// requiring the tokens in `tokens`; and the store's URL.
async fn query_holding(id: &str, tokens: &str, dir: &std::path::Path) -> (ServiceProcess, String) {
    let sqlite = sqlite_url(dir);
    let payment = payments_core::sample::ach_payment(id, 0);
    payments_store::open(&sqlite)
        .await
        .unwrap()
        .upsert_batch(std::slice::from_ref(&payment))
        .await
        .unwrap();
    let query = ServiceProcess::start(
        "payments-query",
        &["--store", &sqlite, "--auth-tokens-file", tokens],
        &dir.join("query.log"),
    )
    .await;
    (query, sqlite)
}

#[tokio::test(flavor = "multi_thread")]
async fn calls_need_a_listed_bearer_token_and_calls_past_the_limit_are_shed() {
    let Some(broker) = Broker::start().await else {
        return;
    };
    let dir = common::temp_dir("security");
    let tokens = dir.join("tokens");
    std::fs::write(
        &tokens,
        "# clients\nteam-a-7f3\nauditor-9 reveal-accounts\n",
    )
    .unwrap();
    let tokens = tokens.display().to_string();
    let url = broker.url("partitions=1");
    let ingest = ServiceProcess::start(
        "payments-ingest",
        &[
            "--bus",
            &url,
            "--auth-tokens-file",
            &tokens,
            "--max-concurrent-calls",
            "1",
        ],
        &dir.join("ingest.log"),
    )
    .await;
    let mut client = IngestServiceClient::new(common::channel(ingest.grpc).await);
    let payments = generated(3, 47);
    let submit = |p: &pb::Payment| pb::SubmitPaymentRequest {
        payment: Some(p.clone()),
        validation_mode: pb::ValidationMode::Strict as i32,
    };

    for token in [None, Some("team-a-7f4"), Some("")] {
        let refused = client
            .submit_payment(with_token(submit(&payments[0]), token))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::Unauthenticated, "token {token:?}");
        assert!(refused.message().contains("bearer token"), "{refused:?}");
    }
    let accepted = client
        .submit_payment(with_token(submit(&payments[0]), Some("team-a-7f3")))
        .await
        .unwrap();
    assert_eq!(accepted.into_inner().payment_id, payments[0].payment_id);
    // Health needs no token.
    let mut health =
        tonic_health::pb::health_client::HealthClient::new(common::channel(ingest.grpc).await);
    let serving = health
        .check(tonic_health::pb::HealthCheckRequest::default())
        .await
        .unwrap();
    assert_eq!(serving.into_inner().status, 1);

    // A stream held open takes the only slot; the next call is shed at once.
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    sender
        .send(pb::SubmitPaymentsRequest {
            payment: Some(payments[1].clone()),
            validation_mode: pb::ValidationMode::Strict as i32,
            payments: Vec::new(),
        })
        .await
        .unwrap();
    let mut streaming = client.clone();
    let open_stream = tokio::spawn(async move {
        streaming
            .submit_payments(with_token(
                tokio_stream::wrappers::ReceiverStream::new(receiver),
                Some("team-a-7f3"),
            ))
            .await
    });
    // Once ingest has validated the stream's first payment, the stream holds the slot.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while ingest.metric("payments_ingest_accepted_total") < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the stream never started"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let shed = client
        .submit_payment(with_token(submit(&payments[2]), Some("team-a-7f3")))
        .await
        .unwrap_err();
    assert_eq!(shed.code(), Code::ResourceExhausted, "{shed:?}");
    assert!(
        shed.message().contains("limit of 1 concurrent calls"),
        "{shed:?}"
    );
    drop(sender);
    let summary = open_stream.await.unwrap().unwrap().into_inner();
    assert_eq!(summary.accepted, 1);
    client
        .submit_payment(with_token(submit(&payments[2]), Some("team-a-7f3")))
        .await
        .unwrap();

    // A generator given the token runs into this ingest, the one target it may reach; it
    // takes tokens of its own, and never sends its ingest token anywhere else.
    let allowed = ingest.grpc.to_string();
    let generator = ServiceProcess::start(
        "payments-generator",
        &[
            "--ingest-token",
            "team-a-7f3",
            "--allow-ingest-target",
            &allowed,
            "--auth-tokens-file",
            &tokens,
        ],
        &dir.join("generator.log"),
    )
    .await;
    let mut runs = pb::generator_service_client::GeneratorServiceClient::new(
        common::channel(generator.grpc).await,
    );
    let run_into = |target: String| pb::StartRunRequest {
        spec: Some(pb::RunSpec {
            rate: 1_000,
            count: 200,
            seed: 48,
            ingest_target: target,
            ..Default::default()
        }),
    };
    let unauthenticated = runs
        .start_run(with_token(run_into(allowed.clone()), None))
        .await
        .unwrap_err();
    assert_eq!(unauthenticated.code(), Code::Unauthenticated);
    let elsewhere = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let elsewhere_addr = elsewhere.local_addr().unwrap().to_string();
    let refused = runs
        .start_run(with_token(run_into(elsewhere_addr), Some("team-a-7f3")))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    assert!(
        refused.message().contains("spec.ingest_target")
            && refused.message().contains("not an allowed ingest target"),
        "{refused:?}"
    );
    let contacted =
        tokio::time::timeout(std::time::Duration::from_millis(500), elsewhere.accept()).await;
    assert!(
        contacted.is_err(),
        "the generator connected to a target it may not reach"
    );
    let run = runs
        .start_run(with_token(run_into(allowed), Some("team-a-7f3")))
        .await
        .unwrap()
        .into_inner()
        .run
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let done = loop {
        let done = runs
            .get_run(with_token(
                pb::GetRunRequest {
                    run_id: run.run_id.clone(),
                },
                Some("team-a-7f3"),
            ))
            .await
            .unwrap()
            .into_inner()
            .run
            .unwrap();
        if done.state() != pb::RunState::Running {
            break done;
        }
        assert!(std::time::Instant::now() < deadline, "the run never ended");
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    };
    assert_eq!(
        (done.state(), done.acknowledged),
        (pb::RunState::Completed, 200)
    );

    let (_, metrics) = common::http(ingest.http, "GET", "/metrics", None);
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("grpc_server_handled_total")
                && l.contains("grpc_code=\"Unauthenticated\"")
                && l.ends_with(" 3")),
        "{metrics}"
    );
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("grpc_server_shed_total ")),
        "{metrics}"
    );

    // The query service takes the same file, and shows full account numbers only to the
    // token with the reveal-accounts scope.
    let (query, _) = query_holding("ACH-MASKED-1", &tokens, &dir).await;
    let mut reader = QueryServiceClient::new(common::channel(query.grpc).await);
    let stats = pb::GetStatsRequest { filter: None };
    let refused = reader
        .get_stats(with_token(stats.clone(), Some("nope")))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    reader
        .get_stats(with_token(stats, Some("team-a-7f3")))
        .await
        .unwrap();
    let account_of = |payment: Option<pb::Payment>| {
        let account = payment
            .and_then(|p| p.originator)
            .and_then(|o| o.account)
            .unwrap();
        account.account_id
    };
    let full = account_of(Some(payments_core::sample::ach_payment("ACH-MASKED-1", 0)));
    assert_eq!(full, "000123456789");
    let get = |id: &str| pb::GetPaymentRequest {
        payment_id: id.into(),
    };
    let masked = reader
        .get_payment(with_token(get("ACH-MASKED-1"), Some("team-a-7f3")))
        .await
        .unwrap()
        .into_inner()
        .payment;
    assert_eq!(account_of(masked), "********6789");
    let listed = reader
        .list_payments(with_token(
            pb::ListPaymentsRequest {
                filter: None,
                page_size: 10,
                page_token: String::new(),
            },
            Some("team-a-7f3"),
        ))
        .await
        .unwrap()
        .into_inner()
        .payments;
    assert_eq!(account_of(listed.into_iter().next()), "********6789");
    let revealed = reader
        .get_payment(with_token(get("ACH-MASKED-1"), Some("auditor-9")))
        .await
        .unwrap()
        .into_inner()
        .payment;
    assert_eq!(account_of(revealed), full);
    let (status, body) = query.http_get("/v1/payments/ACH-MASKED-1", None);
    assert_eq!(status, 401, "HTTP without a token: {body}");
    let (_, body) = query.http_get("/v1/payments/ACH-MASKED-1", Some("team-a-7f3"));
    assert!(
        body.contains("********6789") && !body.contains(&full),
        "{body}"
    );
    // paymentsctl sends its --token (or PAYMENTS_TOKEN).
    let stats = |token: Option<&str>| {
        let mut command = std::process::Command::new(common::paymentsctl());
        command.args(["stats", "--server", &query.grpc.to_string()]);
        if let Some(token) = token {
            command.env("PAYMENTS_TOKEN", token);
        }
        command.output().unwrap()
    };
    let refused = stats(None);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("bearer token"),
        "{refused:?}"
    );
    assert!(stats(Some("team-a-7f3")).status.success());
    // No log line carries a token.
    for log in ["ingest.log", "query.log"] {
        let text = std::fs::read_to_string(dir.join(log)).unwrap();
        assert!(!text.contains("team-a-7f3"), "{log} shows a token");
        assert!(!text.contains(&full), "{log} shows a full account number");
    }
}

/// The query service's HTTP routes take the same bearer tokens as its gRPC calls: without
/// one (or with an unknown one) they answer 401, with one they serve, and a token with the
/// `reveal-accounts` scope sees full account numbers. Probes, metrics and the seed's
/// `/health` stay open. The console is off, unless `--console-despite-auth` serves its page,
/// and its API still answers 401 without a token.
#[tokio::test(flavor = "multi_thread")]
async fn query_http_routes_take_the_same_bearer_tokens_as_grpc() {
    let dir = common::temp_dir("http-auth");
    let tokens = dir.join("tokens");
    std::fs::write(&tokens, "team-a-7f3\nauditor-9 reveal-accounts\n").unwrap();
    let tokens = tokens.display().to_string();
    let (query, sqlite) = query_holding("HTTP-AUTH-1", &tokens, &dir).await;
    let get = |path: &str, bearer: Option<&str>| query.http_get(path, bearer);
    let post = |path: &str, body: &str, bearer: Option<&str>| {
        let options = common::HttpOptions {
            bearer,
            ..Default::default()
        };
        common::http_with(query.http, "POST", path, Some(body), options)
    };

    for token in [None, Some("team-a-7f4"), Some("")] {
        let (status, body) = get("/v1/payments/HTTP-AUTH-1", token);
        assert_eq!(status, 401, "token {token:?}: {body}");
        assert!(body.contains("bearer token"), "{body}");
        let (status, _) = post(
            "/payments/time-range",
            r#"{"start_date": "2020-01-01", "end_date": "2030-01-01"}"#,
            token,
        );
        assert_eq!(status, 401, "time-range with token {token:?}");
    }
    let (status, body) = get("/v1/payments/HTTP-AUTH-1", Some("team-a-7f3"));
    assert_eq!(status, 200, "{body}");
    let masked: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        masked["originator"]["account"]["accountId"], "********6789",
        "{body}"
    );
    let (status, body) = get("/v1/payments/HTTP-AUTH-1", Some("auditor-9"));
    assert_eq!(status, 200, "{body}");
    let full: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(full["originator"]["account"]["accountId"], "000123456789");
    let (status, body) = post(
        "/payments/time-range",
        r#"{"start_date": "2020-01-01", "end_date": "2030-01-01"}"#,
        Some("team-a-7f3"),
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("HTTP-AUTH-1"), "{body}");
    // A browser's CORS preflight carries no token, and is answered.
    let preflight = common::raw_http(
        query.http,
        "OPTIONS /payments/time-range HTTP/1.1\r\nhost: x\r\norigin: https://dash.example\r\n\
         access-control-request-method: POST\r\nconnection: close\r\n\r\n",
    );
    assert!(preflight.starts_with("HTTP/1.1 200"), "{preflight}");
    for open in ["/health", "/readyz", "/livez", "/metrics"] {
        assert_eq!(get(open, None).0, 200, "{open} needs no token");
    }
    assert_eq!(
        get("/", None).0,
        404,
        "no console without --console-despite-auth"
    );
    assert_eq!(get("/api/stats", Some("team-a-7f3")).0, 404);
    drop(query);

    let with_console = ServiceProcess::start(
        "payments-query",
        &[
            "--store",
            &sqlite,
            "--auth-tokens-file",
            &tokens,
            "--console-despite-auth",
        ],
        &dir.join("query-console.log"),
    )
    .await;
    let (status, page) = with_console.http_get("/", None);
    assert_eq!(status, 200, "the page holds no data and is served");
    assert!(page.contains("<html"), "{page}");
    assert_eq!(with_console.http_get("/api/stats", None).0, 401);
    assert_eq!(
        with_console.http_get("/api/payments/HTTP-AUTH-1", None).0,
        401
    );
    let (status, body) = with_console.http_get("/api/stats", Some("team-a-7f3"));
    assert_eq!(status, 200, "{body}");
}
