//! The HTTP API's OpenAPI document, tried by a client no one here wrote: schemathesis (PyPI)
//! reads `/openapi.json` from the running service, generates requests for every operation,
//! valid and not, and checks each answer against the document.

use crate::common;
use std::process::Command;

/// The checks: no 5xx, and every status, content type, header and body the document
/// promises.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_headers_conformance,response_schema_conformance";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_and_no_answer_that_breaks_the_document() {
    let available = Command::new("schemathesis")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        assert!(
            !common::in_ci(),
            "schemathesis is not installed (scripts/install-test-tools installs it)"
        );
        eprintln!("skipping: schemathesis is not installed");
        return;
    }
    let (stack, dir) = common::start_stack("openapi").await;
    // Stored payments, so answers carry data: the seed's fixture.
    let server = stack.grpc_addr.to_string();
    let submitted = tokio::task::spawn_blocking(move || {
        Command::new(common::paymentsctl())
            .args(["submit", "--lenient", "--server", &server])
            .arg(common::seed_fixture())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    common::succeeded(&submitted);

    let (status, body) = common::http(stack.http_addr, "GET", "/openapi.json", None);
    assert_eq!(status, 200, "{body}");
    let document: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    let (status, page) = common::http(stack.http_addr, "GET", "/docs", None);
    assert_eq!(status, 200);
    assert!(page.contains("/openapi.json"), "{page}");

    let url = format!("http://{}/openapi.json", stack.http_addr);
    let report = dir.join("schemathesis");
    let run = tokio::task::spawn_blocking(move || {
        Command::new("schemathesis")
            .args(["run", &url, "--checks", CHECKS])
            .args(["--phases", "examples,coverage,fuzzing"])
            .args(["--max-examples", "100", "--request-timeout", "20"])
            .args(["--generation-deterministic", "--no-color"])
            .arg("--report-dir")
            .arg(&report)
            // Its cache (.schemathesis/) goes in the test's folder, not the repository.
            .current_dir(report.parent().unwrap_or(&report))
            .env("SCHEMATHESIS_HOOKS", "")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "schemathesis found problems:\n{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // Every operation the document describes was tried.
    let operations = document["paths"]
        .as_object()
        .map(|paths| {
            paths
                .values()
                .map(|item| item.as_object().map_or(0, |m| m.len()))
                .sum::<usize>()
        })
        .unwrap_or_default();
    assert!(
        stdout.contains(&format!("Tested: {operations}")),
        "not every one of the {operations} operations was tested:\n{stdout}"
    );
    stack.shutdown().await.unwrap();
}
