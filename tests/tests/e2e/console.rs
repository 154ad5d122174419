//! The web console in a real browser: `paymentsctl up` runs as a process and
//! `tests/console/console.browser-test.mjs` drives Debian's Chromium (headless, through
//! playwright-core) against it. Screenshots land in `target/console-screenshots/`.

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
    let store = format!("sqlite://{}", dir.join("payments.db").display());
    let stack = ServiceProcess::start(
        "paymentsctl",
        &["up", "--store", &store],
        &dir.join("up.log"),
    );
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
