//! ISO 20022 `camt.053.001.08` (bank to customer statement): an end-of-day statement per
//! account, currency and day with bookings. A payment that completed is booked on its
//! settlement date, debited to the originator's account (the instructed amount, for a
//! cross-currency wire) and credited to the beneficiary's; a returned payment is booked,
//! then reversed on the day of its return. Each statement's opening balance is the previous
//! one's closing balance (the first a fixed balance drawn from the account's id), and its
//! closing balance is the opening plus credits minus debits. Entries carry the payment's
//! end-to-end and transaction ids.

use crate::iso20022::{latest_update, open_document};
use crate::pacs008::{account, tag};
use chrono::NaiveDate;
use payments_core::money::format_minor_units;
use payments_core::pb::{self, PaymentStatus as S};
use payments_core::time::from_timestamp;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

/// The XML namespace.
pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08";

/// One booking on an account: signed amount (credit positive), value date, payment ids.
struct Booking<'a> {
    minor_units: i64,
    payment: &'a pb::Payment,
    reversal: bool,
}

/// An account's statements: its identification, then bookings by day.
struct Ledger<'a> {
    account: &'a pb::Account,
    days: BTreeMap<NaiveDate, Vec<Booking<'a>>>,
}

fn account_key(a: &pb::Account) -> String {
    if a.iban.is_empty() {
        a.account_id.clone()
    } else {
        a.iban.clone()
    }
}

/// The balance an account's first statement opens with: 10,000.00 to 1,000,000.00, fixed
/// by its id.
pub fn opening_balance(key: &str) -> i64 {
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    1_000_000 + (hash % 99_000_000) as i64
}

/// Adds `booking` to `acct`'s ledger in `currency` on day `on`.
fn book<'a>(
    ledgers: &mut BTreeMap<(String, String), Ledger<'a>>,
    acct: Option<&'a pb::Account>,
    currency: &str,
    on: NaiveDate,
    booking: Booking<'a>,
) {
    let Some(acct) = acct else { return };
    ledgers
        .entry((account_key(acct), currency.to_owned()))
        .or_insert_with(|| Ledger {
            account: acct,
            days: BTreeMap::new(),
        })
        .days
        .entry(on)
        .or_default()
        .push(booking);
}

fn balance(xml: &mut String, code: &str, minor_units: i64, currency: &str, on: NaiveDate) {
    let _ = write!(
        xml,
        "<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy=\"{currency}\">{}</Amt><CdtDbtInd>{}</CdtDbtInd><Dt><Dt>{on}</Dt></Dt></Bal>",
        format_minor_units(minor_units.abs(), currency),
        if minor_units < 0 { "DBIT" } else { "CRDT" }
    );
}

/// Writes the statements of the bookings of `payments` (at their latest revision); says
/// how many statements.
pub fn write(payments: &[&pb::Payment], out: &mut dyn Write) -> Result<usize, crate::FormatError> {
    let mut ledgers: BTreeMap<(String, String), Ledger<'_>> = BTreeMap::new();
    for &p in payments {
        if !matches!(p.status(), S::Completed | S::Returned) {
            continue;
        }
        let settled = p
            .processing
            .as_ref()
            .and_then(|x| x.settlement_date.as_ref())
            .or(p.created_at.as_ref())
            .and_then(from_timestamp)
            .map(|t| t.date_naive());
        let (Some(credited), Some(settled)) = (p.amount.as_ref(), settled) else {
            continue;
        };
        let debited = p
            .exchange_info
            .as_ref()
            .and_then(|fx| fx.source_amount.as_ref())
            .unwrap_or(credited);
        let debtor = p.originator.as_ref().and_then(|x| x.account.as_ref());
        let creditor = p.beneficiary.as_ref().and_then(|x| x.account.as_ref());
        let entries = |reversal: bool| {
            let sign = if reversal { -1 } else { 1 };
            [(debtor, debited, -sign), (creditor, credited, sign)]
        };
        for (acct, money, sign) in entries(false) {
            book(
                &mut ledgers,
                acct,
                &money.currency,
                settled,
                Booking {
                    minor_units: sign * money.minor_units,
                    payment: p,
                    reversal: false,
                },
            );
        }
        if p.status() == S::Returned {
            let returned = p
                .updated_at
                .as_ref()
                .and_then(from_timestamp)
                .map_or(settled, |t| t.date_naive())
                .max(settled);
            for (acct, money, sign) in entries(true) {
                book(
                    &mut ledgers,
                    acct,
                    &money.currency,
                    returned,
                    Booking {
                        minor_units: sign * money.minor_units,
                        payment: p,
                        reversal: true,
                    },
                );
            }
        }
    }
    let statements: usize = ledgers.values().map(|l| l.days.len()).sum();
    if statements == 0 {
        // The schema wants at least one statement; there is nothing to state.
        return Err(crate::FormatError::Unrepresentable {
            payment_id: String::new(),
            reason: "camt.053 needs at least one booking, and no payment of the run settled"
                .to_owned(),
        });
    }
    let mut xml = open_document(NAMESPACE, "BkToCstmrStmt", statements * 1200);
    let created = latest_update(payments.iter().copied());
    tag(
        &mut xml,
        "MsgId",
        &format!(
            "STMT-{}",
            payments.first().map_or("EMPTY", |p| p.payment_id.as_str())
        ),
    );
    tag(&mut xml, "CreDtTm", &created);
    xml.push_str("</GrpHdr>\n");
    let mut n = 0u64;
    for ((key, currency), ledger) in &ledgers {
        let mut running = opening_balance(key);
        for (on, bookings) in &ledger.days {
            n += 1;
            xml.push_str("<Stmt>");
            tag(&mut xml, "Id", &format!("STMT{n:012}"));
            tag(&mut xml, "CreDtTm", &format!("{on}T23:59:59Z"));
            let mut acct = String::new();
            account(&mut acct, "Acct", Some(ledger.account));
            // The account element, with its currency after the identification.
            xml.push_str(&acct.replace(
                "</Id></Acct>",
                &format!("</Id><Ccy>{currency}</Ccy></Acct>"),
            ));
            let closing = running + bookings.iter().map(|b| b.minor_units).sum::<i64>();
            balance(&mut xml, "OPBD", running, currency, *on);
            balance(&mut xml, "CLBD", closing, currency, *on);
            for b in bookings {
                xml.push_str("<Ntry>");
                let _ = write!(
                    xml,
                    "<Amt Ccy=\"{currency}\">{}</Amt><CdtDbtInd>{}</CdtDbtInd>",
                    format_minor_units(b.minor_units.abs(), currency),
                    if b.minor_units < 0 { "DBIT" } else { "CRDT" }
                );
                if b.reversal {
                    xml.push_str("<RvslInd>true</RvslInd>");
                }
                let _ = write!(
                    xml,
                    "<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{on}</Dt></BookgDt><ValDt><Dt>{on}</Dt></ValDt>"
                );
                xml.push_str("<BkTxCd><Prtry>");
                tag(
                    &mut xml,
                    "Cd",
                    b.payment
                        .payment_type()
                        .as_str_name()
                        .trim_start_matches("PAYMENT_TYPE_"),
                );
                xml.push_str("</Prtry></BkTxCd><NtryDtls><TxDtls><Refs>");
                let e2e = b
                    .payment
                    .references
                    .as_ref()
                    .map(|r| r.end_to_end_id.as_str())
                    .filter(|e| !e.is_empty())
                    .unwrap_or("NOTPROVIDED");
                tag(&mut xml, "EndToEndId", e2e);
                tag(&mut xml, "TxId", &b.payment.payment_id);
                xml.push_str("</Refs></TxDtls></NtryDtls></Ntry>");
            }
            xml.push_str("</Stmt>\n");
            running = closing;
        }
    }
    xml.push_str("</BkToCstmrStmt>\n</Document>\n");
    out.write_all(xml.as_bytes())?;
    Ok(statements)
}
