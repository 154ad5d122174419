//! One processor writing every batch to several sinks (SQLite, and the shared test servers:
//! PostgreSQL, Redis, Apache HBase through its Thrift gateway and FerretDB for MongoDB),
//! against a real Apache Kafka broker: the stores agree payment by payment (`paymentsctl
//! verify`), replays change nothing, and the query service answers the same pages from every
//! store. With `CI=true` a missing server fails these tests.

use crate::common;

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
async fn fifty_thousand_payments_into_sqlite_postgres_redis_and_hbase_agree_and_survive_a_replay() {
    let Some(broker) = Broker::start().await else {
        return;
    };
    let Some(postgres) = common::servers::fresh_database("fan_out").await else {
        return;
    };
    let Some(redis) = common::servers::redis_url("fan_out").await else {
        return;
    };
    let Some(hbase) = common::servers::hbase_url("fan_out").await else {
        return;
    };
    let dir = common::temp_dir("fan-out");
    let sqlite = sqlite_url(&dir);
    let url = broker.url("partitions=3");
    let ingest = ingest_process(&broker, "partitions=3", &dir).await;
    let processor = ServiceProcess::start(
        "payments-processor",
        &[
            "--bus", &url, "--sink", &sqlite, "--sink", &postgres, "--sink", &redis, "--sink",
            &hbase,
        ],
        &dir.join("processor.log"),
    )
    .await;
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
    let (same, report) = verify(&[&sqlite, &postgres, &hbase]);
    assert!(same, "{report}");
    assert!(
        report.contains("verified: 50000 payments, no difference"),
        "{report}"
    );
    // What the HBase sink says it wrote: every payment once.
    let hbase_written = r#"payments_store_written_total{system="hbase"}"#;
    assert_eq!(processor.metric(hbase_written), 50_000);

    let live = payments_store::redis::RedisSink::open(&redis)
        .await
        .unwrap();
    let aggregates = live.aggregates().await.unwrap();
    assert_eq!(aggregates.count_by_type.values().sum::<i64>(), 50_000);
    assert_eq!(aggregates.count_by_minute.values().sum::<i64>(), 50_000);

    // At-least-once replay of the same 50,000: no row changes anywhere.
    let last_write = common::servers::scalar(&postgres, LAST_WRITE).await;
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
        common::servers::scalar(&postgres, LAST_WRITE).await,
        last_write,
        "the replay rewrote PostgreSQL rows"
    );
    assert_eq!(
        live.aggregates().await.unwrap(),
        aggregates,
        "the replay changed a Redis aggregate"
    );
    assert_eq!(
        processor.metric(hbase_written),
        50_000,
        "the replay rewrote HBase rows"
    );
    let (same, report) = verify(&[&sqlite, &postgres, &hbase]);
    assert!(same, "{report}");

    // The query service answers the same pages from every store.
    let on_sqlite =
        ServiceProcess::start("payments-query", &["--store", &sqlite], &dir.join("q1.log")).await;
    let on_postgres = ServiceProcess::start(
        "payments-query",
        &["--store", &postgres, "--cache", &redis],
        &dir.join("q2.log"),
    )
    .await;
    let on_hbase =
        ServiceProcess::start("payments-query", &["--store", &hbase], &dir.join("q3.log")).await;
    let (a, b, c) = (
        ach_pages(on_sqlite.grpc).await,
        ach_pages(on_postgres.grpc).await,
        ach_pages(on_hbase.grpc).await,
    );
    assert!(a.len() > 1, "expected several pages of ACH payments");
    assert_eq!(a, b, "SQLite and PostgreSQL page differently");
    assert_eq!(a, c, "SQLite and HBase page differently");
    let mut cached = QueryServiceClient::new(common::channel(on_postgres.grpc).await);
    let got = cached
        .get_payment(pb::GetPaymentRequest {
            payment_id: acknowledged[7].clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .payment
        .unwrap();
    assert_eq!(
        got.payment_id, acknowledged[7],
        "GetPayment through the Redis cache"
    );

    // A difference is found and named.
    let victim = &acknowledged[123];
    common::servers::execute(
        &postgres,
        &format!("DELETE FROM payments WHERE payment_id = '{victim}'"),
    )
    .await;
    let (same, report) = verify(&[&sqlite, &postgres]);
    assert!(!same, "{report}");
    assert!(report.contains(&format!("differs {victim}: ")), "{report}");
    assert!(report.contains("missing"), "{report}");
    assert!(report.contains("1 of 50000 payments differ"), "{report}");
    live.delete_all().await.unwrap();
}

/// The value of the series `name{sink="<sink>"}` on `processor`'s `/metrics`.
fn per_sink(processor: &ServiceProcess, name: &str, sink: &str) -> u64 {
    processor.metric(&format!("{name}{{sink=\"{sink}\"}}"))
}

/// Waits up to `within` until `sink` has stored `count` payments, by its own counter.
async fn wait_sink_stored(processor: &ServiceProcess, sink: &str, count: u64, within: Duration) {
    let deadline = std::time::Instant::now() + within;
    loop {
        let stored = per_sink(processor, "payments_processor_sink_stored_total", sink);
        if stored >= count {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "sink {sink} stored {stored} of {count} within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Each sink has a pipeline of its own: while PostgreSQL is down, SQLite and Redis go on
/// storing what arrives, and PostgreSQL catches up from its own offsets once it is back.
#[tokio::test(flavor = "multi_thread")]
async fn postgres_stopped_mid_run_holds_back_no_other_sink_and_catches_up_once_back() {
    let Some(broker) = Broker::start().await else {
        return;
    };
    // A server of this test's own: stopping the shared one would fail the tests using it.
    let Some(mut server) = common::private_postgres::PrivatePostgres::start("outage").await else {
        return;
    };
    let Some(redis) = common::servers::redis_url("outage").await else {
        return;
    };
    let postgres = server.url();
    let dir = common::temp_dir("postgres-outage");
    let sqlite = sqlite_url(&dir);
    let url = broker.url("partitions=3");
    let ingest = ingest_process(&broker, "partitions=3", &dir).await;
    let processor = ServiceProcess::start(
        "payments-processor",
        &[
            "--bus",
            &url,
            "--sink",
            &sqlite,
            "--sink",
            &postgres,
            "--sink",
            &redis,
            "--batch-size",
            "500",
        ],
        &dir.join("processor.log"),
    )
    .await;
    let payments = generated(20_000, 31);
    let (before, during) = payments.split_at(10_000);
    let (mut acknowledged, failed) = submit(ingest.grpc, before, 1_000).await;
    assert_eq!((acknowledged.len(), failed), (10_000, 0));
    for sink in ["sqlite", "postgres", "redis"] {
        wait_sink_stored(&processor, sink, 10_000, Duration::from_secs(120)).await;
    }

    server.stop();
    // Readiness turns NOT_SERVING and names the sink that is away.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = common::http(processor.http, "GET", "/readyz", None);
        if status != 200 {
            assert!(body.contains("sink postgres"), "{body}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still ready without PostgreSQL"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // What arrives now reaches SQLite and Redis; PostgreSQL's pipeline waits.
    let (more, failed) = submit(ingest.grpc, during, 1_000).await;
    assert_eq!((more.len(), failed), (10_000, 0));
    acknowledged.extend(more);
    wait_sink_stored(&processor, "sqlite", 20_000, Duration::from_secs(120)).await;
    wait_sink_stored(&processor, "redis", 20_000, Duration::from_secs(120)).await;
    let sink_stored = "payments_processor_sink_stored_total";
    assert_eq!(per_sink(&processor, sink_stored, "postgres"), 10_000);
    // A write waits for a connection (up to the pool's 10 s) before it fails as away.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while per_sink(&processor, "payments_processor_sink_ready", "postgres") != 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the postgres sink still counts as ready"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        per_sink(&processor, "payments_processor_sink_ready", "sqlite"),
        1
    );
    assert!(per_sink(&processor, "payments_processor_sink_lag", "postgres") > 0);
    assert_eq!(
        processor.metric("payments_processor_stored_total"),
        10_000,
        "stored (in every sink) counts only what PostgreSQL has too"
    );
    let sqlite_store = payments_store::open(&sqlite).await.unwrap();
    assert_eq!(
        wait_stored(sqlite_store.as_ref(), 20_000, Duration::from_secs(10)).await,
        20_000
    );

    server.resume().await;
    let postgres_store = payments_store::open(&postgres).await.unwrap();
    assert_eq!(
        wait_stored(postgres_store.as_ref(), 20_000, Duration::from_secs(180)).await,
        20_000
    );
    assert_stored_once(postgres_store.as_ref(), &acknowledged).await;
    assert_stored_once(sqlite_store.as_ref(), &acknowledged).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while common::http(processor.http, "GET", "/readyz", None).0 != 200 {
        assert!(
            std::time::Instant::now() < deadline,
            "not ready again after PostgreSQL came back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (same, report) = verify(&[&sqlite, &postgres]);
    assert!(same, "{report}");
    let live = payments_store::redis::RedisSink::open(&redis)
        .await
        .unwrap();
    let aggregates = live.aggregates().await.unwrap();
    assert_eq!(
        aggregates.count_by_type.values().sum::<i64>(),
        20_000,
        "Redis counted a payment twice or missed one"
    );
    live.delete_all().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn mongodb_on_ferretdb_as_a_sink_agrees_with_sqlite_and_pages_alike() {
    let Some(broker) = Broker::start().await else {
        return;
    };
    let Some(mongodb) = common::servers::mongodb_url("fan_out_mongo").await else {
        return;
    };
    let dir = common::temp_dir("fan-out-mongodb");
    let sqlite = sqlite_url(&dir);
    let url = broker.url("partitions=3");
    let ingest = ingest_process(&broker, "partitions=3", &dir).await;
    let processor = ServiceProcess::start(
        "payments-processor",
        &["--bus", &url, "--sink", &sqlite, "--sink", &mongodb],
        &dir.join("processor.log"),
    )
    .await;
    let payments = generated(3_000, 37);
    let (acknowledged, failed) = submit(ingest.grpc, &payments, 1_000).await;
    assert_eq!((acknowledged.len(), failed), (3_000, 0));
    let mongo_store = payments_store::open(&mongodb).await.unwrap();
    assert_eq!(
        wait_stored(mongo_store.as_ref(), 3_000, Duration::from_secs(120)).await,
        3_000
    );
    assert_stored_once(mongo_store.as_ref(), &acknowledged).await;
    let (same, report) = verify(&[&sqlite, &mongodb]);
    assert!(same, "{report}");

    // A replay changes nothing.
    let stored_before = processor.metric("payments_processor_stored_total");
    submit(ingest.grpc, &payments, 1_000).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while processor.metric("payments_processor_stored_total") < stored_before + 3_000 {
        assert!(
            std::time::Instant::now() < deadline,
            "the replay was not processed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (same, report) = verify(&[&sqlite, &mongodb]);
    assert!(same, "{report}");
    assert!(
        report.contains("verified: 3000 payments, no difference"),
        "{report}"
    );

    let on_sqlite =
        ServiceProcess::start("payments-query", &["--store", &sqlite], &dir.join("q1.log")).await;
    let on_mongodb = ServiceProcess::start(
        "payments-query",
        &["--store", &mongodb],
        &dir.join("q2.log"),
    )
    .await;
    let (a, b) = (
        ach_pages(on_sqlite.grpc).await,
        ach_pages(on_mongodb.grpc).await,
    );
    assert!(!a.is_empty() && !a[0].is_empty(), "expected ACH payments");
    assert_eq!(a, b, "SQLite and MongoDB page differently");
}
