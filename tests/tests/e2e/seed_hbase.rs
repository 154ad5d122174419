//! HBase both ways, on real HBase, with the seed's own client (happybase, through
//! tests/seed/hbase_reader.py): its `PaymentQuery` and `verify_hbase.py` read every row our
//! HBase sink writes (every cell UTF-8, its row-key time ranges, its server-side filters),
//! for the seed's fixture and for a 10,000-payment run; and rows in the seed's own layout,
//! which happybase writes, are listed, fetched, served over HTTP and counted by `verify`,
//! while a row that holds no payment never breaks a scan.

use crate::common::{self, services::ServiceProcess};
use payments_core::names::seed_type_name;
use payments_core::seed_json::from_seed;
use payments_proto::v1 as pb;
use payments_store::{Page, PageRequest, PaymentFilter, Sink, Store};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// The table an `hbase://…?table=T` URL names.
fn table_of(url: &str) -> &str {
    url.split_once("table=")
        .map(|(_, t)| t)
        .unwrap_or("payments")
}

/// One hbase_reader.py command against the test gateway, its JSON answer.
fn happybase(table: &str, args: &[&str]) -> Value {
    let out = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("seed/hbase_reader.py"))
        .args(["--port", "9090", "--table", table])
        .args(args)
        .output()
        .expect("running python3");
    serde_json::from_str(&common::succeeded(&out)).unwrap()
}

fn ids(answer: &Value) -> Vec<String> {
    answer["payment_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seeds_happybase_readers_read_every_row_our_hbase_sink_writes() {
    let Some(url) = common::servers::hbase_url("happybase").await else {
        return;
    };
    let table = table_of(&url).to_owned();
    let store = payments_store::hbase::HbaseStore::open(&url).await.unwrap();
    // A fixture run: the seed's 90 payments.
    let seed: Value =
        serde_json::from_str(&std::fs::read_to_string(common::seed_fixture()).unwrap()).unwrap();
    let fixture: Vec<pb::Payment> = seed["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| from_seed(t).unwrap())
        .collect();
    store.upsert_batch(&fixture).await.unwrap();
    // A 10,000-payment run.
    let generated = common::pipeline::generated(10_000, 17);
    for chunk in generated.chunks(1_000) {
        store.upsert_batch(chunk).await.unwrap();
    }
    let table_for_python = table.clone();
    let (scan, day, by_type, generated_by_type, first) = tokio::task::spawn_blocking(move || {
        let t = table_for_python.as_str();
        let first = common::pipeline::generated(1, 17).remove(0);
        let rail = seed_type_name(first.payment_type()).to_owned();
        let originator = first.originator.clone().unwrap_or_default().party_id;
        (
            happybase(t, &["scan"]),
            happybase(t, &["time-range", "2024-12-21", "2024-12-21"]),
            happybase(t, &["type-customer", "ACH", "CUST88C031C3"]),
            happybase(t, &["type-customer", &rail, &originator]),
            first,
        )
    })
    .await
    .unwrap();
    // verify_hbase.py: every row, every cell UTF-8.
    assert_eq!(scan["rows"], 10_090, "{scan}");
    assert_eq!(scan["undecodable"], 0, "{scan}");
    assert_eq!(scan["row_keys_undecodable"], 0, "{scan}");
    // PaymentQuery.query_by_time_range over the fixture's day.
    let mut expected: Vec<String> = fixture.iter().map(|p| p.payment_id.clone()).collect();
    expected.sort();
    assert_eq!(day["undecodable"], 0);
    assert_eq!(ids(&day), expected);
    // PaymentQuery.query_by_type_and_customer, the server filtering.
    assert_eq!(ids(&by_type), ["ACH-CAEF9452"]);
    let mut expected: Vec<String> = generated
        .iter()
        .filter(|p| {
            p.payment_type == first.payment_type
                && p.originator.as_ref().map(|o| &o.party_id)
                    == first.originator.as_ref().map(|o| &o.party_id)
        })
        .map(|p| p.payment_id.clone())
        .collect();
    expected.sort();
    assert!(!expected.is_empty());
    assert_eq!(ids(&generated_by_type), expected);
    // What the seed reads is what we stored.
    assert_eq!(
        store.get(&first.payment_id).await.unwrap().as_ref(),
        Some(&first)
    );
}

/// The first 100 payments `store` lists under `filter`.
async fn first_page(store: &payments_store::hbase::HbaseStore, filter: &PaymentFilter) -> Page {
    store
        .list(
            filter,
            &PageRequest {
                size: 100,
                after: None,
            },
        )
        .await
        .unwrap()
}

/// The ids of `page`'s payments, sorted.
fn sorted_ids(page: &Page) -> Vec<&str> {
    let mut ids: Vec<&str> = page
        .payments
        .iter()
        .map(|p| p.payment_id.as_str())
        .collect();
    ids.sort_unstable();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_in_the_seeds_layout_are_served_and_counted_and_never_break_a_scan() {
    let Some(url) = common::servers::hbase_url("seedrows").await else {
        return;
    };
    let table = table_of(&url).to_owned();
    let dir = common::temp_dir("seed-rows");
    let file = dir.join("first.json");
    let shapes = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("seed/seed_shapes.py"))
        .args([
            "first",
            "--per-type",
            "2",
            "--start",
            "2023-03-01T10:00:00",
            "--out",
        ])
        .arg(&file)
        .output()
        .unwrap();
    common::succeeded(&shapes);
    let docs: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let docs = docs["transactions"].as_array().unwrap().clone();
    let path = file.to_str().unwrap().to_owned();
    let table_for_python = table.clone();
    let written = tokio::task::spawn_blocking(move || {
        let t = table_for_python.as_str();
        // A row with no payment in it, between the seed's rows.
        happybase(
            t,
            &[
                "write-row",
                "20230301100003_ACH_BROKEN",
                "note=no payment here",
            ],
        );
        happybase(t, &["write-seed-rows", &path])
    })
    .await
    .unwrap();
    assert_eq!(written["written"], 18);

    let store = payments_store::hbase::HbaseStore::open(&url).await.unwrap();
    let day = PaymentFilter {
        created_from_micros: Some(1_677_628_800_000_000),
        created_to_micros: Some(1_677_715_200_000_000),
        ..Default::default()
    };
    let page = first_page(&store, &day).await;
    let mut expected: Vec<&str> = docs
        .iter()
        .map(|d| d["payment_id"].as_str().unwrap())
        .collect();
    expected.sort_unstable();
    assert_eq!(sorted_ids(&page), expected);
    // Read from the seed's columns: rail, amount, parties, created_at.
    let doc = &docs[0];
    let got = store
        .get(doc["payment_id"].as_str().unwrap())
        .await
        .unwrap()
        .expect("a seed row is found by id");
    assert_eq!(seed_type_name(got.payment_type()), doc["payment_type"]);
    let amount = got.amount.clone().unwrap_or_default();
    assert_eq!(
        amount.minor_units,
        (doc["amount"]["value"].as_f64().unwrap() * 100.0).round() as i64
    );
    assert_eq!(
        got.originator.unwrap_or_default().name,
        doc["originator"]["name"].as_str().unwrap()
    );

    // Served over HTTP by the query service, and counted by verify.
    let query =
        ServiceProcess::start("payments-query", &["--store", &url], &dir.join("query.log")).await;
    let rows = common::time_range_rows(query.http, "2023-03-01", "2023-03-01");
    assert_eq!(rows.len(), 18);
    let empty = format!("sqlite://{}", dir.join("empty.db").display());
    let url_for_verify = url.clone();
    let verify = tokio::task::spawn_blocking(move || {
        Command::new(common::paymentsctl())
            .args(["verify", "--store", &url_for_verify, "--store", &empty])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&verify.stdout);
    assert!(
        stdout.lines().any(|l| l.starts_with("hbase://")
            && l.contains(&table)
            && l.ends_with(": 18 payments")),
        "{stdout}"
    );

    // The same payments stored again by this store, as in a cutover that replays the seed's
    // topic: each is then in a row of the seed's and in one of ours, and is still listed,
    // counted and read once, from our row.
    store.upsert_batch(&page.payments).await.unwrap();
    assert_eq!(sorted_ids(&first_page(&store, &day).await), expected);
    assert_eq!(store.stats(&day).await.unwrap().total_count, 18);
    assert_eq!(
        store
            .get(&page.payments[0].payment_id)
            .await
            .unwrap()
            .as_ref(),
        Some(&page.payments[0])
    );
}
