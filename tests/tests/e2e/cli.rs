//! The CLI as a user meets it: help, deterministic generation, a clean shutdown that loses
//! nothing, clear errors.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common;

/// `paymentsctl up` on free ports over the SQLite file `db`, stdout piped.
fn spawn_up(db: &std::path::Path, extra: &[&str]) -> std::process::Child {
    Command::new(common::paymentsctl())
        .args([
            "up",
            "--grpc-addr",
            "127.0.0.1:0",
            "--http-addr",
            "127.0.0.1:0",
        ])
        .args(extra)
        .arg("--store")
        .arg(format!("sqlite://{}", db.display()))
        // The bus beside the store: the default, in the working directory, is one file that
        // only one `up` at a time may hold.
        .arg("--bus")
        .arg(format!("file://{}", db.with_extension("bus.db").display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting paymentsctl up")
}

/// Sends SIGINT (Ctrl-C) to `child`.
fn interrupt(child: &std::process::Child) {
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("running kill");
    assert!(kill.success());
}

fn paymentsctl(args: &[&str]) -> std::process::Output {
    Command::new(common::paymentsctl())
        .args(args)
        .output()
        .expect("running paymentsctl")
}

#[test]
fn help_explains_every_command() {
    let out = paymentsctl(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for command in ["up", "generate", "submit", "get", "list", "stats", "bench"] {
        assert!(
            help.contains(command),
            "{command} missing from --help:\n{help}"
        );
    }
    let up = String::from_utf8_lossy(&paymentsctl(&["up", "--help"]).stdout).into_owned();
    assert!(
        up.contains("--rate") && up.contains("PAYMENTS_STORE"),
        "{up}"
    );
}

#[test]
fn generate_is_deterministic_and_seed_json_reads_back() {
    let a = paymentsctl(&["generate", "--count", "50", "--seed", "7"]);
    let b = paymentsctl(&["generate", "--count", "50", "--seed", "7"]);
    let c = paymentsctl(&["generate", "--count", "50", "--seed", "8"]);
    assert!(a.status.success());
    assert_eq!(a.stdout, b.stdout, "same seed, same bytes");
    assert_ne!(a.stdout, c.stdout);
    assert_eq!(String::from_utf8_lossy(&a.stdout).lines().count(), 50);
    let seed = paymentsctl(&[
        "generate",
        "--count",
        "5",
        "--seed",
        "7",
        "--format",
        "seed-json",
        "--type",
        "sepa,wire",
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&seed.stdout).unwrap();
    let types: Vec<&str> = doc["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["payment_type"].as_str().unwrap())
        .collect();
    assert!(
        types
            .iter()
            .all(|t| *t == "SEPA_CREDIT_TRANSFER" || *t == "WIRE"),
        "{types:?}"
    );
}

#[test]
fn generate_out_dash_is_stdout() {
    let args = ["generate", "--count", "3", "--seed", "8"];
    let plain = paymentsctl(&args);
    let dashed = paymentsctl(&[&args[..], &["--out", "-"]].concat());
    assert!(
        dashed.status.success(),
        "{}",
        String::from_utf8_lossy(&dashed.stderr)
    );
    assert_eq!(plain.stdout, dashed.stdout);
    assert_eq!(String::from_utf8_lossy(&dashed.stdout).lines().count(), 3);
    assert!(
        !std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("-")
            .exists(),
        "no file named - was made"
    );
}

#[test]
fn generate_on_several_threads_writes_the_same_bytes_as_on_one() {
    for (seed, format, count) in [
        ("1", "jsonl", "10000"),
        ("2", "seed-json", "5000"),
        ("3", "csv", "7777"),
        ("4", "nacha", "3000"),
        ("5", "jsonl", "1"),
        ("6", "jsonl", "0"),
    ] {
        let run = |jobs: &str, shard: &str| {
            let out = paymentsctl(&[
                "generate", "--count", count, "--seed", seed, "--format", format, "--jobs", jobs,
                "--shard", shard,
            ]);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            out
        };
        let one = run("1", "0/1");
        for jobs in ["2", "3", "0"] {
            let many = run(jobs, "0/1");
            assert!(
                one.stdout == many.stdout,
                "seed {seed}, {format}, {count} payments: --jobs {jobs} differs from --jobs 1"
            );
            // The seed's summary counts the same payments.
            assert_eq!(one.stderr, many.stderr);
        }
        assert_eq!(
            run("1", "1/3").stdout,
            run("2", "1/3").stdout,
            "a shard alike"
        );
    }
    let refused = paymentsctl(&["generate", "--jobs", "2", "--lifecycle"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--lifecycle"));
}

#[test]
fn generate_direct_io_writes_the_same_file_and_needs_one() {
    let dir = common::temp_dir("generate-direct-io");
    // 30,000 JSON lines are 60 MB, many times the direct writer's buffer; NACHA ends with a
    // trailer written at the end; one payment is less than a block.
    for (format, count, jobs) in [
        ("jsonl", "30000", "2"),
        ("nacha", "3000", "1"),
        ("jsonl", "1", "1"),
    ] {
        let file = |direct: bool| {
            let path = dir.join(format!("{format}-{count}-{direct}"));
            let mut args = vec![
                "generate", "--count", count, "--seed", "9", "--format", format, "--jobs", jobs,
            ];
            if direct {
                args.push("--direct-io");
            }
            let out = paymentsctl(&[&args[..], &["--out", path.to_str().unwrap()]].concat());
            common::succeeded(&out);
            std::fs::read(&path).expect("reading the output")
        };
        let (cached, direct) = (file(false), file(true));
        assert!(!cached.is_empty());
        assert!(
            cached == direct,
            "{format}, {count} payments: --direct-io wrote other bytes"
        );
    }
    let refused = paymentsctl(&["generate", "--count", "10", "--direct-io"]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--direct-io writes a file"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

#[test]
fn generate_into_a_redirected_file_writes_what_it_pipes_after_what_was_there() {
    let dir = common::temp_dir("generate-redirected");
    // 30,000 JSON lines are 60 MB: windows of the write-behind handed off and dropped.
    let args = [
        "generate", "--count", "30000", "--seed", "4", "--format", "jsonl", "--jobs", "2",
    ];
    let piped = paymentsctl(&args);
    common::succeeded(&piped);
    // `> FILE` and `>> FILE` after a line already there, as a shell would open them.
    let created = dir.join("created");
    let appended = dir.join("appended");
    std::fs::write(&appended, b"already here\n").expect("writing the first line");
    for (path, file) in [
        (&created, std::fs::File::create(&created)),
        (
            &appended,
            std::fs::File::options().append(true).open(&appended),
        ),
    ] {
        let status = Command::new(common::paymentsctl())
            .args(args)
            .stdout(file.expect("opening the redirect"))
            .status()
            .expect("running paymentsctl");
        assert!(status.success(), "{}", path.display());
    }
    assert!(
        std::fs::read(&created).expect("reading") == piped.stdout,
        "> FILE holds other bytes than the pipe"
    );
    let appended = std::fs::read(&appended).expect("reading");
    assert!(
        appended.strip_prefix(b"already here\n") == Some(&piped.stdout[..]),
        ">> FILE holds other bytes than the line before and the pipe's"
    );
}

#[test]
fn errors_are_clear() {
    let bad_type = paymentsctl(&["generate", "--type", "bitcoin"]);
    assert!(!bad_type.status.success());
    assert!(
        String::from_utf8_lossy(&bad_type.stderr)
            .contains("--type \"bitcoin\" is not a payment type")
    );
    let unreachable = paymentsctl(&["stats", "--server", "127.0.0.1:1"]);
    assert!(!unreachable.status.success());
    assert!(
        String::from_utf8_lossy(&unreachable.stderr).contains("cannot reach the payments server")
    );
    let bad_store = paymentsctl(&[
        "up",
        "--bus",
        "memory://",
        "--store",
        "oracle://x",
        "--grpc-addr",
        "127.0.0.1:0",
        "--http-addr",
        "127.0.0.1:0",
    ]);
    assert!(!bad_store.status.success());
    assert!(String::from_utf8_lossy(&bad_store.stderr).contains("unsupported scheme \"oracle\""));
}

#[test]
fn ctrl_c_during_a_traffic_run_exits_zero_and_every_acknowledged_payment_is_stored() {
    let dir = common::temp_dir("ctrl-c");
    let db = dir.join("payments.db");
    let mut child = spawn_up(&db, &["--rate", "2000"]);
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "payments is up");
    std::thread::sleep(Duration::from_secs(3));
    interrupt(&child);
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert!(status.success(), "exit status {status:?}\n{rest}");
    let summary = rest
        .lines()
        .find(|l| l.starts_with("drained:"))
        .unwrap_or_else(|| panic!("no drain summary in\n{rest}"));
    let acknowledged: u64 = summary
        .split("ingest acknowledged ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        acknowledged >= 2_000,
        "a 3 s run at 2000/s acknowledged only {acknowledged}"
    );
    // Count what is stored through the public interface: a second `up` on the same file.
    let mut again = spawn_up(&db, &[]);
    let mut lines = BufReader::new(again.stdout.take().unwrap()).lines();
    let grpc = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            l.trim().strip_prefix("gRPC").map(|rest| {
                rest.split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
        })
        .expect("the gRPC address line");
    let stats = paymentsctl(&["stats", "--json", "--server", &grpc]);
    interrupt(&again);
    assert!(again.wait().unwrap().success());
    let stats: serde_json::Value = serde_json::from_slice(&stats.stdout).unwrap();
    let stored: u64 = stats["totalCount"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    assert_eq!(
        stored, acknowledged,
        "every acknowledged payment is stored, once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_files_in_both_formats_submit_cleanly() {
    let (stack, dir) = common::start_stack("roundtrip").await;
    let server = stack.grpc_addr.to_string();
    let (jsonl, seed) = (dir.join("p.jsonl"), dir.join("p.json"));
    let out = tokio::task::spawn_blocking(move || {
        let generate = |format: &str, path: &std::path::Path, seed: &str| {
            let out = paymentsctl(&[
                "generate",
                "--count",
                "300",
                "--seed",
                seed,
                "--format",
                format,
                "--out",
                path.to_str().unwrap(),
            ]);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        generate("jsonl", &jsonl, "1");
        generate("seed-json", &seed, "2");
        paymentsctl(&[
            "submit",
            "--server",
            &server,
            jsonl.to_str().unwrap(),
            seed.to_str().unwrap(),
        ])
    })
    .await
    .unwrap();
    let stdout = common::succeeded(&out);
    assert!(
        stdout.contains("submitted 600 payments: 600 accepted (0 with warnings), 0 rejected"),
        "{stdout}"
    );
    stack.shutdown().await.unwrap();
}

#[test]
fn bench_runs_end_to_end_on_the_embedded_stack() {
    let out = paymentsctl(&["bench", "--count", "3000", "--chunk", "500"]);
    let stdout = common::succeeded(&out);
    assert!(stdout.contains("bench: 3000 payments"), "{stdout}");
    assert!(stdout.contains("payments/s end to end"), "{stdout}");
    assert!(stdout.contains("latency over 500 samples"), "{stdout}");
}

#[test]
fn generate_into_a_closed_pipe_exits_quietly() {
    for jobs in ["1", "2"] {
        let mut child = Command::new(common::paymentsctl())
            .args(["generate", "--count", "1000000", "--jobs", jobs])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(first.contains("paymentId"));
        // The reader has gone: the writer must stop, and with it every thread making
        // payments (a million take far longer than this to write).
        let waited = std::time::Instant::now();
        while child.try_wait().unwrap().is_none() {
            if waited.elapsed() > Duration::from_secs(30) {
                let _ = child.kill();
                panic!("--jobs {jobs}: generate kept running after its reader closed the pipe");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "--jobs {jobs}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_revisions_leave_one_row_per_payment_at_its_latest_revision() {
    let (stack, dir) = common::start_stack("lifecycle").await;
    let server = stack.grpc_addr.to_string();
    let file = dir.join("lifecycle.jsonl");
    let path = file.to_str().unwrap().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        let generated = paymentsctl(&[
            "generate",
            "--count",
            "200",
            "--seed",
            "5",
            "--lifecycle",
            "--out",
            &path,
        ]);
        assert!(
            generated.status.success(),
            "{}",
            String::from_utf8_lossy(&generated.stderr)
        );
        paymentsctl(&["submit", "--server", &server, &path])
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let records: Vec<serde_json::Value> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        records.len() > 400,
        "several revisions per payment, got {}",
        records.len()
    );
    let mut latest: std::collections::HashMap<String, (u64, String)> =
        std::collections::HashMap::new();
    for r in &records {
        let id = r["paymentId"].as_str().unwrap().to_owned();
        let revision = r["revision"].as_u64().unwrap();
        let entry = latest.entry(id).or_insert((0, String::new()));
        if revision > entry.0 {
            *entry = (revision, r["status"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(latest.len(), 200);

    let mut query = payments_proto::v1::query_service_client::QueryServiceClient::new(
        common::channel(stack.grpc_addr).await,
    );
    for _ in 0..200 {
        let stats = query
            .get_stats(payments_proto::v1::GetStatsRequest { filter: None })
            .await
            .unwrap()
            .into_inner();
        if stats.total_count == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    for (id, (revision, status)) in latest {
        let stored = query
            .get_payment(payments_proto::v1::GetPaymentRequest {
                payment_id: id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .payment
            .unwrap();
        assert_eq!(
            u64::from(stored.revision),
            revision,
            "{id} stored at its latest revision"
        );
        assert_eq!(stored.status().as_str_name(), status, "{id} status");
    }
    stack.shutdown().await.unwrap();
}

/// `generate` into a file for `args`, interrupted by SIGINT after `after`: its exit status,
/// stderr and the file's bytes.
fn generate_interrupted(
    args: &[&str],
    after: Duration,
) -> (std::process::ExitStatus, String, Vec<u8>) {
    let dir = common::temp_dir("generate-interrupted");
    let out = dir.join("payments.out");
    let child = Command::new(common::paymentsctl())
        .args(args)
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting paymentsctl generate");
    std::thread::sleep(after);
    interrupt(&child);
    let done = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&done.stderr).into_owned();
    (done.status, stderr, std::fs::read(&out).unwrap())
}

/// The count in `interrupted: the output holds the first N …`.
fn interrupted_count(stderr: &str) -> usize {
    stderr
        .split("the output holds the first ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no interruption message in\n{stderr}"))
}

#[test]
fn ctrl_c_during_generate_leaves_whole_records_and_says_how_many() {
    // Far more than a second makes, so the signal lands mid-run.
    let lines = [
        "generate",
        "--count",
        "100000000",
        "--format",
        "jsonl",
        "--jobs",
        "2",
    ];
    let (status, stderr, bytes) = generate_interrupted(&lines, Duration::from_millis(1500));
    assert_eq!(
        status.code(),
        Some(130),
        "an interrupted run exits as Ctrl-C'd commands do\n{stderr}"
    );
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.ends_with('\n'), "the file ends at a whole line");
    for (i, line) in text.lines().enumerate() {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("line {i} is not whole JSON: {e}"));
    }
    let count = interrupted_count(&stderr);
    assert!(count > 0, "{stderr}");
    assert_eq!(text.lines().count(), count, "{stderr}");

    let document = ["generate", "--count", "100000000", "--format", "seed-json"];
    let (status, stderr, bytes) = generate_interrupted(&document, Duration::from_millis(1500));
    assert_eq!(status.code(), Some(130), "{stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("the seed's document is closed: {e}\n{stderr}"));
    let transactions = doc["transactions"].as_array().unwrap().len();
    assert_eq!(transactions, interrupted_count(&stderr), "{stderr}");
}
