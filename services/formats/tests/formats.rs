//! Each format checked by an independent reader over generated payments.

// Test helpers panic on failure, as assertions do.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use payments_core::pb;
use payments_formats::{Format, write};
use payments_generator::{GeneratorConfig, PaymentGenerator};
use quick_xml::events::Event;
use std::collections::HashMap;

fn generate(types: Vec<pb::PaymentType>, n: u64) -> Vec<pb::Payment> {
    let generator = PaymentGenerator::new(GeneratorConfig {
        seed: 99,
        types,
        ..Default::default()
    });
    (0..n).map(|i| generator.payment(i)).collect()
}

fn render(format: Format, payments: &[pb::Payment]) -> (String, payments_formats::Written) {
    let mut out = Vec::new();
    let written = write(format, payments, &mut out).expect("writing");
    (String::from_utf8(out).expect("utf-8"), written)
}

fn field(line: &str, from: usize, to: usize) -> &str {
    &line[from - 1..to]
}

fn number(line: &str, from: usize, to: usize) -> u64 {
    field(line, from, to)
        .parse()
        .unwrap_or_else(|_| panic!("{from}-{to} not numeric in {line}"))
}

#[test]
fn nacha_controls_add_up_and_every_record_is_94_characters() {
    let payments = generate(vec![], 3_000);
    let ach: Vec<_> = payments
        .iter()
        .filter(|p| p.payment_type() == pb::PaymentType::Ach)
        .collect();
    let (text, written) = render(Format::Nacha, &payments);
    assert_eq!(written.written as usize, ach.len());
    assert_eq!(written.skipped as usize, payments.len() - ach.len());
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines.iter().all(|l| l.len() == 94),
        "a record is not 94 characters"
    );
    assert_eq!(lines.len() % 10, 0, "records come in blocks of ten");
    assert!(lines[0].starts_with("101 "));

    let amounts: HashMap<String, u64> = ach
        .iter()
        .map(|p| {
            let id: String = p
                .payment_id
                .chars()
                .rev()
                .take(15)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            (id, p.amount.as_ref().map_or(0, |a| a.minor_units as u64))
        })
        .collect();
    let (mut batches, mut entries, mut file_count, mut file_hash, mut file_credit) =
        (0, 0, 0u64, 0u64, 0u64);
    let (mut count, mut hash, mut credit) = (0u64, 0u64, 0u64);
    let mut file_control = None;
    let mut traces = std::collections::HashSet::new();
    for line in &lines {
        match &line[..1] {
            "5" => {
                batches += 1;
                (count, hash, credit) = (0, 0, 0);
            }
            "6" => {
                assert!(
                    traces.insert(field(line, 80, 94).to_owned()),
                    "trace numbers are unique: {line}"
                );
                entries += 1;
                count += 1;
                hash += number(line, 4, 11);
                let amount = number(line, 30, 39);
                credit += amount;
                let id = field(line, 40, 54).trim();
                assert_eq!(
                    amounts.get(id),
                    Some(&amount),
                    "entry {id} amount matches its payment"
                );
            }
            "7" => count += 1,
            "8" => {
                assert_eq!(number(line, 5, 10), count, "batch entry/addenda count");
                assert_eq!(
                    number(line, 11, 20),
                    hash % 10_000_000_000,
                    "batch entry hash"
                );
                assert_eq!(number(line, 21, 32), 0, "no debits");
                assert_eq!(number(line, 33, 44), credit, "batch credit total");
                file_count += count;
                file_hash += hash;
                file_credit += credit;
            }
            "9" if file_control.is_none() => file_control = Some(*line),
            "9" => assert_eq!(*line, "9".repeat(94), "padding records are all nines"),
            "1" => {}
            other => panic!("unexpected record type {other}"),
        }
    }
    assert_eq!(entries, ach.len());
    let control = file_control.expect("file control record");
    assert_eq!(number(control, 2, 7), batches);
    assert_eq!(
        number(control, 8, 13) as usize,
        lines.len() / 10,
        "block count"
    );
    assert_eq!(number(control, 14, 21), file_count);
    assert_eq!(number(control, 22, 31), file_hash % 10_000_000_000);
    assert_eq!(number(control, 44, 55), file_credit);
    let expected: u64 = amounts.values().sum();
    assert_eq!(
        file_credit, expected,
        "file credit total equals the payments' total"
    );
}

#[test]
fn pacs008_is_well_formed_with_group_header_agents_and_amounts() {
    let payments = generate(vec![pb::PaymentType::Wire, pb::PaymentType::Sepa], 500);
    let (xml, written) = render(Format::Pacs008, &payments);
    assert_eq!(written.written, 500);
    let by_id: HashMap<&str, &pb::Payment> = payments
        .iter()
        .map(|p| (p.payment_id.as_str(), p))
        .collect();

    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut path: Vec<String> = Vec::new();
    let mut header: HashMap<String, String> = HashMap::new();
    let (mut transactions, mut tx_id, mut amount, mut currency) =
        (0usize, String::new(), String::new(), String::new());
    let mut agents_with_bic = 0usize;
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                if name == "IntrBkSttlmAmt" {
                    currency = e
                        .attributes()
                        .flatten()
                        .find(|a| a.key.as_ref() == b"Ccy")
                        .map(|a| String::from_utf8_lossy(&a.value).into_owned())
                        .unwrap_or_default();
                }
                path.push(name);
            }
            Event::End(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                assert_eq!(path.pop().as_deref(), Some(name.as_str()), "tags nest");
                if name == "CdtTrfTxInf" {
                    transactions += 1;
                    let p = by_id
                        .get(tx_id.as_str())
                        .unwrap_or_else(|| panic!("unknown TxId {tx_id}"));
                    let money = p.amount.as_ref().expect("amount");
                    assert_eq!(currency, money.currency);
                    assert_eq!(
                        amount,
                        payments_core::money::format_minor_units(
                            money.minor_units,
                            &money.currency
                        )
                    );
                }
            }
            Event::Text(t) => {
                let text = t.decode().expect("text").into_owned();
                let joined = path.join("/");
                if joined.starts_with("Document/FIToFICstmrCdtTrf/GrpHdr/") {
                    header.insert(
                        joined.rsplit('/').next().unwrap_or_default().to_owned(),
                        text.clone(),
                    );
                }
                if joined.ends_with("PmtId/TxId") {
                    tx_id = text.clone();
                }
                if joined.ends_with("CdtTrfTxInf/IntrBkSttlmAmt") {
                    amount = text.clone();
                }
                if (joined.ends_with("DbtrAgt/FinInstnId/BICFI")
                    || joined.ends_with("CdtrAgt/FinInstnId/BICFI"))
                    && payments_core::identifiers::validate_bic(&text).is_ok()
                {
                    agents_with_bic += 1;
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(path.is_empty(), "every tag closed");
    assert_eq!(transactions, 500);
    assert_eq!(header.get("NbOfTxs").map(String::as_str), Some("500"));
    for required in ["MsgId", "CreDtTm", "SttlmMtd"] {
        assert!(
            header.contains_key(required),
            "group header lacks {required}"
        );
    }
    assert_eq!(
        agents_with_bic, 1000,
        "every debtor and creditor agent has a valid BIC"
    );
}

#[test]
fn csv_has_the_seed_columns_and_one_row_per_payment() {
    let payments = generate(vec![], 200);
    let (csv, _) = render(Format::Csv, &payments);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "payment_id,payment_type,amount_value,amount_currency,originator_id,originator_name,beneficiary_id,beneficiary_name,created_at,status,revision,updated_at"
        )
    );
    assert_eq!(lines.count(), 200);
}

#[test]
fn unknown_format_names_the_known_ones() {
    let err = Format::parse("swift-mt940")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert_eq!(
        err,
        "unknown format \"swift-mt940\"; known formats: jsonl, seed-json, csv, nacha, pacs008, nacha-returns, pacs002, pacs004, camt053"
    );
    assert_eq!(Format::parse("NACHA").ok(), Some(Format::Nacha));
}

#[test]
fn pacs008_without_wires_or_sepa_is_an_error_not_an_invalid_document() {
    let ach = generate(vec![pb::PaymentType::Ach], 20);
    let mut out = Vec::new();
    let err = write(Format::Pacs008, &ach, &mut out)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("needs at least one wire or SEPA credit transfer"),
        "{err}"
    );
}

#[test]
fn file_formats_hold_each_payment_once_at_its_latest_revision() {
    let mut v1 = payments_core::sample::ach_payment("P-1", 0);
    let mut v2 = v1.clone();
    v2.revision = 2;
    v2.status = pb::PaymentStatus::Completed as i32;
    v1.revision = 1;
    let (text, written) = render(Format::Nacha, &[v1, v2]);
    assert_eq!(written.written, 1);
    assert_eq!(text.lines().filter(|l| l.starts_with('6')).count(), 1);
}

#[test]
fn seed_json_written_directly_is_the_document_tree() {
    use payments_core::seed_json::{from_seed, to_seed, write_seed_json};
    use payments_generator::{LifecycleRates, LifecycleStream};
    // Every rail, every lifecycle revision (statuses, histories, returns), scenarios on.
    let generator = PaymentGenerator::new(GeneratorConfig {
        seed: 7,
        scenario_rate: 0.2,
        ..Default::default()
    });
    let mut payments: Vec<pb::Payment> =
        LifecycleStream::new(generator, LifecycleRates::default(), 0..3_000).collect();
    let generated = payments.len();
    // The seed's fixture (kept type_specific_data values: written through the tree).
    let fixture: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/seed-transactions.json"
        ))
        .expect("the fixture"),
    )
    .expect("JSON");
    for t in fixture["transactions"].as_array().expect("transactions") {
        payments.push(from_seed(t).expect("a seed payment"));
    }
    // Odd corners: nothing set, a check named twice, warnings, metadata attributes.
    let mut odd = payments[0].clone();
    odd.regulatory = Some(pb::Regulatory {
        compliance_checks: vec![
            pb::ComplianceCheck {
                name: "aml".into(),
                status: "PENDING".into(),
            },
            pb::ComplianceCheck {
                name: "ofac".into(),
                status: "CLEARED".into(),
            },
            pb::ComplianceCheck {
                name: "aml".into(),
                status: "CLEARED".into(),
            },
        ],
        reporting: None,
    });
    odd.warnings = vec![pb::ValidationWarning {
        field: "a\"b".into(),
        description: "é\u{1}".into(),
    }];
    odd.metadata = Some(pb::Metadata {
        source_system: "s".into(),
        business_unit: "b".into(),
        attributes: [
            ("z".to_owned(), "1".to_owned()),
            ("a".to_owned(), "x".to_owned()),
        ]
        .into(),
    });
    payments.push(odd);
    payments.push(pb::Payment::default());
    let rails: std::collections::HashSet<i32> = payments.iter().map(|p| p.payment_type).collect();
    assert!(rails.len() >= 10, "{rails:?}");
    for (i, payment) in payments.iter().enumerate() {
        let mut direct = Vec::new();
        write_seed_json(payment, &mut direct);
        let read: serde_json::Value = serde_json::from_slice(&direct).expect("JSON");
        assert_eq!(
            read,
            to_seed(payment),
            "{}",
            String::from_utf8_lossy(&direct)
        );
        // Written directly, members come in the seed's order, whatever this build's
        // serde_json does with a tree's.
        if i < generated {
            assert!(direct.starts_with(br#"{"payment_id":"#));
        }
    }
}

#[test]
fn a_run_of_encoded_records_is_written_as_its_records_one_by_one() {
    use payments_formats::{PaymentWriter, encode_record};
    let payments = generate(vec![], 300);
    for format in [Format::Jsonl, Format::SeedJson, Format::Csv] {
        let mut records = Vec::new();
        let mut ends = Vec::new();
        for payment in &payments {
            encode_record(format, payment, &mut records).expect("encoding");
            ends.push(records.len());
        }
        let mut by_run = Vec::new();
        let mut writer = PaymentWriter::new(format, &mut by_run).expect("writer");
        // Two runs, the second empty, then a third: where a run starts must not matter.
        writer
            .push_encoded_run(&records[..ends[99]], &ends[..100])
            .expect("first run");
        writer.push_encoded_run(&[], &[]).expect("empty run");
        let rest: Vec<usize> = ends[100..].iter().map(|end| end - ends[99]).collect();
        writer
            .push_encoded_run(&records[ends[99]..], &rest)
            .expect("second run");
        assert_eq!(writer.finish().expect("finishing").written, 300);
        let (one_by_one, _) = render(format, &payments);
        assert_eq!(
            String::from_utf8(by_run).expect("utf-8"),
            one_by_one,
            "{format:?}"
        );
    }
}

#[test]
fn generated_payments_are_written_as_serde_json_writes_them() {
    use payments_generator::lifecycle::{LifecycleRates, LifecycleStream};
    let generator = PaymentGenerator::new(GeneratorConfig {
        seed: 31,
        scenario_rate: 0.05,
        ..Default::default()
    });
    let revisions = LifecycleStream::new(generator, LifecycleRates::default(), 0..20_000);
    for (i, payment) in revisions.enumerate() {
        let mut ours = Vec::new();
        payments_formats::write_compact_json(&payment, &mut ours).expect("writes");
        let theirs = serde_json::to_vec(&payment).expect("serde_json writes");
        assert!(ours == theirs, "revision {i}");
    }
}
