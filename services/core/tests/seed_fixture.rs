//! The seed system's fixture (90 payments) maps onto the model with its values intact.

use payments_core::pb::{self, payment::Details};
use payments_core::seed_json::{from_seed, round_trip_differences, to_seed};
use payments_core::{PaymentValidator, ValidationMode, ValidationOutcome, normalize};
use serde_json::Value;

fn fixture() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/seed-transactions.json"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {path}: {e}"));
    doc["transactions"].as_array().cloned().unwrap_or_default()
}

fn mapped() -> Vec<pb::Payment> {
    fixture()
        .iter()
        .map(|v| {
            let mut p = from_seed(v).unwrap_or_else(|e| panic!("{}: {e:?}", v["payment_id"]));
            normalize(&mut p);
            p
        })
        .collect()
}

#[test]
fn every_fixture_payment_maps() {
    assert_eq!(mapped().len(), 90);
}

#[test]
fn values_are_intact() {
    let first = &mapped()[0];
    assert_eq!(first.payment_id, "ACH-CAEF9452");
    assert_eq!(first.schema_version, "1.0");
    assert_eq!(
        first.amount,
        Some(pb::Money {
            minor_units: 90_089_806,
            currency: "USD".into()
        })
    );
    assert_eq!(
        payments_core::time::format_rfc3339(
            first.created_at.as_ref().unwrap_or(&Default::default())
        ),
        "2024-12-21T19:42:17.520914Z"
    );
    assert_eq!(first.status(), pb::PaymentStatus::Pending);
    assert_eq!(
        first.processing.as_ref().map(|p| p.current_status()),
        Some(pb::PaymentStatus::Validated)
    );
    let Some(Details::Ach(ach)) = &first.details else {
        panic!("ACH details missing")
    };
    assert_eq!(ach.sec_code, "CTX");
    assert_eq!(ach.batch_id, "BATCHB2871EDE");
    assert_eq!(ach.addenda.len(), 1);
    assert_eq!(ach.addenda[0].payment_related_info, "Invoice 808833");
}

#[test]
fn seed_type_names_map() {
    let all = mapped();
    let count = |t: pb::PaymentType| all.iter().filter(|p| p.payment_type() == t).count();
    assert_eq!(count(pb::PaymentType::Sepa), 10);
    assert_eq!(count(pb::PaymentType::Card), 10);
    assert!(all.iter().all(|p| match (&p.details, p.payment_type()) {
        (Some(Details::Card(c)), pb::PaymentType::Card) => c.pan_last4.len() == 4,
        (Some(_), _) => true,
        (None, _) => false,
    }));
}

#[test]
fn conflicting_type_specific_values_are_kept() {
    let fixture = fixture();
    let all = mapped();
    for (raw, p) in fixture.iter().zip(&all) {
        if let (Some(Details::Check(c)), Some(tsd)) = (
            &p.details,
            raw["type_specific_data"]["presentation_type"].as_str(),
        ) {
            assert_eq!(
                c.presentation_type,
                raw["presentation_type"].as_str().unwrap_or_default()
            );
            if tsd != c.presentation_type {
                let kept = p.metadata.as_ref().and_then(|m| {
                    m.attributes
                        .get("seed.type_specific_data.presentation_type")
                });
                assert_eq!(kept.map(String::as_str), Some(tsd));
            }
        }
    }
}

#[test]
fn strict_rejects_exactly_the_bad_aba_payments_and_lenient_accepts_all() {
    let strict = PaymentValidator::new(ValidationMode::Strict);
    let lenient = PaymentValidator::new(ValidationMode::Lenient);
    let mut rejected = 0;
    for p in mapped() {
        let aba_ok = [&p.originator, &p.beneficiary].iter().all(|party| {
            let value = party
                .as_ref()
                .and_then(|x| x.account.as_ref())
                .and_then(|a| a.routing_info.as_ref())
                .map(|r| r.value.as_str());
            value.is_some_and(|v| payments_core::identifiers::validate_aba(v).is_ok())
        });
        match strict.validate(&p) {
            ValidationOutcome::Accepted { .. } => {
                assert!(aba_ok, "{} accepted with a bad ABA", p.payment_id)
            }
            ValidationOutcome::Rejected { violations } => {
                rejected += 1;
                assert!(!aba_ok, "{} rejected: {violations:?}", p.payment_id);
                assert!(
                    violations
                        .iter()
                        .all(|v| v.field.ends_with("account.routing_info.value")),
                    "{violations:?}"
                );
            }
        }
        assert!(
            matches!(lenient.validate(&p), ValidationOutcome::Accepted { .. }),
            "{}",
            p.payment_id
        );
    }
    assert_eq!(rejected, 89);
}

#[test]
fn seed_json_round_trips() {
    for p in mapped() {
        let back = from_seed(&to_seed(&p)).map(|mut q| {
            normalize(&mut q);
            q
        });
        assert_eq!(back.as_ref(), Ok(&p), "{}", p.payment_id);
    }
}

#[test]
fn bad_values_name_their_field() {
    let mut raw = fixture()[0].clone();
    raw["amount"]["value"] = serde_json::json!(10.005);
    raw["created_at"] = serde_json::json!("last tuesday");
    raw["payment_type"] = serde_json::json!("BITCOIN");
    let errors = from_seed(&raw).err().unwrap_or_default();
    let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, vec!["payment_type", "amount.value", "created_at"]);
}

/// Every leaf of `value` with its path (`a.b.c`, arrays as `a[0]`), skipping nulls and
/// empty containers.
fn leaves(value: &Value, path: String, out: &mut Vec<(String, Value)>) {
    match value {
        Value::Null => {}
        Value::Object(map) => {
            for (k, v) in map {
                leaves(
                    v,
                    if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    },
                    out,
                );
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                leaves(v, format!("{path}[{i}]"), out);
            }
        }
        leaf => out.push((path, leaf.clone())),
    }
}

#[test]
fn every_seed_value_survives_into_our_seed_json() {
    for raw in fixture() {
        let payment = from_seed(&raw).unwrap_or_else(|e| panic!("{e:?}"));
        let mut back = Vec::new();
        leaves(&to_seed(&payment), String::new(), &mut back);
        let back: std::collections::HashMap<String, Value> = back.into_iter().collect();
        let mut original = Vec::new();
        leaves(&raw, String::new(), &mut original);
        for (path, value) in original {
            // The seed writes one addenda record as an object; we write the list.
            let candidates = [path.clone(), path.replacen("addenda.", "addenda[0].", 1)];
            let found = candidates.iter().find_map(|p| back.get(p));
            let same = match (found, &value) {
                (Some(Value::Number(a)), Value::Number(b)) => a.as_f64() == b.as_f64(),
                (Some(a), b) => a == b,
                (None, _) => false,
            };
            assert!(
                same,
                "{}: {path} = {value} became {found:?}",
                raw["payment_id"]
            );
        }
    }
}

/// An RTP in the shape of the seed's newest generator (`transaction_generator.py` at HEAD):
/// the customer dictionaries as parties, `processing_window: "REAL_TIME"`, and
/// `confirmation {required, window_minutes}` and `timing {submission_time,
/// expected_settlement_time}` at the top level.
fn newest_generator_rtp() -> Value {
    let party = |id: &str, name: &str| {
        serde_json::json!({
            "party_id": id,
            "name": name,
            "party_type": "CORPORATE",
            "account_info": {
                "account_id": "ACC4410239981",
                "account_type": "CHECKING",
                "routing_info": {"type": "ABA", "value": "021000021"}
            },
            "contact_info": {
                "address": {"street": "1 Main St", "city": "Springfield", "state": "Ohio",
                            "postal_code": "45501", "country": "US"},
                "electronic": {"email": "ap@example.com", "phone": "555-0100"}
            }
        })
    };
    serde_json::json!({
        "payment_id": "RTP-5A1B2C3D",
        "payment_type": "RTP",
        "version": "1.0",
        "created_at": "2025-01-06T10:00:00.123456",
        "updated_at": "2025-01-06T10:00:00.123456",
        "status": "RECEIVED",
        "amount": {"value": 1234.56, "currency": "USD"},
        "originator": party("CUST1A2B3C4D", "Acme Corp"),
        "beneficiary": party("CUST5E6F7A8B", "Globex LLC"),
        "processing": {
            "priority": "HIGH",
            "processing_window": "REAL_TIME",
            "submission_date": "2025-01-06T10:00:00.123456",
            "effective_date": "2025-01-06T10:00:00.123456",
            "settlement_date": "2025-01-06T10:00:03.123456",
            "status_tracking": {}
        },
        "references": {}, "remittance_info": {}, "type_specific_data": {},
        "regulatory": {}, "metadata": {},
        "clearing_system": "TCH-RTP",
        "settlement_method": "REAL_TIME_GROSS_SETTLEMENT",
        "confirmation": {"required": true, "window_minutes": 1},
        "timing": {
            "submission_time": "2025-01-06T10:00:00.123456",
            "expected_settlement_time": "2025-01-06T10:00:03.123456"
        }
    })
}

#[test]
fn the_newest_generators_rtp_is_read_with_its_real_time_fields() {
    let doc = newest_generator_rtp();
    let payment = payments_core::seed_json::from_any_json(&doc)
        .unwrap_or_else(|e| panic!("the newest generator's RTP was refused: {e}"));
    assert_eq!(
        payment.processing.as_ref().map(|p| p.processing_window()),
        Some(pb::ProcessingWindow::RealTime)
    );
    let Some(pb::payment::Details::Rtp(rtp)) = &payment.details else {
        panic!("no RTP details: {payment:?}");
    };
    assert_eq!(rtp.clearing_system, "TCH-RTP");
    assert!(rtp.confirmation_required);
    assert_eq!(rtp.confirmation_window_minutes, 1);
    assert!(rtp.submission_timestamp.is_some());
    assert!(rtp.expected_settlement_timestamp.is_some());
    // Valid in strict mode, and the same again after our seed JSON.
    assert!(matches!(
        PaymentValidator::new(ValidationMode::Strict).validate(&payment),
        ValidationOutcome::Accepted { .. }
    ));
    let again =
        payments_core::seed_json::from_any_json(&payments_core::seed_json::to_seed(&payment))
            .unwrap_or_else(|e| panic!("our seed JSON of it: {e}"));
    assert_eq!(again, payment);
}

#[test]
fn every_fixture_document_comes_back_equal_with_the_members_we_do_not_model() {
    for raw in fixture() {
        let payment = from_seed(&raw).unwrap_or_else(|e| panic!("{e:?}"));
        let back = to_seed(&payment);
        assert_eq!(
            round_trip_differences(&raw, &back),
            Vec::<String>::new(),
            "{}",
            raw["payment_id"]
        );
    }
    // The model holds every member the seed's first commit wrote: nothing is left over.
    for raw in fixture() {
        let payment = from_seed(&raw).unwrap_or_default();
        assert!(
            payment.unmodeled.is_empty(),
            "{}: {:?}",
            raw["payment_id"],
            payment.unmodeled
        );
    }
}

#[test]
fn a_producers_own_members_are_kept_and_written_back_where_they_were() {
    let mut doc = newest_generator_rtp();
    doc["generated_at"] = serde_json::json!("2025-01-06T10:00:00.126000");
    doc["timing"]["queue"] = serde_json::json!({"name": "rtp-in", "depth": [1, 2]});
    doc["originator"]["contact_info"]["electronic"]["fax"] = serde_json::json!(null);
    let payment = from_seed(&doc).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        payment.unmodeled.get("/generated_at").map(String::as_str),
        Some("\"2025-01-06T10:00:00.126000\"")
    );
    let queue: Option<Value> = payment
        .unmodeled
        .get("/timing/queue")
        .and_then(|text| serde_json::from_str(text).ok());
    assert_eq!(queue.as_ref(), Some(&doc["timing"]["queue"]));
    let back = to_seed(&payment);
    assert_eq!(round_trip_differences(&doc, &back), Vec::<String>::new());
    assert_eq!(back["generated_at"], doc["generated_at"]);
    assert_eq!(back["timing"]["queue"], doc["timing"]["queue"]);
}
