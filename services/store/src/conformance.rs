//! The one test suite every [`Store`] backend runs: idempotent replays, the higher revision
//! wins, filters, pagination without gaps or repeats, exact money, unicode, large batches
//! and aggregates. A backend's test calls [`run`] with a factory of fresh, empty stores.
//! Failures panic with a message naming the case, as test assertions do.

use crate::{PageRequest, PaymentFilter, Store};
use bytes::Bytes;
use payments_core::pb;
use payments_core::sample::ach_payment;
use prost::Message;
use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;

/// How many fresh stores [`run`] asks for (one per case).
pub const CASES: usize = 11;

/// Runs every case, each against a fresh store from `fresh`.
pub async fn run<F, Fut>(mut fresh: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = crate::Result<Arc<dyn Store>>>,
{
    let mut store = || {
        let f = fresh();
        async move {
            match f.await {
                Ok(store) => store,
                Err(e) => panic!("opening a fresh store: {e}"),
            }
        }
    };
    replays_are_idempotent(store().await.as_ref()).await;
    higher_revision_wins(store().await.as_ref()).await;
    money_round_trips_exactly(store().await.as_ref()).await;
    unicode_round_trips(store().await.as_ref()).await;
    filters_select_exactly(store().await.as_ref()).await;
    pagination_has_no_gaps_or_repeats(store().await.as_ref()).await;
    large_batches(store().await.as_ref()).await;
    stats_count_and_sum(store().await.as_ref()).await;
    ids_holding_separators_stay_apart(store().await.as_ref()).await;
    a_record_the_backend_cannot_hold_is_refused_as_its_own_fault(store().await.as_ref()).await;
    given_encodings_store_their_own_payments(store().await.as_ref()).await;
}

fn ok<T, E: std::fmt::Display>(case: &str, result: Result<T, E>) -> T {
    match result {
        Ok(v) => v,
        Err(e) => panic!("{case}: {e}"),
    }
}

async fn all(store: &dyn Store, filter: &PaymentFilter) -> Vec<pb::Payment> {
    let mut out = Vec::new();
    let mut page = PageRequest {
        size: 1000,
        after: None,
    };
    loop {
        let got = ok("listing", store.list(filter, &page).await);
        out.extend(got.payments);
        match got.next {
            Some(next) => page.after = Some(next),
            None => return out,
        }
    }
}

fn batch(prefix: &str, n: usize) -> Vec<pb::Payment> {
    (0..n)
        .map(|i| ach_payment(&format!("{prefix}-{i:05}"), i as i64))
        .collect()
}

async fn replays_are_idempotent(store: &dyn Store) {
    let payments = batch("REPLAY", 10);
    assert_eq!(
        ok("first write", store.upsert_batch(&payments).await),
        10,
        "replay: first write"
    );
    assert_eq!(
        ok("replay", store.upsert_batch(&payments).await),
        0,
        "replay: a replay must change nothing"
    );
    let stored = all(store, &PaymentFilter::default()).await;
    assert_eq!(stored.len(), 10, "replay: exactly one row per payment");
    assert_eq!(stored, payments, "replay: rows equal what was written");
}

async fn higher_revision_wins(store: &dyn Store) {
    let mut v2 = ach_payment("REV-1", 0);
    v2.revision = 2;
    v2.status = pb::PaymentStatus::Completed as i32;
    let mut v1 = v2.clone();
    v1.revision = 1;
    v1.status = pb::PaymentStatus::Received as i32;
    let mut v3 = v2.clone();
    v3.revision = 3;
    v3.status = pb::PaymentStatus::Returned as i32;
    ok("rev 2", store.upsert_batch(std::slice::from_ref(&v2)).await);
    ok("rev 1", store.upsert_batch(std::slice::from_ref(&v1)).await);
    let got = ok("get", store.get("REV-1").await);
    assert_eq!(
        got.as_ref().map(|p| p.revision),
        Some(2),
        "revision: an older revision must not replace a newer one"
    );
    // Out of order inside one batch too.
    ok("rev 3 then 1", store.upsert_batch(&[v3.clone(), v1]).await);
    assert_eq!(
        ok("get", store.get("REV-1").await),
        Some(v3),
        "revision: the highest revision wins within a batch"
    );
    assert_eq!(
        ok("get missing", store.get("NO-SUCH-PAYMENT").await),
        None,
        "get: a missing id is None"
    );
}

/// Encodings handed to `upsert_encoded` (here with a field this schema does not know, which
/// decoding skips) stay with their own payments, also when a batch holds two revisions of one
/// payment and only some payments come with one.
async fn given_encodings_store_their_own_payments(store: &dyn Store) {
    let mut payments = batch("ENCODED", 4);
    let mut newer = payments[1].clone();
    newer.revision += 1;
    newer.status = pb::PaymentStatus::Completed as i32;
    payments.push(newer.clone());
    let encoded: Vec<Option<Bytes>> = payments
        .iter()
        .enumerate()
        .map(|(i, payment)| {
            let mut bytes = payment.encode_to_vec();
            // Field 1000, a varint 1: unknown to payments.v1.Payment.
            bytes.extend_from_slice(&[0xc0, 0x3e, 0x01]);
            (i != 2).then(|| Bytes::from(bytes))
        })
        .collect();
    ok(
        "upsert with encodings",
        store.upsert_encoded(&payments, &encoded).await,
    );
    let mut expected = payments[..4].to_vec();
    expected[1] = newer;
    assert_eq!(
        all(store, &PaymentFilter::default()).await,
        expected,
        "encodings: each payment reads back as itself, its latest revision winning"
    );
}

async fn money_round_trips_exactly(store: &dyn Store) {
    let cases = [
        (9_007_199_254_740_993_i64, "USD"),
        (1, "USD"),
        (123_456, "JPY"),
        (1_234, "BHD"),
        (i64::MAX / 4, "EUR"),
    ];
    let payments: Vec<_> = cases
        .iter()
        .enumerate()
        .map(|(i, (minor_units, currency))| {
            let mut p = ach_payment(&format!("MONEY-{i}"), i as i64);
            p.amount = Some(pb::Money {
                minor_units: *minor_units,
                currency: (*currency).into(),
            });
            p
        })
        .collect();
    ok("money write", store.upsert_batch(&payments).await);
    for p in &payments {
        assert_eq!(
            ok("money get", store.get(&p.payment_id).await).as_ref(),
            Some(p),
            "money: exact round trip"
        );
    }
    let filter = PaymentFilter {
        min_amount_minor_units: Some(9_007_199_254_740_993),
        ..Default::default()
    };
    let big: Vec<_> = all(store, &filter)
        .await
        .into_iter()
        .map(|p| p.payment_id)
        .collect();
    assert_eq!(
        big,
        vec!["MONEY-0", "MONEY-4"],
        "money: amount filters compare exact integers"
    );
}

async fn unicode_round_trips(store: &dyn Store) {
    let mut p = ach_payment("UNICODE-1", 0);
    if let Some(o) = p.originator.as_mut() {
        o.name = "Société Générale – 東京支店 🚀".into();
        o.party_id = "CÜST-ß-東".into();
    }
    ok(
        "unicode write",
        store.upsert_batch(std::slice::from_ref(&p)).await,
    );
    assert_eq!(
        ok("unicode get", store.get("UNICODE-1").await).as_ref(),
        Some(&p),
        "unicode: names round-trip"
    );
    let filter = PaymentFilter {
        originator_id: Some("CÜST-ß-東".into()),
        ..Default::default()
    };
    assert_eq!(
        all(store, &filter).await.len(),
        1,
        "unicode: filter by a unicode party id"
    );
}

/// Payment `C` of originator `A_B` and payment `B_C` of originator `A`, on one rail in one
/// second, are two payments (the seed's row key joins the ids with `_`).
async fn ids_holding_separators_stay_apart(store: &dyn Store) {
    let with = |originator: &str, id: &str| {
        let mut p = ach_payment(id, 0);
        if let Some(o) = p.originator.as_mut() {
            o.party_id = originator.into();
        }
        p
    };
    let (a, b) = (with("A_B", "C"), with("A", "B_C"));
    let (c, d) = (with("A%5FB", "C2"), with("A_B", "C2_"));
    let batch = [a.clone(), b.clone(), c.clone(), d.clone()];
    assert_eq!(
        ok("separator write", store.upsert_batch(&batch).await),
        4,
        "separators: four payments, four rows"
    );
    for p in &batch {
        assert_eq!(
            ok("separator get", store.get(&p.payment_id).await).as_ref(),
            Some(p),
            "separators: {} kept as written",
            p.payment_id
        );
    }
    assert_eq!(
        all(store, &PaymentFilter::default()).await.len(),
        4,
        "separators: every payment listed"
    );
}

/// A payment with a NUL and other control characters in its text (which ingest refuses,
/// but any producer can put on the bus) is either stored exactly or refused as the
/// record's own fault ([`crate::Error::is_caused_by_records`]), never as the backend
/// being away; and the store goes on taking good payments.
async fn a_record_the_backend_cannot_hold_is_refused_as_its_own_fault(store: &dyn Store) {
    let mut poison = ach_payment("POISON-1", 0);
    if let Some(o) = poison.originator.as_mut() {
        o.name = "Acme\u{0}Corp\u{1b}[31m\u{7f}".into();
    }
    poison
        .metadata
        .get_or_insert_with(Default::default)
        .attributes
        .extend([
            ("note\u{0}".to_owned(), "\u{0}".to_owned()),
            ("$where.x".to_owned(), "{}".to_owned()),
        ]);
    match store.upsert_batch(std::slice::from_ref(&poison)).await {
        Ok(_) => assert_eq!(
            ok("poison get", store.get("POISON-1").await).as_ref(),
            Some(&poison),
            "poison: stored, so stored exactly"
        ),
        Err(e) => assert!(
            e.is_caused_by_records(),
            "poison: refused, but not as the record's fault: {}",
            payments_core::service_error::with_causes(&e)
        ),
    }
    let good = batch("AFTER-POISON", 3);
    ok("write after poison", store.upsert_batch(&good).await);
    assert!(
        ok("get after poison", store.get("AFTER-POISON-00002").await).is_some(),
        "poison: good payments are stored after it"
    );
}

/// A filter, its name, and which of the 40 indexed payments it must select.
type FilterCase = (&'static str, PaymentFilter, Box<dyn Fn(usize) -> bool>);

async fn filters_select_exactly(store: &dyn Store) {
    let mut payments = batch("FILTER", 40);
    for (i, p) in payments.iter_mut().enumerate() {
        p.payment_type = [
            pb::PaymentType::Ach,
            pb::PaymentType::Wire,
            pb::PaymentType::Rtp,
            pb::PaymentType::Sepa,
        ][i % 4] as i32;
        p.details = None;
        p.status = [pb::PaymentStatus::Received, pb::PaymentStatus::Completed][i % 2] as i32;
        if let Some(o) = p.originator.as_mut() {
            o.party_id = format!("ORIG-{}", i % 5);
        }
        if let Some(b) = p.beneficiary.as_mut() {
            b.party_id = format!("BENE-{}", i % 3);
        }
        p.amount = Some(pb::Money {
            minor_units: 100 * (i as i64 + 1),
            currency: if i % 4 == 3 { "EUR" } else { "USD" }.into(),
        });
    }
    ok("filter write", store.upsert_batch(&payments).await);
    let base = payments[0]
        .created_at
        .map(|t| payments_core::time::timestamp_micros(&t))
        .unwrap_or_default();
    let cases: Vec<FilterCase> = vec![
        ("everything", PaymentFilter::default(), Box::new(|_| true)),
        (
            "type",
            PaymentFilter {
                payment_types: vec![pb::PaymentType::Wire],
                ..Default::default()
            },
            Box::new(|i| i % 4 == 1),
        ),
        (
            "types",
            PaymentFilter {
                payment_types: vec![pb::PaymentType::Ach, pb::PaymentType::Sepa],
                ..Default::default()
            },
            Box::new(|i| i % 4 == 0 || i % 4 == 3),
        ),
        (
            "status",
            PaymentFilter {
                statuses: vec![pb::PaymentStatus::Completed],
                ..Default::default()
            },
            Box::new(|i| i % 2 == 1),
        ),
        (
            "originator",
            PaymentFilter {
                originator_id: Some("ORIG-2".into()),
                ..Default::default()
            },
            Box::new(|i| i % 5 == 2),
        ),
        (
            "beneficiary",
            PaymentFilter {
                beneficiary_id: Some("BENE-0".into()),
                ..Default::default()
            },
            Box::new(|i| i % 3 == 0),
        ),
        (
            "amount range",
            PaymentFilter {
                min_amount_minor_units: Some(500),
                max_amount_minor_units: Some(1000),
                ..Default::default()
            },
            Box::new(|i| (4..=9).contains(&i)),
        ),
        (
            "currency",
            PaymentFilter {
                currency: Some("EUR".into()),
                ..Default::default()
            },
            Box::new(|i| i % 4 == 3),
        ),
        (
            "time range",
            PaymentFilter {
                created_from_micros: Some(base + 10_000_000),
                created_to_micros: Some(base + 20_000_000),
                ..Default::default()
            },
            Box::new(|i| (10..20).contains(&i)),
        ),
        (
            "type + originator + time",
            PaymentFilter {
                payment_types: vec![pb::PaymentType::Ach],
                originator_id: Some("ORIG-0".into()),
                created_from_micros: Some(base),
                created_to_micros: Some(base + 21_000_000),
                ..Default::default()
            },
            Box::new(|i| i % 4 == 0 && i % 5 == 0 && i <= 20),
        ),
    ];
    for (name, filter, expected) in cases {
        let got: Vec<_> = all(store, &filter)
            .await
            .into_iter()
            .map(|p| p.payment_id)
            .collect();
        let want: Vec<_> = (0..40)
            .filter(|i| expected(*i))
            .map(|i| format!("FILTER-{i:05}"))
            .collect();
        assert_eq!(got, want, "filter {name}");
    }
}

async fn pagination_has_no_gaps_or_repeats(store: &dyn Store) {
    let mut payments = batch("PAGE", 250);
    // Many share a created_at, so the payment_id tie-break matters.
    for (i, p) in payments.iter_mut().enumerate() {
        if let Some(ts) = p.created_at.as_mut() {
            ts.seconds -= (i % 10) as i64;
        }
    }
    ok("page write", store.upsert_batch(&payments).await);
    let mut seen = Vec::new();
    let mut page = PageRequest {
        size: 7,
        after: None,
    };
    loop {
        let got = ok("page", store.list(&PaymentFilter::default(), &page).await);
        assert!(got.payments.len() <= 7, "pagination: page size respected");
        seen.extend(
            got.payments
                .iter()
                .map(|p| (p.created_at.map(|t| t.seconds), p.payment_id.clone())),
        );
        match got.next {
            Some(next) => page.after = Some(next),
            None => break,
        }
    }
    let unique: HashSet<_> = seen.iter().map(|(_, id)| id.clone()).collect();
    assert_eq!(seen.len(), 250, "pagination: every payment once");
    assert_eq!(unique.len(), 250, "pagination: no repeats");
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "pagination: ordered by created_at, payment_id"
    );
}

async fn large_batches(store: &dyn Store) {
    let payments = batch("LARGE", 5_000);
    assert_eq!(
        ok("large write", store.upsert_batch(&payments).await),
        5_000,
        "large batch: all rows written"
    );
    let stats = ok("large stats", store.stats(&PaymentFilter::default()).await);
    assert_eq!(stats.total_count, 5_000, "large batch: all rows stored");
}

async fn stats_count_and_sum(store: &dyn Store) {
    let mut payments = batch("STATS", 6);
    for (i, p) in payments.iter_mut().enumerate() {
        if i >= 4 {
            p.payment_type = pb::PaymentType::Wire as i32;
            p.details = None;
            p.amount = Some(pb::Money {
                minor_units: 1_000,
                currency: "EUR".into(),
            });
        }
    }
    ok("stats write", store.upsert_batch(&payments).await);
    let stats = ok("stats", store.stats(&PaymentFilter::default()).await);
    assert_eq!(stats.total_count, 6);
    let by_type: Vec<_> = stats
        .by_type
        .iter()
        .map(|b| (b.key.as_str(), b.count, b.totals.clone()))
        .collect();
    assert_eq!(
        by_type,
        vec![
            (
                "PAYMENT_TYPE_ACH",
                4,
                [("USD".to_owned(), 4 * 125_000)].into()
            ),
            ("PAYMENT_TYPE_WIRE", 2, [("EUR".to_owned(), 2_000)].into()),
        ],
        "stats by type"
    );
    let by_currency: Vec<_> = stats
        .by_currency
        .iter()
        .map(|b| (b.key.as_str(), b.count))
        .collect();
    assert_eq!(
        by_currency,
        vec![("EUR", 2), ("USD", 4)],
        "stats by currency"
    );
    let filtered = ok(
        "stats filtered",
        store
            .stats(&PaymentFilter {
                currency: Some("EUR".into()),
                ..Default::default()
            })
            .await,
    );
    assert_eq!(filtered.total_count, 2, "stats honour the filter");
}
