//! Bad input gets a specific error naming every bad field, and nothing is lost: the good
//! payments around a bad one are stored.

use payments_proto::v1 as pb;
use pb::ingest_service_client::IngestServiceClient;
use pb::query_service_client::QueryServiceClient;
use tonic_types::StatusExt;

use crate::common;

/// A valid payment, from the generator.
async fn valid(channel: tonic::transport::Channel, n: u64) -> Vec<pb::Payment> {
    let mut generator = pb::generator_service_client::GeneratorServiceClient::new(channel);
    let mut stream = generator
        .generate(pb::GenerateRequest {
            count: n,
            seed: 77,
            types: vec![],
            start_time: None,
        })
        .await
        .unwrap()
        .into_inner();
    let mut out = Vec::new();
    while let Some(p) = stream.message().await.unwrap() {
        out.push(p);
    }
    out
}

fn malformed(mut p: pb::Payment) -> pb::Payment {
    p.payment_id = "BAD-1".into();
    p.amount = Some(pb::Money {
        minor_units: -500,
        currency: "XYZ".into(),
    });
    p.originator = None;
    if let Some(account) = p.beneficiary.as_mut().and_then(|b| b.account.as_mut()) {
        account.iban = "DE89370400440532013001".into();
    }
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_payment_gets_one_violation_per_bad_field() {
    let (stack, _dir) = common::start_stack("bad-unary").await;
    let channel = common::channel(stack.grpc_addr).await;
    let base = valid(channel.clone(), 1).await.remove(0);
    let mut ingest = IngestServiceClient::new(channel);
    let status = ingest
        .submit_payment(pb::SubmitPaymentRequest {
            payment: Some(malformed(base)),
            validation_mode: 0,
        })
        .await
        .expect_err("a malformed payment must be rejected");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    let fields: Vec<String> = status
        .get_details_bad_request()
        .unwrap()
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert_eq!(
        fields,
        vec![
            "amount.minor_units",
            "amount.currency",
            "originator",
            "beneficiary.account.iban"
        ]
    );
    let missing = ingest
        .submit_payment(pb::SubmitPaymentRequest {
            payment: None,
            validation_mode: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), tonic::Code::InvalidArgument);
    stack.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn good_payments_around_bad_ones_in_a_stream_are_stored() {
    let (stack, _dir) = common::start_stack("bad-stream").await;
    let channel = common::channel(stack.grpc_addr).await;
    let good = valid(channel.clone(), 4).await;
    let mut records: Vec<pb::SubmitPaymentsRequest> = Vec::new();
    let wrap = |p: Option<pb::Payment>| pb::SubmitPaymentsRequest {
        payment: p,
        validation_mode: 0,
        payments: Vec::new(),
    };
    records.push(wrap(Some(good[0].clone())));
    records.push(wrap(Some(malformed(good[1].clone()))));
    records.push(wrap(Some(good[2].clone())));
    records.push(wrap(None));
    records.push(wrap(Some(good[3].clone())));
    let summary = IngestServiceClient::new(channel.clone())
        .submit_payments(tokio_stream::iter(records))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (summary.received, summary.accepted, summary.rejected),
        (5, 3, 2)
    );
    assert_eq!(summary.rejections[0].index, 1);
    assert_eq!(summary.rejections[0].payment_id, "BAD-1");
    assert_eq!(summary.rejections[0].violations.len(), 4);
    assert_eq!(summary.rejections[1].index, 3);
    assert_eq!(summary.rejections[1].violations[0].field, "payment");

    let mut query = QueryServiceClient::new(channel);
    for p in [&good[0], &good[2], &good[3]] {
        let mut found = None;
        for _ in 0..200 {
            match query
                .get_payment(pb::GetPaymentRequest {
                    payment_id: p.payment_id.clone(),
                })
                .await
            {
                Ok(r) => {
                    found = r.into_inner().payment;
                    break;
                }
                Err(s) if s.code() == tonic::Code::NotFound => {
                    tokio::time::sleep(std::time::Duration::from_millis(25)).await
                }
                Err(s) => panic!("{s}"),
            }
        }
        assert_eq!(
            found.as_ref(),
            Some(p),
            "good payment {} stored intact",
            p.payment_id
        );
    }
    let bad = query
        .get_payment(pb::GetPaymentRequest {
            payment_id: "BAD-1".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        bad.code(),
        tonic::Code::NotFound,
        "nothing invalid is stored"
    );
    stack.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_queries_name_their_field() {
    let (stack, _dir) = common::start_stack("bad-query").await;
    let mut query = QueryServiceClient::new(common::channel(stack.grpc_addr).await);
    let token = query
        .list_payments(pb::ListPaymentsRequest {
            filter: None,
            page_size: 10,
            page_token: "garbage".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(token.code(), tonic::Code::InvalidArgument);
    assert_eq!(
        token.get_details_bad_request().unwrap().field_violations[0].field,
        "page_token"
    );
    let filter = pb::PaymentFilter {
        payment_types: vec![99],
        ..Default::default()
    };
    let bad_type = query
        .get_stats(pb::GetStatsRequest {
            filter: Some(filter),
        })
        .await
        .unwrap_err();
    assert_eq!(
        bad_type.get_details_bad_request().unwrap().field_violations[0].field,
        "filter.payment_types[0]"
    );
    let missing = query
        .get_payment(pb::GetPaymentRequest {
            payment_id: "NOPE".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), tonic::Code::NotFound);
    let generator = pb::generator_service_client::GeneratorServiceClient::new(
        common::channel(stack.grpc_addr).await,
    )
    .generate(pb::GenerateRequest {
        count: 0,
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert_eq!(
        generator
            .get_details_bad_request()
            .unwrap()
            .field_violations[0]
            .field,
        "count"
    );
    stack.shutdown().await.unwrap();
}
