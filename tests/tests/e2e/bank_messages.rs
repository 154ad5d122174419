//! The bank files of one lifecycle run (`paymentsctl generate --lifecycle`), read by
//! implementations the project did not write: moov-io/ach (the NACHA file and its returns
//! file) and pyiso20022, classes generated from the ISO 20022 schemas (pacs.008, pacs.002,
//! pacs.004, camt.053). Both must accept every file, and every link must resolve in what
//! they read: each return names an original entry or transaction, each status an original
//! transaction, and each statement's balances add up from day to day.

use crate::common::{self, in_ci, kafka::servers_home};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const FORMATS: [&str; 6] = [
    "nacha",
    "nacha-returns",
    "pacs008",
    "pacs002",
    "pacs004",
    "camt053",
];

/// moov-io/ach's reader as `scripts/install-test-tools` builds it, or `None` (after saying
/// so) outside CI when it is not installed; in CI its absence fails the test.
fn nacha_check() -> Option<PathBuf> {
    let bin = servers_home().join("parsers/bin/nacha-check");
    if bin.is_file() {
        return Some(bin);
    }
    assert!(
        !in_ci(),
        "{} is missing; scripts/install-test-tools builds it",
        bin.display()
    );
    eprintln!("skipping: moov-io/ach's nacha-check is not installed (scripts/install-test-tools)");
    None
}

/// Whether pyiso20022 and xsdata can be imported (same rule as [`nacha_check`]).
fn pyiso20022_installed() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import pyiso20022, xsdata"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok || !in_ci(),
        "pyiso20022 is not installed; scripts/install-test-tools installs it"
    );
    if !ok {
        eprintln!("skipping: pyiso20022 is not installed (scripts/install-test-tools)");
    }
    ok
}

/// Runs `program args`, insisting it succeeds, and parses its JSON output.
fn json_of(program: &Path, args: &[&Path]) -> Value {
    let output = Command::new(program)
        .args(args)
        .output()
        .expect("running an independent parser");
    assert!(
        output.status.success(),
        "{} refused: {}",
        program.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON from the parser")
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_owned()
}

/// Cents of an ISO amount (`{"value": "12.34", "ccy": "USD"}`), by its decimal text.
fn cents(v: &Value) -> i64 {
    let value = v["value"].as_str().unwrap_or_default();
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    format!("{whole}{fraction:0<2}").parse().expect("an amount")
}

fn signed(balance_or_entry: &Value) -> i64 {
    let amount = cents(&balance_or_entry["amount"]);
    if balance_or_entry["indicator"] == "DBIT" {
        -amount
    } else {
        amount
    }
}

#[test]
fn independent_parsers_accept_every_bank_file_and_every_link_resolves() {
    let (Some(nacha_check), true) = (nacha_check(), pyiso20022_installed()) else {
        return;
    };
    let dir = common::temp_dir("bank-messages");
    let file = |format: &str| dir.join(format!("run.{format}"));
    // Returns ten times as often as by default, so that a short run has plenty.
    let recipe = dir.join("returns.toml");
    std::fs::write(
        &recipe,
        "[lifecycle_rates]\nach_return = 0.12\nsepa_return = 0.1\nwire_failure = 0.1\n",
    )
    .expect("writing the scenario file");
    for format in FORMATS {
        let out = file(format);
        let output = Command::new(common::paymentsctl())
            .args([
                "generate",
                "--lifecycle",
                "--count",
                "12000",
                "--seed",
                "19",
            ])
            .args(["--format", format, "--scenario"])
            .arg(&recipe)
            .arg("--out")
            .arg(&out)
            .output()
            .expect("running paymentsctl generate");
        common::succeeded(&output);
    }

    // NACHA: moov-io/ach reads both files; every return points at an original entry.
    let original = json_of(&nacha_check, &[&file("nacha")]);
    let returns = json_of(&nacha_check, &[&file("nacha-returns")]);
    let entries: HashMap<String, &Value> = original["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| (text(e, "trace"), e))
        .collect();
    let returned = returns["entries"].as_array().expect("return entries");
    assert!(returned.len() >= 20, "{} returns", returned.len());
    for r in returned {
        let trace = text(r, "original_trace");
        let e = entries
            .get(&trace)
            .unwrap_or_else(|| panic!("return {r} names {trace}, not in the NACHA file"));
        assert_eq!(text(r, "original_rdfi"), text(e, "rdfi"), "{r}");
        assert_eq!(r["amount"], e["amount"], "{r}");
        assert!(text(r, "return_code").starts_with('R'), "{r}");
        assert_eq!(
            text(r, "rdfi"),
            trace[..8],
            "the return goes back to the ODFI: {r}"
        );
    }

    // ISO 20022: pyiso20022 reads all four; statuses and returns name pacs.008 transactions.
    let script = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/parsers/iso20022_check.py"
    ));
    let iso = json_of(
        Path::new("python3"),
        &[
            script,
            &file("pacs008"),
            &file("pacs002"),
            &file("pacs004"),
            &file("camt053"),
        ],
    );
    let [pacs008, pacs002, pacs004, camt053] = [&iso[0], &iso[1], &iso[2], &iso[3]];
    let message_id = text(pacs008, "msg_id");
    let transactions: HashMap<String, &Value> = pacs008["transactions"]
        .as_array()
        .expect("transactions")
        .iter()
        .map(|t| (text(t, "tx_id"), t))
        .collect();
    assert_eq!(text(pacs002, "original_msg_id"), message_id);
    let statuses = pacs002["statuses"].as_array().expect("statuses");
    assert_eq!(
        statuses.len(),
        transactions.len(),
        "a status per transaction"
    );
    for s in statuses {
        let t = transactions
            .get(&text(s, "tx_id"))
            .unwrap_or_else(|| panic!("status {s} names no pacs.008 transaction"));
        assert_eq!(s["end_to_end_id"], t["end_to_end_id"]);
        assert_eq!(s["instr_id"], t["instr_id"]);
        assert!(
            ["ACSC", "RJCT", "PDNG"].contains(&text(s, "status").as_str()),
            "{s}"
        );
    }
    let back = pacs004["returns"].as_array().expect("returns");
    assert!(!back.is_empty(), "some SEPA credit transfers come back");
    for r in back {
        assert_eq!(text(r, "original_msg_id"), message_id);
        let t = transactions
            .get(&text(r, "tx_id"))
            .unwrap_or_else(|| panic!("return {r} names no pacs.008 transaction"));
        assert_eq!(r["amount"], t["amount"], "{r}");
        assert_eq!(r["end_to_end_id"], t["end_to_end_id"]);
    }

    // camt.053: balances add up, and each day opens where the last closed.
    let mut closing: HashMap<(String, String), i64> = HashMap::new();
    let mut booked: HashSet<String> = HashSet::new();
    let statements = camt053["statements"].as_array().expect("statements");
    assert!(statements.len() > 100, "{} statements", statements.len());
    for s in statements {
        let key = (text(s, "account"), text(s, "currency"));
        let opening = signed(&s["opening"]);
        let moved: i64 = s["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| {
                booked.insert(text(e, "tx_id"));
                signed(e)
            })
            .sum();
        assert_eq!(opening + moved, signed(&s["closing"]), "{s}");
        if let Some(previous) = closing.get(&key) {
            assert_eq!(opening, *previous, "{key:?} opens where it closed");
        }
        closing.insert(key, signed(&s["closing"]));
    }
    let settled: Vec<&String> = statuses
        .iter()
        .filter(|s| s["status"] == "ACSC")
        .map(|s| s["tx_id"].as_str().unwrap_or_default())
        .filter_map(|id| transactions.get_key_value(id).map(|(k, _)| k))
        .collect();
    assert!(
        settled.iter().all(|id| booked.contains(*id)),
        "every settled credit transfer is on a statement"
    );
}

#[test]
fn bank_messages_without_lifecycles_are_refused_with_the_flag_to_add() {
    let output = Command::new(common::paymentsctl())
        .args(["generate", "--count", "100", "--format", "camt053"])
        .output()
        .expect("running paymentsctl generate");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--format camt053") && stderr.contains("add --lifecycle"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty(), "nothing half-written");
}
