//! The web console in a real browser: `paymentsctl up` runs as a process and
//! `tests/console/console.browser-test.mjs` drives Debian's Chromium (headless, through
//! playwright-core) against it. Screenshots land in `target/console-screenshots/`.

use crate::common::pipeline::{generator_for, sqlite_url};
use crate::common::{self, services::ServiceProcess};
use std::path::{Path, PathBuf};
use std::process::Command;

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the repository holds tests/")
        .to_path_buf()
}

/// Why the browser test cannot run here, if it cannot.
fn missing_tools(console_tests: &Path) -> Option<String> {
    if !Path::new("/usr/bin/chromium").exists() {
        return Some("Chromium is missing: apt-get install chromium".into());
    }
    if !console_tests.join("node_modules/playwright-core").exists() {
        return Some("playwright-core is missing: npm ci --prefix tests/console".into());
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Some("node is missing".into());
    }
    None
}

#[test]
fn the_console_shows_the_pipeline_live_filters_payments_and_opens_a_detail_in_chromium() {
    let console_tests = repository().join("tests/console");
    if let Some(missing) = missing_tools(&console_tests) {
        assert!(!common::in_ci(), "{missing}");
        eprintln!("skipping the browser test: {missing}");
        return;
    }
    let dir = common::temp_dir("console");
    let store = sqlite_url(&dir);
    // A test of a browser driving a server: nothing async but the start.
    let (args, log) = (["up", "--store", &store], dir.join("up.log"));
    let stack =
        tokio::runtime::Runtime::new()
            .expect("a runtime")
            .block_on(ServiceProcess::start_in(
                "paymentsctl",
                &args,
                &[],
                Some(&dir),
                &log,
            ));
    let artifacts = repository().join("target/console-screenshots");
    let out = Command::new("node")
        .arg("console.browser-test.mjs")
        .current_dir(&console_tests)
        .env("CONSOLE_URL", format!("http://{}/", stack.http))
        .env("ARTIFACTS_DIR", &artifacts)
        .output()
        .expect("running node");
    let report = String::from_utf8_lossy(&out.stdout);
    eprintln!("{report}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the browser test failed:\n{report}");
    for screenshot in [
        "console-desktop.png",
        "console-phone.png",
        "console-detail.png",
    ] {
        assert!(
            artifacts.join(screenshot).exists(),
            "{screenshot} was not saved"
        );
    }
    assert!(stack.terminate(), "paymentsctl up did not exit cleanly");
}

/// Polls `path` on `addr` until `done` holds for its JSON, for up to a minute.
async fn poll_json(
    addr: std::net::SocketAddr,
    path: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let mut last = serde_json::Value::Null;
    for _ in 0..120 {
        let (status, body) = common::http(addr, "GET", path, None);
        assert_eq!(status, 200, "{path}: {body}");
        last = serde_json::from_str(&body).unwrap();
        if done(&last) {
            return last;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    panic!("{path} never got there; last answer: {last}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_query_services_console_reads_the_services_metrics_the_dead_letters_and_the_generator()
{
    use crate::common::kafka::Broker;
    use crate::common::pipeline::{ingest_process, processor_process, produce_raw, protobuf_bytes};
    let Some(broker) = Broker::start().await else {
        return;
    };
    let dir = common::temp_dir("console-query");
    let ingest = ingest_process(&broker, "partitions=3", &dir).await;
    let processor = processor_process(&broker, &dir, "processor.log", &[]).await;
    let generator = generator_for(&ingest, &dir).await;
    let metrics = [&generator, &ingest, &processor]
        .map(|s| format!("http://{}/metrics", s.http))
        .join(",");
    let store = sqlite_url(&dir);
    let bus = broker.url("");
    let (generator_addr, ingest_addr) = (generator.grpc.to_string(), ingest.grpc.to_string());
    let query = ServiceProcess::start(
        "payments-query",
        &[
            "--store",
            &store,
            "--console-metrics-from",
            &metrics,
            "--console-bus",
            &bus,
            "--console-generator",
            &generator_addr,
            "--console-ingest-target",
            &ingest_addr,
        ],
        &dir.join("query.log"),
    )
    .await;

    // A run started from the console goes to the generator, which submits to ingest.
    let (status, body) = common::http(
        query.http,
        "POST",
        "/api/runs",
        Some(r#"{"rate": 500, "count": 1000, "seed": 3, "types": ["ach", "wire"]}"#),
    );
    assert_eq!(status, 201, "{body}");
    let runs = poll_json(query.http, "/api/runs", |v| {
        v["runs"][0]["state"] == "COMPLETED"
    })
    .await;
    assert_eq!(runs["runs"][0]["acknowledged"], 1000);

    // The live view sums the other services' metrics.
    let pipeline = poll_json(query.http, "/api/pipeline", |v| {
        v["totals"]["stored"].as_f64() == Some(1000.0)
    })
    .await;
    assert_eq!(pipeline["totals"]["generated"], 1000.0);
    assert_eq!(pipeline["totals"]["accepted"], 1000.0);
    assert!(pipeline["points"].as_array().is_some_and(|p| !p.is_empty()));

    // The browser reads the store; a bad parameter is named.
    let (_, body) = common::http(
        query.http,
        "GET",
        "/api/payments?type=wire&page_size=5",
        None,
    );
    let page: serde_json::Value = serde_json::from_str(&body).unwrap();
    let rows = page["payments"].as_array().unwrap();
    assert!(
        !rows.is_empty() && rows.iter().all(|p| p["type"] == "WIRE"),
        "{page}"
    );
    let (status, body) = common::http(query.http, "GET", "/api/payments?currency=EURO", None);
    assert_eq!(status, 400);
    assert!(body.contains(r#""parameter":"currency""#), "{body}");

    // A record the processor cannot decode shows in the dead letters, with its reason.
    produce_raw(
        &broker,
        payments_bus::PAYMENTS_TOPIC,
        vec![protobuf_bytes("GARBAGE-1", vec![0xff, 0x00, 0x13])],
    )
    .await;
    let dead = poll_json(query.http, "/api/dead-letters", |v| {
        v["records"].as_array().is_some_and(|r| !r.is_empty())
    })
    .await;
    assert_eq!(dead["available"], true);
    assert_eq!(dead["records"][0]["stage"], "decode");
    assert_eq!(dead["records"][0]["key"], "GARBAGE-1");
    assert!(query.terminate(), "payments-query did not exit cleanly");
}
