//! The `hbase://` store against real Apache HBase through its Thrift gateway: the shared test
//! server that `scripts/start-test-servers` starts (`PAYMENTS_TEST_HBASE`, default
//! `hbase://127.0.0.1:9090`), each test in tables of its own; and a private gateway for the
//! test that stops one. Unreachable, the tests skip, except in CI where they fail.

use super::connection::Connections;
use super::*;
use crate::conformance;
use hbase_thrift::hbase::THbaseSyncClient;
use payments_core::sample::ach_payment;
use std::sync::atomic::{AtomicUsize, Ordering};

/// `host:port` of the shared HBase Thrift gateway, or `None` (after saying so) when it does
/// not answer outside CI; in CI that fails the test.
async fn gateway() -> Option<String> {
    let url =
        std::env::var("PAYMENTS_TEST_HBASE").unwrap_or_else(|_| "hbase://127.0.0.1:9090".into());
    let address = match HbaseLocation::parse(&url) {
        Ok(location) => location.address,
        Err(e) => panic!("PAYMENTS_TEST_HBASE: {e}"),
    };
    let connections = Connections::new(address.clone());
    match connections
        .call("getTableNames", |c| c.get_table_names())
        .await
    {
        Ok(_) => Some(address),
        Err(e) => {
            let in_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
            assert!(!in_ci, "HBase at {url} does not answer: {e}");
            eprintln!("skipping: HBase at {url} does not answer: {e} (scripts/start-test-servers)");
            None
        }
    }
}

/// A table name no other test (or earlier run) uses: `t_<name>_<pid>_<n>_<nanos>`.
fn fresh_table(name: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "t_{name}_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The tables a test made, dropped (disabled, then deleted) when the test ends.
struct Tables {
    address: String,
    names: Vec<String>,
}

impl Tables {
    fn new(address: &str) -> Self {
        Self {
            address: address.to_owned(),
            names: Vec::new(),
        }
    }

    /// A fresh `hbase://` URL whose table (and its id index) this guard drops.
    fn url(&mut self, name: &str) -> String {
        self.table_and_url(name).1
    }

    /// A fresh table name, and the `hbase://` URL of it; this guard drops the table and its
    /// id index.
    fn table_and_url(&mut self, name: &str) -> (String, String) {
        let table = fresh_table(name);
        self.names.push(table.clone());
        self.names.push(format!("{table}_by_id"));
        let url = format!("hbase://{}?table={table}", self.address);
        (table, url)
    }
}

impl Drop for Tables {
    fn drop(&mut self) {
        let address = self.address.clone();
        let names = std::mem::take(&mut self.names);
        // A thread of its own: the guard drops inside a runtime, and the Thrift client blocks.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                let connections = Connections::new(address);
                for name in names {
                    let table = name.clone().into_bytes();
                    let again = table.clone();
                    let _ = connections
                        .call("disableTable", move |c| c.disable_table(table))
                        .await;
                    let _ = connections
                        .call("deleteTable", move |c| c.delete_table(again))
                        .await;
                }
            });
        })
        .join();
    }
}

async fn initialised(url: &str) -> Arc<dyn Store> {
    if let Err(e) = init(url).await {
        panic!("hbase init: {e}");
    }
    match crate::open(url).await {
        Ok(store) => store,
        Err(e) => panic!("opening {url}: {e}"),
    }
}

#[tokio::test]
async fn hbase_passes_the_store_suite() {
    let Some(address) = gateway().await else {
        return;
    };
    let mut tables = Tables::new(&address);
    let mut opened = 0;
    conformance::run(|| {
        let url = tables.url("suite");
        opened += 1;
        async move {
            init(&url).await?;
            crate::open(&url).await
        }
    })
    .await;
    assert_eq!(opened, conformance::CASES);
}

#[tokio::test]
async fn init_creates_both_tables_once() {
    let Some(address) = gateway().await else {
        return;
    };
    let mut tables = Tables::new(&address);
    let (table, url) = tables.table_and_url("ledger");
    let created = |table: &str, created: bool| TableCreated {
        table: table.into(),
        created,
    };
    let first = init(&url).await.unwrap_or_default();
    let index = format!("{table}_by_id");
    assert_eq!(first, vec![created(&table, true), created(&index, true)]);
    let again = init(&url).await.unwrap_or_default();
    assert_eq!(again, vec![created(&table, false), created(&index, false)]);
}

#[tokio::test]
async fn rows_keep_the_seed_key_and_columns() {
    let Some(address) = gateway().await else {
        return;
    };
    let mut tables = Tables::new(&address);
    let (table, url) = tables.table_and_url("columns");
    let store = initialised(&url).await;
    let payment = ach_payment("ACH-SEED-1", 0);
    assert_eq!(
        store
            .upsert_batch(std::slice::from_ref(&payment))
            .await
            .ok(),
        Some(1)
    );

    let key = payments_core::row_key(&payment);
    assert!(key.ends_with("_ACH-SEED-1"), "{key}");
    let connections = Connections::new(address.clone());
    let rows = connections
        .call("getRow", move |c| {
            c.get_row(table.into_bytes(), key.into_bytes(), BTreeMap::new())
        })
        .await
        .unwrap_or_default();
    let row = rows
        .first()
        .unwrap_or_else(|| panic!("no row under the seed's key"));
    let text =
        |q: &str| String::from_utf8_lossy(row::cell(row, q).unwrap_or_default()).into_owned();
    let amount = payment.amount.clone().unwrap_or_default();
    assert_eq!(text(column::PAYMENT_ID), "ACH-SEED-1");
    assert_eq!(text(column::PAYMENT_TYPE), "ACH");
    assert_eq!(
        text(column::AMOUNT_VALUE),
        payments_core::money::format_minor_units(amount.minor_units, &amount.currency)
    );
    assert_eq!(text(column::AMOUNT_CURRENCY), amount.currency);
    for q in [
        column::ORIGINATOR_ID,
        column::ORIGINATOR_NAME,
        column::BENEFICIARY_ID,
        column::BENEFICIARY_NAME,
        column::CREATED_AT,
    ] {
        assert!(!text(q).is_empty(), "cf:{q} is empty");
    }
    assert_eq!(row::payment_of(row).ok(), Some(payment));
}

#[tokio::test]
async fn a_revision_that_moves_created_at_moves_the_row() {
    let Some(address) = gateway().await else {
        return;
    };
    let mut tables = Tables::new(&address);
    let store = initialised(&tables.url("move")).await;
    let first = ach_payment("ACH-MOVE-1", 0);
    let mut moved = first.clone();
    moved.revision += 1;
    if let Some(at) = moved.created_at.as_mut() {
        at.seconds += 3600;
    }
    assert_eq!(
        store.upsert_batch(std::slice::from_ref(&first)).await.ok(),
        Some(1)
    );
    assert_eq!(store.upsert_batch(&[moved.clone()]).await.ok(), Some(1));
    // The older revision replayed changes nothing.
    assert_eq!(store.upsert_batch(&[first]).await.ok(), Some(0));
    let all = store
        .list(
            &PaymentFilter::default(),
            &PageRequest {
                size: 10,
                after: None,
            },
        )
        .await
        .map(|p| p.payments)
        .unwrap_or_default();
    assert_eq!(all, vec![moved.clone()]);
    assert_eq!(store.get("ACH-MOVE-1").await.ok().flatten(), Some(moved));
}

#[tokio::test]
async fn pages_follow_created_at_within_a_second_not_the_row_key() {
    let Some(address) = gateway().await else {
        return;
    };
    let mut tables = Tables::new(&address);
    let store = initialised(&tables.url("pages")).await;
    // One second of payments whose originators (a row-key segment) sort opposite to their
    // created_at, across several seconds.
    let payments: Vec<pb::Payment> = (0..90_i32)
        .map(|i| {
            let mut p = ach_payment(&format!("ACH-SUB-{i:02}"), i64::from(i / 30));
            if let Some(originator) = p.originator.as_mut() {
                originator.party_id = format!("C-{i:02}");
            }
            if let Some(at) = p.created_at.as_mut() {
                at.nanos = (29 - i % 30) * 1_000_000;
            }
            p
        })
        .collect();
    assert_eq!(store.upsert_batch(&payments).await.ok(), Some(90));
    let mut expected = payments.clone();
    expected.sort_by_key(|p| {
        let at = p.created_at.unwrap_or_default();
        (at.seconds, at.nanos, p.payment_id.clone())
    });
    let mut seen = Vec::new();
    let mut page = PageRequest {
        size: 7,
        after: None,
    };
    loop {
        let got = store.list(&PaymentFilter::default(), &page).await;
        let got = got.unwrap_or_else(|e| panic!("listing: {e}"));
        seen.extend(got.payments);
        match got.next {
            Some(next) => page.after = Some(next),
            None => break,
        }
    }
    let ids = |ps: &[pb::Payment]| ps.iter().map(|p| p.payment_id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&seen), ids(&expected));
}

#[tokio::test]
async fn a_missing_table_says_to_run_hbase_init() {
    let Some(address) = gateway().await else {
        return;
    };
    let table = fresh_table("missing");
    let error = crate::open(&format!("hbase://{address}?table={table}"))
        .await
        .err()
        .map(|e| e.to_string());
    let error = error.unwrap_or_default();
    assert!(
        error.contains(&format!("hbase table {table} does not exist")),
        "{error}"
    );
    assert!(error.contains("paymentsctl hbase init"), "{error}");
}

#[tokio::test]
async fn an_unreachable_gateway_is_named() {
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(1);
    let url = format!("hbase://127.0.0.1:{free}");
    let error = crate::open(&url).await.err().map(|e| e.to_string());
    let error = error.unwrap_or_default();
    assert!(
        error.contains(&format!(
            "cannot reach the HBase Thrift gateway at 127.0.0.1:{free}"
        )),
        "{error}"
    );
}

#[tokio::test]
async fn a_gateway_that_goes_away_fails_writes_and_pings() {
    let Some(address) = gateway().await else {
        return;
    };
    let mut tables = Tables::new(&address);
    let url = tables.url("gone");
    init(&url).await.unwrap_or_default();
    let mut private = PrivateGateway::start().await;
    let store = initialised(&url.replace(&address, &private.address)).await;
    private.stop();
    let error = store.upsert_batch(&[ach_payment("ACH-GONE-1", 0)]).await;
    assert!(error.is_err(), "a write to a stopped gateway succeeded");
    assert!(store.ping().await.is_err());
}

#[test]
fn urls_are_checked_with_the_reason() {
    let ok = HbaseLocation::parse("hbase://hbase.internal?table=pay_2024").ok();
    assert_eq!(
        ok,
        Some(HbaseLocation {
            address: "hbase.internal:9090".into(),
            table: "pay_2024".into()
        })
    );
    for (url, reason) in [
        ("hbase://", "no host"),
        ("hbase://h:port", "is not a number"),
        ("hbase://h:9090?table=", "table name"),
        ("hbase://h:9090?table=a b", "table name"),
        ("hbase://h:9090?tables=x", "unknown option"),
    ] {
        let error = HbaseLocation::parse(url).err().map(|e| e.to_string());
        let error = error.unwrap_or_default();
        assert!(error.contains(reason), "{url}: {error}");
    }
}

/// A Thrift gateway of this test's own (`scripts/run-test-server hbase-thrift` on a free port,
/// in front of the shared HBase), so that the test can stop it.
struct PrivateGateway {
    child: std::process::Child,
    address: String,
}

impl PrivateGateway {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("a free port: {e}"));
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/run-test-server");
        let child = std::process::Command::new(script)
            .args(["hbase-thrift", "--port", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {script}: {e}"));
        let gateway = Self {
            child,
            address: format!("127.0.0.1:{port}"),
        };
        let connections = Connections::new(gateway.address.clone());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
        while connections
            .call("getTableNames", |c| c.get_table_names())
            .await
            .is_err()
        {
            assert!(
                std::time::Instant::now() < deadline,
                "the private Thrift gateway on {port} did not answer within 90 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
        gateway
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for PrivateGateway {
    fn drop(&mut self) {
        self.stop();
    }
}
