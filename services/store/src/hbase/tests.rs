//! The `hbase://` store against the in-process Thrift stand-in (`payments-hbase-standin`):
//! these prove the client's calls and wire format, not HBase's own behaviour.

use super::connection::Connections;
use super::*;
use crate::conformance;
use hbase_thrift::hbase::THbaseSyncClient;
use payments_core::sample::ach_payment;
use payments_hbase_standin::HbaseStandin;

fn standin() -> HbaseStandin {
    match HbaseStandin::start("127.0.0.1:0") {
        Ok(s) => s,
        Err(e) => panic!("starting the HBase stand-in: {e}"),
    }
}

async fn initialised(standin: &HbaseStandin) -> Arc<dyn Store> {
    let url = standin.url();
    if let Err(e) = init(&url).await {
        panic!("hbase init: {e}");
    }
    match crate::open(&url).await {
        Ok(store) => store,
        Err(e) => panic!("opening {url}: {e}"),
    }
}

#[tokio::test]
async fn hbase_on_the_in_process_thrift_stand_in_passes_the_store_suite() {
    let mut servers = Vec::new();
    conformance::run(|| {
        let server = standin();
        let url = server.url();
        servers.push(server);
        async move {
            init(&url).await?;
            crate::open(&url).await
        }
    })
    .await;
    assert_eq!(servers.len(), conformance::CASES);
}

#[tokio::test]
async fn init_creates_both_tables_once_on_the_stand_in() {
    let server = standin();
    let url = format!("{}?table=ledger", server.url());
    let created = |table: &str, created: bool| TableCreated {
        table: table.into(),
        created,
    };
    let first = init(&url).await.unwrap_or_default();
    assert_eq!(
        first,
        vec![created("ledger", true), created("ledger_by_id", true)]
    );
    let again = init(&url).await.unwrap_or_default();
    assert_eq!(
        again,
        vec![created("ledger", false), created("ledger_by_id", false)]
    );
}

#[tokio::test]
async fn rows_keep_the_seed_key_and_columns_on_the_stand_in() {
    let server = standin();
    let store = initialised(&server).await;
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
    let connections = Connections::new(server.address().to_string());
    let rows = connections
        .call("getRow", move |c| {
            c.get_row(b"payments".to_vec(), key.into_bytes(), BTreeMap::new())
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
async fn a_revision_that_moves_created_at_moves_the_row_on_the_stand_in() {
    let server = standin();
    let store = initialised(&server).await;
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
async fn pages_follow_created_at_within_a_second_not_the_row_key_on_the_stand_in() {
    let server = standin();
    let store = initialised(&server).await;
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
async fn a_missing_table_says_to_run_hbase_init_on_the_stand_in() {
    let server = standin();
    let error = crate::open(&server.url())
        .await
        .err()
        .map(|e| e.to_string());
    let error = error.unwrap_or_default();
    assert!(
        error.contains("hbase table payments does not exist"),
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
async fn a_gateway_that_goes_away_fails_writes_and_pings_on_the_stand_in() {
    let server = standin();
    let store = initialised(&server).await;
    drop(server);
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
