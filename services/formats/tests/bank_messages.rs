//! The bank messages of a lifecycle run, read back and linked: every NACHA return names an
//! entry of the original NACHA file (trace number, receiving DFI, amount), every pacs.002
//! status and pacs.004 return names a transaction of the original pacs.008 message, and
//! every camt.053 statement's balances add up, day after day, with each settled payment
//! booked on both accounts.

// Test helpers panic on failure, as assertions do.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use payments_core::pb::{self, PaymentStatus as S};
use payments_formats::{Format, opening_balance, write};
use payments_generator::lifecycle::ACH_RETURN_CATEGORIES;
use payments_generator::{GeneratorConfig, LifecycleRates, LifecycleStream, PaymentGenerator};
use quick_xml::events::Event;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Every revision of a run with many returns and failures, and each payment's last one.
fn lifecycle() -> (Vec<pb::Payment>, HashMap<String, pb::Payment>) {
    let generator = PaymentGenerator::new(GeneratorConfig {
        seed: 31,
        ..Default::default()
    });
    let rates = LifecycleRates {
        ach_return: 0.12,
        sepa_return: 0.2,
        wire_failure: 0.1,
        ..Default::default()
    };
    let revisions: Vec<pb::Payment> = LifecycleStream::new(generator, rates, 0..40_000).collect();
    let mut last: HashMap<String, pb::Payment> = HashMap::new();
    for p in &revisions {
        last.insert(p.payment_id.clone(), p.clone());
    }
    (revisions, last)
}

fn render(format: Format, payments: &[pb::Payment]) -> String {
    let mut out = Vec::new();
    write(format, payments, &mut out).expect("writing");
    String::from_utf8(out).expect("utf-8")
}

/// A parsed XML element: name, text, children.
#[derive(Debug, Default)]
struct Node {
    name: String,
    attributes: HashMap<String, String>,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn parse(xml: &str) -> Node {
        let mut reader = quick_xml::Reader::from_str(xml);
        let mut stack = vec![Node::default()];
        loop {
            match reader.read_event().expect("well-formed XML") {
                Event::Start(e) => {
                    let attributes = e
                        .attributes()
                        .map(|a| {
                            let a = a.expect("attribute");
                            (
                                String::from_utf8_lossy(a.key.as_ref()).into_owned(),
                                a.unescape_value().expect("value").into_owned(),
                            )
                        })
                        .collect();
                    stack.push(Node {
                        name: String::from_utf8_lossy(e.name().as_ref()).into_owned(),
                        attributes,
                        ..Default::default()
                    });
                }
                Event::Text(t) => {
                    if let Some(top) = stack.last_mut() {
                        top.text.push_str(&t.decode().expect("text"));
                    }
                }
                Event::GeneralRef(r) => {
                    let entity = match r.decode().expect("entity").as_ref() {
                        "amp" => "&",
                        "lt" => "<",
                        "gt" => ">",
                        "quot" => "\"",
                        "apos" => "'",
                        other => panic!("unexpected entity &{other};"),
                    };
                    if let Some(top) = stack.last_mut() {
                        top.text.push_str(entity);
                    }
                }
                Event::End(_) => {
                    let done = stack.pop().expect("open element");
                    stack.last_mut().expect("parent").children.push(done);
                }
                Event::Eof => break,
                _ => {}
            }
        }
        stack.pop().expect("root")
    }

    fn child(&self, name: &str) -> &Node {
        self.children
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("<{}> has no <{name}>", self.name))
    }

    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text at a path of child names.
    fn at(&self, path: &[&str]) -> &str {
        path.iter().fold(self, |n, p| n.child(p)).text.as_str()
    }
}

/// Minor units of a decimal amount with `currency`'s exponent.
fn minor(text: &str, currency: &str) -> i64 {
    let exponent = payments_core::money::minor_unit_exponent(currency).unwrap_or(2);
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let mut digits = whole.to_owned();
    digits.push_str(&format!("{fraction:0<width$}", width = exponent as usize));
    digits.parse().expect("amount")
}

fn field(line: &str, from: usize, to: usize) -> &str {
    &line[from - 1..to]
}

#[test]
fn every_nacha_return_names_its_original_entry() {
    let (revisions, last) = lifecycle();
    let original = render(Format::Nacha, &revisions);
    let returns = render(Format::NachaReturns, &revisions);
    // The original file's entries by trace number: RDFI, amount, account, individual id.
    let mut entries: HashMap<&str, (&str, &str, &str, &str)> = HashMap::new();
    for line in original.lines().filter(|l| l.starts_with('6')) {
        entries.insert(
            field(line, 80, 94),
            (
                field(line, 4, 11),
                field(line, 30, 39),
                field(line, 13, 29),
                field(line, 40, 54),
            ),
        );
    }
    let lines: Vec<&str> = returns.lines().collect();
    assert!(lines.iter().all(|l| l.len() == 94) && lines.len().is_multiple_of(10));
    let mut returned_ids: HashSet<String> = HashSet::new();
    let (mut entry_count, mut credit_total) = (0u64, 0u64);
    for (i, line) in lines.iter().enumerate() {
        if !line.starts_with('6') {
            continue;
        }
        let addenda = lines[i + 1];
        assert_eq!(field(addenda, 1, 3), "799", "a return carries addenda 99");
        assert_eq!(field(line, 79, 79), "1", "addenda indicator");
        let original_trace = field(addenda, 7, 21);
        let (rdfi, amount, account, id) = entries
            .get(original_trace)
            .unwrap_or_else(|| panic!("return names trace {original_trace}, not in the file"));
        assert_eq!(field(addenda, 28, 35), *rdfi, "original receiving DFI");
        assert_eq!(field(addenda, 80, 94), field(line, 80, 94), "addenda trace");
        assert_eq!(field(line, 30, 39), *amount, "the amount returned");
        assert_eq!(field(line, 13, 29), *account, "the receiver's account");
        assert_eq!(field(line, 40, 54), *id, "individual id");
        assert_eq!(field(line, 4, 11), &original_trace[..8], "back to the ODFI");
        assert!(["21", "31"].contains(&field(line, 2, 3)));
        let code = field(addenda, 4, 6);
        assert!(
            ACH_RETURN_CATEGORIES
                .iter()
                .any(|c| c.codes.contains(&code)),
            "{code}"
        );
        returned_ids.insert(id.trim().to_owned());
        entry_count += 2;
        credit_total += field(line, 30, 39).parse::<u64>().unwrap();
    }
    let expected: HashSet<String> = last
        .values()
        .filter(|p| p.payment_type() == pb::PaymentType::Ach && p.status() == S::Returned)
        .map(|p| p.payment_id[p.payment_id.len() - 15..].to_owned())
        .collect();
    assert!(expected.len() >= 100, "enough returns: {}", expected.len());
    assert_eq!(
        returned_ids, expected,
        "every returned ACH payment, and only those"
    );
    let control = lines
        .iter()
        .find(|l| l.starts_with('9') && !l.starts_with("999"))
        .unwrap();
    assert_eq!(field(control, 14, 21).parse::<u64>().unwrap(), entry_count);
    assert_eq!(field(control, 44, 55).parse::<u64>().unwrap(), credit_total);
}

#[test]
fn every_pacs002_status_and_pacs004_return_names_its_pacs008_transaction() {
    let (revisions, last) = lifecycle();
    let pacs008 = Node::parse(&render(Format::Pacs008, &revisions));
    let transfer = pacs008.child("Document").child("FIToFICstmrCdtTrf");
    let message_id = transfer.at(&["GrpHdr", "MsgId"]).to_owned();
    // TxId → (InstrId, EndToEndId, amount text, currency)
    let mut originals: HashMap<String, (String, String, String, String)> = HashMap::new();
    for tx in transfer.all("CdtTrfTxInf") {
        let amount = tx.child("IntrBkSttlmAmt");
        originals.insert(
            tx.at(&["PmtId", "TxId"]).to_owned(),
            (
                tx.at(&["PmtId", "InstrId"]).to_owned(),
                tx.at(&["PmtId", "EndToEndId"]).to_owned(),
                amount.text.clone(),
                amount.attributes["Ccy"].clone(),
            ),
        );
    }
    let report = Node::parse(&render(Format::Pacs002, &revisions));
    let report = report.child("Document").child("FIToFIPmtStsRpt");
    assert_eq!(report.at(&["OrgnlGrpInfAndSts", "OrgnlMsgId"]), message_id);
    assert_eq!(
        report.at(&["OrgnlGrpInfAndSts", "OrgnlMsgNmId"]),
        "pacs.008.001.08"
    );
    let mut reported = 0;
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    for tx in report.all("TxInfAndSts") {
        let id = tx.at(&["OrgnlTxId"]);
        let (instruction, e2e, _, _) = originals
            .get(id)
            .unwrap_or_else(|| panic!("status for {id}, not in the pacs.008"));
        assert_eq!(tx.at(&["OrgnlInstrId"]), instruction);
        assert_eq!(tx.at(&["OrgnlEndToEndId"]), e2e);
        let status = tx.at(&["TxSts"]);
        let expected = match last[id].status() {
            S::Completed | S::Returned => "ACSC",
            S::Rejected | S::Failed => "RJCT",
            _ => "PDNG",
        };
        assert_eq!(status, expected, "{id}");
        if status == "RJCT" {
            assert_eq!(
                tx.at(&["StsRsnInf", "Rsn", "Cd"]).len(),
                4,
                "{id}: reason code"
            );
        }
        *statuses.entry(status.to_owned()).or_default() += 1;
        reported += 1;
    }
    assert_eq!(reported, originals.len(), "a status for every transaction");
    assert!(
        statuses.get("RJCT").copied().unwrap_or(0) > 10,
        "{statuses:?}"
    );

    let returns = Node::parse(&render(Format::Pacs004, &revisions));
    let returns = returns.child("Document").child("PmtRtr");
    let mut returned = HashSet::new();
    for tx in returns.all("TxInf") {
        let id = tx.at(&["OrgnlTxId"]);
        let (instruction, e2e, amount, currency) = originals
            .get(id)
            .unwrap_or_else(|| panic!("return of {id}, not in the pacs.008"));
        assert_eq!(tx.at(&["OrgnlGrpInf", "OrgnlMsgId"]), message_id);
        assert_eq!(tx.at(&["OrgnlInstrId"]), instruction);
        assert_eq!(tx.at(&["OrgnlEndToEndId"]), e2e);
        let back = tx.child("RtrdIntrBkSttlmAmt");
        assert_eq!(
            (&back.text, &back.attributes["Ccy"]),
            (amount, currency),
            "{id}"
        );
        assert_eq!(tx.at(&["RtrRsnInf", "Rsn", "Cd"]).len(), 4);
        returned.insert(id.to_owned());
    }
    let expected: HashSet<String> = originals
        .keys()
        .filter(|id| last[*id].status() == S::Returned)
        .cloned()
        .collect();
    assert!(expected.len() >= 20, "enough returns: {}", expected.len());
    assert_eq!(returned, expected);
    assert_eq!(
        returns.at(&["GrpHdr", "NbOfTxs"]),
        expected.len().to_string()
    );
}

#[test]
fn camt053_balances_add_up_day_after_day_and_book_every_settled_payment_twice() {
    let (revisions, last) = lifecycle();
    let statements = Node::parse(&render(Format::Camt053, &revisions));
    let statements = statements.child("Document").child("BkToCstmrStmt");
    let mut closing_of: HashMap<(String, String), (String, i64)> = HashMap::new();
    let mut bookings: HashMap<String, usize> = HashMap::new();
    let mut count = 0;
    let signed = |node: &Node, currency: &str| {
        let amount = minor(&node.child("Amt").text, currency);
        if node.at(&["CdtDbtInd"]) == "DBIT" {
            -amount
        } else {
            amount
        }
    };
    for stmt in statements.all("Stmt") {
        count += 1;
        let acct = stmt.child("Acct");
        let id = acct
            .child("Id")
            .children
            .first()
            .map(|c| {
                if c.name == "IBAN" {
                    c.text.clone()
                } else {
                    c.at(&["Id"]).to_owned()
                }
            })
            .unwrap();
        let currency = acct.at(&["Ccy"]).to_owned();
        let balance = |code: &str| {
            stmt.all("Bal")
                .find(|b| b.at(&["Tp", "CdOrPrtry", "Cd"]) == code)
                .map(|b| (signed(b, &currency), b.at(&["Dt", "Dt"]).to_owned()))
                .unwrap_or_else(|| panic!("no {code} balance"))
        };
        let (opening, day) = balance("OPBD");
        let (closing, _) = balance("CLBD");
        let moved: i64 = stmt.all("Ntry").map(|e| signed(e, &currency)).sum();
        assert_eq!(opening + moved, closing, "{id} {currency} on {day}");
        let key = (id.clone(), currency.clone());
        match closing_of.get(&key) {
            Some((previous_day, previous)) => {
                assert!(*previous_day < day, "{id}: statements in date order");
                assert_eq!(opening, *previous, "{id} opens {day} where it closed");
            }
            None => assert_eq!(opening, opening_balance(&id), "{id}: first opening"),
        }
        closing_of.insert(key, (day, closing));
        for entry in stmt.all("Ntry") {
            let tx = entry.at(&["NtryDtls", "TxDtls", "Refs", "TxId"]).to_owned();
            *bookings.entry(tx).or_default() += 1;
        }
    }
    assert!(count > 1_000, "{count} statements");
    for (id, p) in &last {
        let expected = match p.status() {
            S::Completed => 2,
            S::Returned => 4,
            _ => 0,
        };
        assert_eq!(
            bookings.get(id).copied().unwrap_or(0),
            expected,
            "{id} {:?}",
            p.status()
        );
    }
}

#[test]
fn a_run_with_nothing_settled_has_no_statement_to_write_and_says_so() {
    let mut out = Vec::new();
    let mut pending = payments_core::sample::ach_payment("ACH-1", 0);
    pending.status = S::Pending as i32;
    let err = write(Format::Camt053, &[pending], &mut out)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("camt.053 needs at least one booking"), "{err}");
}
