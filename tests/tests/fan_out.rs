//! One processor writing every batch to several sinks (SQLite and the local PostgreSQL),
//! against a real Kafka-protocol broker (Tansu): the stores agree payment by payment
//! (`paymentsctl verify`), replays change nothing, and the query service answers the same
//! pages from either store. With `CI=true` a missing Tansu or PostgreSQL fails these tests.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::kafka::Broker;
use common::pipeline::*;
use common::services::ServiceProcess;
use payments_proto::v1 as pb;
use pb::query_service_client::QueryServiceClient;
use std::time::Duration;

/// When PostgreSQL last wrote a payment row.
const LAST_WRITE: &str = "SELECT max(stored_at)::text FROM payments";

fn verify(stores: &[&str]) -> (bool, String) {
    let mut command = std::process::Command::new(common::paymentsctl());
    command.arg("verify");
    for store in stores {
        command.args(["--store", store]);
    }
    let out = command.output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Every page of ACH payments, 250 at a time, from the query service at `addr`.
async fn ach_pages(addr: std::net::SocketAddr) -> Vec<Vec<String>> {
    let mut client = QueryServiceClient::new(common::channel(addr).await);
    let (mut pages, mut token) = (Vec::new(), String::new());
    loop {
        let page = client
            .list_payments(pb::ListPaymentsRequest {
                filter: Some(pb::PaymentFilter {
                    payment_types: vec![pb::PaymentType::Ach as i32],
                    ..Default::default()
                }),
                page_size: 250,
                page_token: token,
            })
            .await
            .unwrap()
            .into_inner();
        pages.push(page.payments.iter().map(|p| p.payment_id.clone()).collect());
        if page.next_page_token.is_empty() {
            return pages;
        }
        token = page.next_page_token;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn fifty_thousand_payments_into_sqlite_and_postgres_agree_and_survive_a_replay() {
    let Some(broker) = Broker::start() else {
        return;
    };
    let Some(postgres) = common::postgres::fresh_database("fan_out").await else {
        return;
    };
    let dir = common::temp_dir("fan-out");
    let sqlite = format!("sqlite://{}", dir.join("payments.db").display());
    let url = broker.url("partitions=3");
    let ingest =
        ServiceProcess::start("payments-ingest", &["--bus", &url], &dir.join("ingest.log"));
    let processor = ServiceProcess::start(
        "payments-processor",
        &["--bus", &url, "--sink", &sqlite, "--sink", &postgres],
        &dir.join("processor.log"),
    );
    let payments = generated(50_000, 29);
    let (acknowledged, failed) = submit(ingest.grpc, &payments, 5_000).await;
    assert_eq!((acknowledged.len(), failed), (50_000, 0));
    let sqlite_store = payments_store::open(&sqlite).await.unwrap();
    let postgres_store = payments_store::open(&postgres).await.unwrap();
    assert_eq!(
        wait_stored(sqlite_store.as_ref(), 50_000, Duration::from_secs(300)).await,
        50_000
    );
    assert_eq!(
        wait_stored(postgres_store.as_ref(), 50_000, Duration::from_secs(60)).await,
        50_000
    );
    assert_stored_once(postgres_store.as_ref(), &acknowledged).await;
    let (same, report) = verify(&[&sqlite, &postgres]);
    assert!(same, "{report}");
    assert!(
        report.contains("verified: 50000 payments, no difference"),
        "{report}"
    );

    // At-least-once replay of the same 50,000: no row changes anywhere.
    let last_write = common::postgres::scalar(&postgres, LAST_WRITE).await;
    let stored_before = processor.metric("payments_processor_stored_total");
    let (again, _) = submit(ingest.grpc, &payments, 5_000).await;
    assert_eq!(again.len(), 50_000);
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    while processor.metric("payments_processor_stored_total") < stored_before + 50_000 {
        assert!(
            std::time::Instant::now() < deadline,
            "the replay was not processed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        processor.metric("payments_processor_unchanged_total"),
        50_000
    );
    assert_eq!(
        common::postgres::scalar(&postgres, LAST_WRITE).await,
        last_write,
        "the replay rewrote PostgreSQL rows"
    );
    let (same, report) = verify(&[&sqlite, &postgres]);
    assert!(same, "{report}");

    // The query service answers the same pages from either store.
    let on_sqlite =
        ServiceProcess::start("payments-query", &["--store", &sqlite], &dir.join("q1.log"));
    let on_postgres = ServiceProcess::start(
        "payments-query",
        &["--store", &postgres],
        &dir.join("q2.log"),
    );
    let (a, b) = (
        ach_pages(on_sqlite.grpc).await,
        ach_pages(on_postgres.grpc).await,
    );
    assert!(a.len() > 1, "expected several pages of ACH payments");
    assert_eq!(a, b, "the two stores page differently");

    // A difference is found and named.
    let victim = &acknowledged[123];
    common::postgres::execute(
        &postgres,
        &format!("DELETE FROM payments WHERE payment_id = '{victim}'"),
    )
    .await;
    let (same, report) = verify(&[&sqlite, &postgres]);
    assert!(!same, "{report}");
    assert!(report.contains(&format!("differs {victim}: ")), "{report}");
    assert!(report.contains("missing"), "{report}");
    assert!(report.contains("1 of 50000 payments differ"), "{report}");
}
