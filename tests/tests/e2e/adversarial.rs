//! The whole pipeline against input no one here wrote: payments mutated by proptest (from a
//! fixed seed, a fixed number of cases) with arbitrary Unicode (NUL and other control
//! characters, bidirectional marks, emoji, combining marks, strings past every limit), zero,
//! negative and extreme amounts, every enum number, known or not, and parts left out, sent
//! through ingest over a real Apache Kafka broker into every sink at once (SQLite,
//! PostgreSQL, FerretDB, Redis and HBase).
//!
//! It asserts that:
//! - every rejection names a field;
//! - every payment ingest acknowledged ends, within a bounded time, either stored identically
//!   in every sink (read back through the query service, and Redis's cache) or in the
//!   dead-letter topic with a reason;
//! - no process panics, and the pipeline keeps moving: clean payments sent afterwards are
//!   stored everywhere.
//!
//! With `CI=true` a missing server fails this test.

use crate::common;

use common::pipeline::*;
use common::services::ServiceProcess;
use payments_proto::v1 as pb;
use payments_store::PaymentCache;
use pb::ingest_service_client::IngestServiceClient;
use pb::query_service_client::QueryServiceClient;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

/// Payments per run: each one a case.
const CASES: usize = 300;

/// How long every acknowledged payment may take to be stored or dead-lettered.
const SETTLE: Duration = Duration::from_secs(180);

/// A text field of a payment that a mutation can set.
#[derive(Debug, Clone, Copy)]
enum TextField {
    OriginatorName,
    BeneficiaryName,
    OriginatorPartyId,
    AccountId,
    RoutingValue,
    City,
    Remittance,
    AttributeKey,
    AttributeValue,
    PaymentId,
}

/// An enum field a mutation can set to any number.
#[derive(Debug, Clone, Copy)]
enum EnumField {
    PaymentType,
    Status,
    PartyType,
    RoutingType,
}

/// A part a mutation can leave out.
#[derive(Debug, Clone, Copy)]
enum Part {
    Originator,
    Beneficiary,
    Amount,
    CreatedAt,
    Details,
    Metadata,
    Account,
}

/// One change to a valid payment.
#[derive(Debug, Clone)]
enum Mutation {
    Text(TextField, String),
    Amount(i64),
    Enum(EnumField, i32),
    Drop(Part),
}

/// Text from every corner: anything Unicode, NUL, bidirectional marks, emoji, combining
/// marks and tag sequences, strings up to twice the per-field limit, nothing at all.
fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        Just("\u{0}".to_owned()),
        "[\u{200e}\u{200f}\u{202a}-\u{202e}\u{2066}-\u{2069}a-z ]{1,24}",
        "[\u{1F600}-\u{1F64F}\u{1F4B8}\u{1F3E6}]{1,12}",
        "(e\u{301}|a\u{308}|\u{1F3F4}\u{E0067}\u{E0062}|\u{200d})+",
        (1usize..4_096).prop_map(|n| "x".repeat(n)),
        "[\u{1}-\u{1f}\u{7f}-\u{9f}a]{1,8}",
        Just(String::new()),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let text_field = prop_oneof![
        Just(TextField::OriginatorName),
        Just(TextField::BeneficiaryName),
        Just(TextField::OriginatorPartyId),
        Just(TextField::AccountId),
        Just(TextField::RoutingValue),
        Just(TextField::City),
        Just(TextField::Remittance),
        Just(TextField::AttributeKey),
        Just(TextField::AttributeValue),
        Just(TextField::PaymentId),
    ];
    let enum_field = prop_oneof![
        Just(EnumField::PaymentType),
        Just(EnumField::Status),
        Just(EnumField::PartyType),
        Just(EnumField::RoutingType),
    ];
    let part = prop_oneof![
        Just(Part::Originator),
        Just(Part::Beneficiary),
        Just(Part::Amount),
        Just(Part::CreatedAt),
        Just(Part::Details),
        Just(Part::Metadata),
        Just(Part::Account),
    ];
    let max = payments_core::money::MAX_MINOR_UNITS;
    let amount = prop_oneof![
        Just(0),
        Just(1),
        Just(-1),
        Just(max),
        Just(max + 1),
        Just(i64::MAX),
        Just(i64::MIN),
        any::<i64>(),
    ];
    prop_oneof![
        4 => (text_field, hostile_text()).prop_map(|(f, t)| Mutation::Text(f, t)),
        2 => amount.prop_map(Mutation::Amount),
        1 => (enum_field, -2i32..24).prop_map(|(f, n)| Mutation::Enum(f, n)),
        1 => part.prop_map(Mutation::Drop),
    ]
}

/// `payment` with `mutation` applied; payment ids stay unique (a new id keeps `index`).
fn apply(payment: &mut pb::Payment, mutation: &Mutation, index: usize) {
    match mutation {
        Mutation::Text(field, text) => {
            let text = text.clone();
            match field {
                TextField::OriginatorName => {
                    if let Some(o) = payment.originator.as_mut() {
                        o.name = text;
                    }
                }
                TextField::BeneficiaryName => {
                    if let Some(b) = payment.beneficiary.as_mut() {
                        b.name = text;
                    }
                }
                TextField::OriginatorPartyId => {
                    if let Some(o) = payment.originator.as_mut() {
                        o.party_id = text;
                    }
                }
                TextField::AccountId => {
                    if let Some(a) = payment.originator.as_mut().and_then(|o| o.account.as_mut()) {
                        a.account_id = text;
                    }
                }
                TextField::RoutingValue => {
                    if let Some(a) = payment.originator.as_mut().and_then(|o| o.account.as_mut()) {
                        a.routing_info.get_or_insert_with(Default::default).value = text;
                    }
                }
                TextField::City => {
                    if let Some(o) = payment.originator.as_mut() {
                        o.address.get_or_insert_with(Default::default).city = text;
                    }
                }
                TextField::Remittance => {
                    payment
                        .remittance_info
                        .get_or_insert_with(Default::default)
                        .description = text;
                }
                TextField::AttributeKey | TextField::AttributeValue => {
                    let attributes = &mut payment
                        .metadata
                        .get_or_insert_with(Default::default)
                        .attributes;
                    match field {
                        TextField::AttributeKey => attributes.insert(text, "v".into()),
                        _ => attributes.insert("note".into(), text),
                    };
                }
                TextField::PaymentId => payment.payment_id = format!("{text}-{index}"),
            }
        }
        Mutation::Amount(minor_units) => {
            if let Some(amount) = payment.amount.as_mut() {
                amount.minor_units = *minor_units;
            }
        }
        Mutation::Enum(field, value) => match field {
            EnumField::PaymentType => payment.payment_type = *value,
            EnumField::Status => payment.status = *value,
            EnumField::PartyType => {
                if let Some(b) = payment.beneficiary.as_mut() {
                    b.party_type = *value;
                }
            }
            EnumField::RoutingType => {
                if let Some(r) = payment
                    .originator
                    .as_mut()
                    .and_then(|o| o.account.as_mut())
                    .and_then(|a| a.routing_info.as_mut())
                {
                    r.r#type = *value;
                }
            }
        },
        Mutation::Drop(part) => match part {
            Part::Originator => payment.originator = None,
            Part::Beneficiary => payment.beneficiary = None,
            Part::Amount => payment.amount = None,
            Part::CreatedAt => payment.created_at = None,
            Part::Details => payment.details = None,
            Part::Metadata => payment.metadata = None,
            Part::Account => {
                if let Some(o) = payment.originator.as_mut() {
                    o.account = None;
                }
            }
        },
    }
}

/// `CASES` payments: valid generated ones, each with 0 to 3 mutations drawn from a fixed
/// seed, and a validation mode each.
fn hostile_payments() -> Vec<(pb::Payment, pb::ValidationMode)> {
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[16; 32]),
    );
    let strategy = (
        proptest::collection::vec(mutation(), 0..4),
        prop_oneof![
            Just(pb::ValidationMode::Strict),
            Just(pb::ValidationMode::Lenient)
        ],
    );
    generated(CASES as u64, 61)
        .into_iter()
        .enumerate()
        .map(|(index, mut payment)| {
            payment.payment_id = format!("ADV-{index}");
            let (mutations, mode) = strategy
                .new_tree(&mut runner)
                .expect("a proptest value")
                .current();
            for mutation in &mutations {
                apply(&mut payment, mutation, index);
            }
            (payment, mode)
        })
        .collect()
}

/// What a query service (with accounts revealed) returns for `id`, if it is stored.
async fn stored_in(
    query: &mut QueryServiceClient<tonic::transport::Channel>,
    id: &str,
) -> Option<pb::Payment> {
    match query
        .get_payment(pb::GetPaymentRequest {
            payment_id: id.to_owned(),
        })
        .await
    {
        Ok(answer) => answer.into_inner().payment,
        Err(status) if status.code() == tonic::Code::NotFound => None,
        Err(status) => panic!("GetPayment {id:?}: {status:?}"),
    }
}

fn assert_no_panic(logs: &[std::path::PathBuf]) {
    for log in logs {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        assert!(
            !text.contains("panicked"),
            "{} shows a panic:\n{text}",
            log.display()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_payments_through_kafka_into_every_sink_end_stored_alike_or_dead_lettered() {
    let Some(pipeline) = EverySink::start("adversarial").await else {
        return;
    };
    let EverySink {
        broker,
        dir,
        sqlite,
        postgres,
        mongodb,
        redis,
        hbase,
        ingest,
        ..
    } = &pipeline;
    let mut queries = Vec::new();
    for (name, store) in [
        ("sqlite", &sqlite),
        ("postgres", &postgres),
        ("mongodb", &mongodb),
        ("hbase", &hbase),
    ] {
        let log = dir.join(format!("query-{name}.log"));
        let query = ServiceProcess::start(
            "payments-query",
            &["--store", store, "--reveal-accounts", "--no-console"],
            &log,
        )
        .await;
        let client = QueryServiceClient::new(common::channel(query.grpc).await);
        queries.push((name, query, client, log));
    }

    // Every case in one stream, as a client would send a file.
    let cases = hostile_payments();
    let requests: Vec<pb::SubmitPaymentsRequest> = cases
        .iter()
        .map(|(payment, mode)| pb::SubmitPaymentsRequest {
            payment: Some(payment.clone()),
            validation_mode: *mode as i32,
            payments: Vec::new(),
        })
        .collect();
    let mut ingest_client = IngestServiceClient::new(common::channel(ingest.grpc).await)
        .max_decoding_message_size(64 << 20);
    let summary = ingest_client
        .submit_payments(tokio_stream::iter(requests))
        .await
        .expect("hostile payments never fail the stream")
        .into_inner();
    assert_eq!(summary.received, CASES as u64);
    assert_eq!(
        summary.accepted + summary.rejected,
        CASES as u64,
        "{summary:?}"
    );
    let mut rejected = HashSet::new();
    for rejection in &summary.rejections {
        assert!(
            !rejection.violations.is_empty()
                && rejection.violations.iter().all(|v| !v.field.is_empty()),
            "a rejection that names no field: {rejection:?}"
        );
        rejected.insert(rejection.index as usize);
    }
    let acknowledged: BTreeMap<String, pb::Payment> = cases
        .iter()
        .enumerate()
        .filter(|(index, _)| !rejected.contains(index))
        .map(|(_, (payment, _))| (payment.payment_id.clone(), payment.clone()))
        .collect();
    eprintln!(
        "{} cases: {} acknowledged, {} rejected",
        CASES,
        acknowledged.len(),
        rejected.len()
    );
    assert!(
        !acknowledged.is_empty() && !rejected.is_empty(),
        "the cases should both pass and fail validation"
    );

    // Each acknowledged payment ends stored alike everywhere, or dead-lettered with a reason.
    let cache = payments_store::redis::RedisSink::open(redis).await.unwrap();
    let deadline = Instant::now() + SETTLE;
    let mut unresolved: Vec<String> = acknowledged.keys().cloned().collect();
    let mut dead_lettered: BTreeMap<String, usize> = BTreeMap::new();
    let mut stored_everywhere = 0;
    while !unresolved.is_empty() {
        let letters = dlq_lines(broker, payments_bus::DEAD_LETTER_TOPIC);
        let mut still = Vec::new();
        for id in unresolved {
            if let Some(letter) = letters.iter().find(|l| l["key"] == id.as_str()) {
                let reason = letter["reason"].as_str().unwrap_or_default();
                assert!(!reason.is_empty(), "dead letter without a reason: {letter}");
                let stage = letter["stage"].as_str().unwrap_or_default().to_owned();
                eprintln!("{id} dead-lettered at {stage}: {reason}");
                *dead_lettered.entry(stage).or_default() += 1;
                continue;
            }
            let mut copies = Vec::new();
            for (_, _, client, _) in queries.iter_mut() {
                copies.push(stored_in(client, &id).await);
            }
            copies.push(cache.cached(&id).await.unwrap());
            if copies.iter().any(Option::is_none) {
                still.push(id);
                continue;
            }
            let first = copies[0].clone();
            for (copy, name) in copies
                .iter()
                .zip(["sqlite", "postgres", "mongodb", "hbase", "redis"])
            {
                assert_eq!(copy, &first, "{id}: {name} differs from sqlite");
            }
            let mut expected = acknowledged[&id].clone();
            payments_core::normalize(&mut expected);
            let mut stored = first.unwrap_or_default();
            stored.warnings.clear();
            assert_eq!(stored, expected, "{id} is not stored as sent");
            stored_everywhere += 1;
        }
        unresolved = still;
        if !unresolved.is_empty() {
            assert!(
                Instant::now() < deadline,
                "{} acknowledged payments neither stored everywhere nor dead-lettered after {SETTLE:?}, e.g. {:?}",
                unresolved.len(),
                unresolved.first()
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    eprintln!(
        "acknowledged: {stored_everywhere} stored alike in every sink, dead-lettered by stage: {dead_lettered:?}"
    );
    let letters_seen = dead_lettered.values().sum::<usize>() as u64;
    let letters_counted = pipeline
        .processor
        .metric("payments_processor_dead_lettered_total");
    assert!(
        letters_counted >= letters_seen,
        "the processor counts {letters_counted} dead letters, the topic holds {letters_seen}"
    );

    // The pipeline still moves: clean payments after all that are stored everywhere.
    let clean: Vec<pb::Payment> = generated(50, 62)
        .into_iter()
        .enumerate()
        .map(|(i, mut p)| {
            p.payment_id = format!("ADV-AFTER-{i}");
            p
        })
        .collect();
    let (after, failed) = submit(ingest.grpc, &clean, 50).await;
    assert_eq!((after.len(), failed), (50, 0));
    let deadline = Instant::now() + Duration::from_secs(60);
    for id in &after {
        for (name, _, client, _) in queries.iter_mut() {
            while stored_in(client, id).await.is_none() {
                assert!(Instant::now() < deadline, "{id} never reached {name}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }

    let mut logs = vec![dir.join("ingest.log"), dir.join("processor.log")];
    logs.extend(queries.iter().map(|(_, _, _, log)| log.clone()));
    assert_no_panic(&logs);
    cache.delete_all().await.unwrap();
}
