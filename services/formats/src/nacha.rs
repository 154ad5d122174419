//! NACHA ACH files: file header, one batch per originator, SEC code and effective date
//! (batch header, entry details, addenda, batch control), file control, and `9`-filled
//! records up to a multiple of ten (the blocking factor). Every record is 94 characters.
//!
//! Each ACH payment becomes one credit entry to the beneficiary's account (transaction code
//! 22 checking, 32 savings) from a batch of its originator.

use crate::FormatError;
use crate::text::{alpha, digits_of, numeric};
use chrono::{DateTime, Utc};
use payments_core::pb::{self, payment::Details};
use payments_core::time::from_timestamp;
use std::io::Write;

/// Record length.
pub const RECORD_LEN: usize = 94;
/// Records per block.
pub const BLOCKING_FACTOR: usize = 10;

/// File-level fields.
#[derive(Debug, Clone)]
pub struct NachaOptions {
    /// Immediate destination routing number (the ACH operator).
    pub destination_routing: String,
    /// Immediate destination name.
    pub destination_name: String,
    /// Immediate origin name.
    pub origin_name: String,
}

impl Default for NachaOptions {
    fn default() -> Self {
        Self {
            destination_routing: "011000015".into(),
            destination_name: "FEDERAL RESERVE BANK".into(),
            origin_name: "PAYMENTS GENERATOR".into(),
        }
    }
}

/// One entry of a batch.
pub(crate) struct Entry<'a> {
    pub(crate) payment: &'a pb::Payment,
    pub(crate) transaction_code: &'static str,
    pub(crate) rdfi: String,
    pub(crate) check_digit: char,
    pub(crate) account: String,
    pub(crate) amount_cents: u64,
    pub(crate) addenda: Vec<&'a pb::AchAddenda>,
}

/// Entries of one originator, SEC code and effective date.
pub(crate) struct Batch<'a> {
    pub(crate) originator: &'a pb::Party,
    pub(crate) sec_code: String,
    pub(crate) description: String,
    pub(crate) effective: DateTime<Utc>,
    /// The originator's bank: its 9-digit routing number.
    pub(crate) origin_routing: String,
    /// Its first eight digits (the ODFI identification).
    pub(crate) odfi: String,
    pub(crate) entries: Vec<Entry<'a>>,
}

fn unrepresentable(p: &pb::Payment, reason: impl Into<String>) -> FormatError {
    FormatError::Unrepresentable {
        payment_id: p.payment_id.clone(),
        reason: reason.into(),
    }
}

fn aba(p: &pb::Payment, party: Option<&pb::Party>, side: &str) -> Result<String, FormatError> {
    let routing = party
        .and_then(|x| x.account.as_ref())
        .and_then(|a| a.routing_info.as_ref())
        .filter(|r| r.r#type == pb::RoutingType::Aba as i32)
        .map(|r| digits_of(&r.value))
        .filter(|d| d.len() == 9);
    routing.ok_or_else(|| unrepresentable(p, format!("{side} has no 9-digit ABA routing number")))
}

fn entry(p: &pb::Payment) -> Result<Entry<'_>, FormatError> {
    let amount = p
        .amount
        .as_ref()
        .ok_or_else(|| unrepresentable(p, "no amount"))?;
    if amount.currency != "USD" {
        return Err(unrepresentable(
            p,
            format!("ACH moves USD, not {}", amount.currency),
        ));
    }
    let amount_cents = u64::try_from(amount.minor_units)
        .ok()
        .filter(|c| *c <= 9_999_999_999)
        .ok_or_else(|| unrepresentable(p, "amount does not fit the 10-digit NACHA field"))?;
    let routing = aba(p, p.beneficiary.as_ref(), "beneficiary")?;
    let account = p.beneficiary.as_ref().and_then(|b| b.account.as_ref());
    let savings = account.is_some_and(|a| a.account_type == pb::AccountType::Savings as i32);
    let addenda = match &p.details {
        Some(Details::Ach(ach)) => ach.addenda.iter().collect(),
        _ => Vec::new(),
    };
    Ok(Entry {
        payment: p,
        transaction_code: if savings { "32" } else { "22" },
        rdfi: routing[..8].to_owned(),
        check_digit: routing.chars().nth(8).unwrap_or('0'),
        account: account.map(|a| a.account_id.clone()).unwrap_or_default(),
        amount_cents,
        addenda,
    })
}

pub(crate) fn batches<'a>(payments: &[&'a pb::Payment]) -> Result<Vec<Batch<'a>>, FormatError> {
    let mut out: Vec<Batch<'a>> = Vec::new();
    // Batch of each (originator, SEC code, effective date), in order of first appearance.
    let mut index: std::collections::HashMap<(String, String, chrono::NaiveDate), usize> =
        std::collections::HashMap::new();
    for p in payments {
        let originator = p
            .originator
            .as_ref()
            .ok_or_else(|| unrepresentable(p, "no originator"))?;
        let (sec_code, description) = match &p.details {
            Some(Details::Ach(ach)) => {
                (ach.sec_code.clone(), ach.company_entry_description.clone())
            }
            _ => ("CCD".to_owned(), String::new()),
        };
        let sec_code = if sec_code.len() == 3 {
            sec_code
        } else {
            "CCD".to_owned()
        };
        let effective = p
            .processing
            .as_ref()
            .and_then(|x| x.effective_date.as_ref())
            .or(p.created_at.as_ref())
            .and_then(from_timestamp)
            .unwrap_or_default();
        let origin_routing = aba(p, Some(originator), "originator")?;
        let odfi = origin_routing[..8].to_owned();
        let entry = entry(p)?;
        let key = (
            originator.party_id.clone(),
            sec_code.clone(),
            effective.date_naive(),
        );
        match index.get(&key) {
            Some(&at) => out[at].entries.push(entry),
            None => {
                index.insert(key, out.len());
                out.push(Batch {
                    originator,
                    sec_code,
                    description,
                    effective,
                    origin_routing,
                    odfi,
                    entries: vec![entry],
                });
            }
        }
    }
    Ok(out)
}

/// A stable 9-digit company identifier for a party id (FNV-1a).
pub(crate) fn company_id(party_id: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in party_id.bytes() {
        hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("1{:09}", hash % 1_000_000_000)
}

pub(crate) fn num(value: u64, width: usize) -> Result<String, FormatError> {
    numeric(value, width).ok_or_else(|| FormatError::Unrepresentable {
        payment_id: String::new(),
        reason: format!("{value} does not fit a {width}-digit NACHA field"),
    })
}

/// Each entry's 15-digit trace number, batch by batch: its ODFI's 8 digits and a 7-digit
/// sequence, one running sequence per ODFI, so trace numbers are unique in the file. A
/// returns file names originals by these.
pub(crate) fn trace_numbers(batches: &[Batch<'_>]) -> Result<Vec<Vec<String>>, FormatError> {
    let mut counters: std::collections::HashMap<&str, u64> = std::collections::HashMap::new();
    batches
        .iter()
        .map(|batch| {
            batch
                .entries
                .iter()
                .map(|_| {
                    let counter = counters.entry(batch.odfi.as_str()).or_insert(0);
                    *counter += 1;
                    Ok(format!("{}{}", batch.odfi, num(*counter, 7)?))
                })
                .collect()
        })
        .collect()
}

/// Writes a NACHA file of `payments` (all ACH).
pub fn write(
    payments: &[&pb::Payment],
    options: &NachaOptions,
    out: &mut dyn Write,
) -> Result<(), FormatError> {
    let batches = batches(payments)?;
    let created = payments
        .first()
        .and_then(|p| p.created_at.as_ref())
        .and_then(from_timestamp)
        .unwrap_or_default();
    let mut records: Vec<String> = Vec::new();
    let origin = batches
        .first()
        .map(|b| b.origin_routing.clone())
        .unwrap_or_else(|| "0".repeat(9));
    records.push(file_header(options, &origin, created, &options.origin_name));
    let mut totals = FileTotals::default();
    let traces = trace_numbers(&batches)?;
    for (n, (batch, batch_traces)) in batches.iter().zip(&traces).enumerate() {
        let number = num(n as u64 + 1, 7)?;
        let company = company_id(&batch.originator.party_id);
        let description = if batch.description.is_empty() {
            "PAYMENT"
        } else {
            &batch.description
        };
        records.push(batch_header(
            batch,
            description,
            batch.effective.date_naive(),
            &batch.odfi,
            &number,
        ));
        let (mut count, mut hash, mut credits) = (0u64, 0u64, 0u64);
        for (e, trace) in batch.entries.iter().zip(batch_traces) {
            let sequence = &trace[8..];
            records.push(entry_record(
                e.transaction_code,
                (&e.rdfi, e.check_digit),
                e,
                &batch.sec_code,
                e.addenda.len(),
                trace,
            )?);
            for (k, addenda) in e.addenda.iter().enumerate() {
                records.push(format!(
                    "7{}{}{}{}",
                    alpha(
                        if addenda.type_code.is_empty() {
                            "05"
                        } else {
                            &addenda.type_code
                        },
                        2
                    ),
                    alpha(&addenda.payment_related_info, 80),
                    num(k as u64 + 1, 4)?,
                    sequence
                ));
            }
            count += 1 + e.addenda.len() as u64;
            hash += e.rdfi.parse::<u64>().unwrap_or(0);
            credits += e.amount_cents;
        }
        push_batch_control(
            &mut records,
            &mut totals,
            BatchTotals {
                count,
                hash,
                credits,
            },
            &company,
            &batch.odfi,
            &number,
        )?;
    }
    write_file(records, &totals, out)
}

/// A credit batch's header record (service class 220) for `batch`'s originator and SEC
/// code, dated `on`, from `odfi`, numbered `number`.
pub(crate) fn batch_header(
    batch: &Batch<'_>,
    description: &str,
    on: chrono::NaiveDate,
    odfi: &str,
    number: &str,
) -> String {
    format!(
        "5220{}{}{}{}{}{}{}   1{odfi}{number}",
        alpha(&batch.originator.name, 16),
        alpha("", 20),
        company_id(&batch.originator.party_id),
        alpha(&batch.sec_code, 3),
        alpha(description, 10),
        on.format("%y%m%d"),
        on.format("%y%m%d"),
    )
}

/// An entry detail record for `e`'s receiver, account, amount and payment, with
/// `transaction_code`, the receiving DFI `(8 digits, check digit)`, `addenda` records to
/// follow and `trace`. CTX entries carry the addenda count and a 16-character receiving
/// company name where other SEC codes carry a 22-character name; the individual id is the
/// payment id's last 15 characters.
pub(crate) fn entry_record(
    transaction_code: &str,
    (dfi, check_digit): (&str, char),
    e: &Entry<'_>,
    sec_code: &str,
    addenda: usize,
    trace: &str,
) -> Result<String, FormatError> {
    let chars: Vec<char> = e.payment.payment_id.chars().collect();
    let id: String = chars[chars.len().saturating_sub(15)..].iter().collect();
    let name = e
        .payment
        .beneficiary
        .as_ref()
        .map(|b| b.name.as_str())
        .unwrap_or_default();
    let receiver = if sec_code == "CTX" {
        format!("{}{}  ", num(addenda as u64, 4)?, alpha(name, 16))
    } else {
        alpha(name, 22)
    };
    Ok(format!(
        "6{transaction_code}{dfi}{check_digit}{}{}{}{receiver}  {}{trace}",
        alpha(&e.account, 17),
        num(e.amount_cents, 10)?,
        alpha(&id, 15),
        if addenda == 0 { '0' } else { '1' },
    ))
}

/// The file header record: to `options`' destination, from routing number `origin`.
pub(crate) fn file_header(
    options: &NachaOptions,
    origin: &str,
    created: DateTime<Utc>,
    origin_name: &str,
) -> String {
    format!(
        "101 {}{}{}{}A094101{}{}{}",
        alpha(&options.destination_routing, 9),
        alpha(&format!(" {origin}"), 10),
        created.format("%y%m%d"),
        created.format("%H%M"),
        alpha(&options.destination_name, 23),
        alpha(origin_name, 23),
        alpha("", 8)
    )
}

/// One credit batch's entry and addenda count, entry hash and credit total.
pub(crate) struct BatchTotals {
    /// Entry and addenda records.
    pub(crate) count: u64,
    /// The sum of the entries' 8-digit receiving DFI routing numbers.
    pub(crate) hash: u64,
    /// The credits, in cents.
    pub(crate) credits: u64,
}

/// A file's running totals over its batches, for the file control record.
#[derive(Default)]
pub(crate) struct FileTotals {
    batches: u64,
    entries: u64,
    hash: u64,
    credits: u64,
}

/// Appends a credit batch's control record (service class 220) and adds the batch to the
/// file's totals.
pub(crate) fn push_batch_control(
    records: &mut Vec<String>,
    totals: &mut FileTotals,
    batch: BatchTotals,
    company: &str,
    odfi: &str,
    number: &str,
) -> Result<(), FormatError> {
    let hash = batch.hash % 10_000_000_000;
    records.push(format!(
        "8220{}{}{}{}{}{}{}{}{}",
        num(batch.count, 6)?,
        num(hash, 10)?,
        num(0, 12)?,
        num(batch.credits, 12)?,
        company,
        alpha("", 19),
        alpha("", 6),
        odfi,
        number
    ));
    totals.batches += 1;
    totals.entries += batch.count;
    totals.hash += hash;
    totals.credits += batch.credits;
    Ok(())
}

/// Appends the file control record, pads the file to blocks of ten records with nines, and
/// writes every record on its own line.
pub(crate) fn write_file(
    mut records: Vec<String>,
    totals: &FileTotals,
    out: &mut dyn Write,
) -> Result<(), FormatError> {
    let blocks = (records.len() + 1).div_ceil(BLOCKING_FACTOR);
    records.push(format!(
        "9{}{}{}{}{}{}{}",
        num(totals.batches, 6)?,
        num(blocks as u64, 6)?,
        num(totals.entries, 8)?,
        num(totals.hash % 10_000_000_000, 10)?,
        num(0, 12)?,
        num(totals.credits, 12)?,
        alpha("", 39)
    ));
    while !records.len().is_multiple_of(BLOCKING_FACTOR) {
        records.push("9".repeat(RECORD_LEN));
    }
    for record in &records {
        debug_assert_eq!(record.len(), RECORD_LEN, "{record}");
        out.write_all(record.as_bytes())?;
        out.write_all(b"\n")?;
    }
    Ok(())
}
