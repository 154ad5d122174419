//! One bad record never stops the pipeline, end to end over a real Apache Kafka broker into
//! every sink at once (SQLite, PostgreSQL, FerretDB, Redis and HBase): ingest refuses a NUL
//! and an oversized payment on their own, naming the field, and the stream goes on; the same
//! NUL put on the topic by another producer is dead-lettered by the processor with a reason;
//! the good payments around both are stored everywhere within seconds. With `CI=true` a
//! missing server fails this test.

use crate::common;

use common::pipeline::*;
use payments_proto::v1 as pb;
use payments_store::PaymentCache;
use pb::ingest_service_client::IngestServiceClient;
use std::time::{Duration, Instant};

/// `payment` with a NUL inside its originator's name.
fn with_nul(mut payment: pb::Payment) -> pb::Payment {
    if let Some(originator) = payment.originator.as_mut() {
        originator.name = format!("Acme\u{0}{}", originator.name);
    }
    payment
}

/// `payment` grown past a megabyte (the Kafka producer's default record limit) by many
/// attributes, each within the per-field limit.
fn oversized(mut payment: pb::Payment) -> pb::Payment {
    let attributes = &mut payment
        .metadata
        .get_or_insert_with(Default::default)
        .attributes;
    for i in 0..600 {
        attributes.insert(format!("note-{i}"), "x".repeat(2_000));
    }
    payment
}

#[tokio::test(flavor = "multi_thread")]
async fn a_nul_and_an_oversized_payment_are_refused_alone_and_the_good_ones_reach_every_sink() {
    let Some(pipeline) = EverySink::start("poison").await else {
        return;
    };
    let EverySink {
        broker,
        sqlite,
        postgres,
        mongodb,
        redis,
        hbase,
        ingest,
        ..
    } = &pipeline;
    let payments = generated(8, 41);

    // Through ingest: the two bad ones are refused by field, the stream goes on.
    let stream = [
        payments[0].clone(),
        with_nul(payments[1].clone()),
        payments[2].clone(),
        oversized(payments[3].clone()),
        payments[4].clone(),
    ]
    .map(|p| pb::SubmitPaymentsRequest {
        payment: Some(p),
        validation_mode: pb::ValidationMode::Lenient as i32,
        payments: Vec::new(),
    });
    let mut client = IngestServiceClient::new(common::channel(ingest.grpc).await);
    let summary = client
        .submit_payments(tokio_stream::iter(stream))
        .await
        .expect("the stream goes on past bad payments")
        .into_inner();
    assert_eq!((summary.accepted, summary.rejected), (3, 2), "{summary:?}");
    let refused: Vec<(u64, Vec<String>)> = summary
        .rejections
        .iter()
        .map(|r| {
            (
                r.index,
                r.violations.iter().map(|v| v.field.clone()).collect(),
            )
        })
        .collect();
    assert_eq!(
        refused,
        vec![
            (1, vec!["originator.name".to_owned()]),
            (3, vec!["payment".to_owned()]),
        ]
    );
    assert!(
        summary.rejections[1].violations[0]
            .description
            .contains("above the limit of 65536 bytes"),
        "{:?}",
        summary.rejections[1]
    );

    // Straight onto the topic, as the seed's producers write: the processor dead-letters it.
    let poisoned = with_nul(payments[6].clone());
    produce_raw(
        broker,
        payments_bus::PAYMENTS_TOPIC,
        vec![
            protobuf_record(&payments[5]),
            protobuf_record(&poisoned),
            protobuf_record(&payments[7]),
        ],
    )
    .await;

    let good: Vec<&str> = [0, 2, 4, 5, 7]
        .iter()
        .map(|&i| payments[i].payment_id.as_str())
        .collect();
    let bad: Vec<&str> = [1, 3, 6]
        .iter()
        .map(|&i| payments[i].payment_id.as_str())
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    for store_url in [&sqlite, &postgres, &mongodb, &hbase] {
        let store = payments_store::open(store_url).await.unwrap();
        for id in &good {
            while store.get(id).await.unwrap().is_none() {
                assert!(Instant::now() < deadline, "{id} never reached {store_url}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        for id in &bad {
            assert!(
                store.get(id).await.unwrap().is_none(),
                "{id} in {store_url}"
            );
        }
    }
    let cache = payments_store::redis::RedisSink::open(redis).await.unwrap();
    for id in &good {
        while cache.cached(id).await.unwrap().is_none() {
            assert!(Instant::now() < deadline, "{id} never reached Redis");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    let letters = dlq_lines(broker, payments_bus::DEAD_LETTER_TOPIC);
    let letter = letters
        .iter()
        .find(|l| l["key"] == poisoned.payment_id.as_str())
        .unwrap_or_else(|| panic!("the poisoned record is not dead-lettered: {letters:?}"));
    assert_eq!(letter["stage"], "validate", "{letter}");
    assert!(
        letter["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("originator.name: contains control character U+0000"),
        "{letter}"
    );
    cache.delete_all().await.unwrap();
}
