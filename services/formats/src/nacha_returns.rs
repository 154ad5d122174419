//! A NACHA returns file: for every ACH payment returned in its lifecycle, a return entry
//! (transaction code 21 or 31, the original's amount, receiver and account, sent back to
//! the original ODFI) with its addenda 99: the R-code, the original entry's trace number in
//! the NACHA file of the same payments (`--format nacha`), and the original receiving DFI.
//! Returns are batched by original batch, returning RDFI and return date.

use crate::FormatError;
use crate::nacha::{
    BatchTotals, FileTotals, NachaOptions, batch_header, batches, company_id, entry_record,
    file_header, num, push_batch_control, trace_numbers, write_file,
};
use crate::text::alpha;
use chrono::{DateTime, Utc};
use payments_core::pb::{self, payment::Details};
use payments_core::time::from_timestamp;
use std::collections::BTreeMap;
use std::io::Write;

/// A returned entry: its R-code, when it was returned, and where the original sits.
struct Returned {
    code: String,
    at: DateTime<Utc>,
    batch: usize,
    entry: usize,
}

/// The R-code and time of `p`'s return, if its latest status is RETURNED with one.
fn returned(p: &pb::Payment) -> Option<(String, DateTime<Utc>)> {
    if p.status() != pb::PaymentStatus::Returned {
        return None;
    }
    let Some(Details::Ach(ach)) = &p.details else {
        return None;
    };
    let code = ach.return_reason_code.clone();
    if code.len() != 3 || !code.starts_with('R') {
        return None;
    }
    let at = p
        .processing
        .as_ref()
        .and_then(|x| x.status_history.last())
        .and_then(|c| c.changed_at.as_ref())
        .or(p.updated_at.as_ref())
        .and_then(from_timestamp)
        .unwrap_or_default();
    Some((code, at))
}

/// Writes the return entries of `payments` (every ACH payment of the run, at its latest
/// revision, in the order the original file holds them).
pub fn write(
    payments: &[&pb::Payment],
    options: &NachaOptions,
    out: &mut dyn Write,
) -> Result<usize, FormatError> {
    let batches = batches(payments)?;
    let traces = trace_numbers(&batches)?;
    // Return batches: (original batch, returning RDFI, return date) → returns.
    let mut groups: BTreeMap<(usize, String, chrono::NaiveDate), Vec<Returned>> = BTreeMap::new();
    for (b, batch) in batches.iter().enumerate() {
        for (e, entry) in batch.entries.iter().enumerate() {
            if let Some((code, at)) = returned(entry.payment) {
                groups
                    .entry((b, entry.rdfi.clone(), at.date_naive()))
                    .or_default()
                    .push(Returned {
                        code,
                        at,
                        batch: b,
                        entry: e,
                    });
            }
        }
    }
    let created = groups
        .values()
        .flatten()
        .map(|r| r.at)
        .max()
        .unwrap_or_default();
    let origin = groups
        .keys()
        .next()
        .map(|(_, rdfi, _)| format!("{rdfi}0"))
        .unwrap_or_else(|| "0".repeat(9));
    let mut records: Vec<String> = vec![file_header(options, &origin, created, "RETURNS")];
    let mut counters: BTreeMap<String, u64> = BTreeMap::new();
    let mut totals = FileTotals::default();
    let mut returned_count = 0;
    for (n, ((b, rdfi, date), returns)) in groups.iter().enumerate() {
        let original = &batches[*b];
        let number = num(n as u64 + 1, 7)?;
        let company = company_id(&original.originator.party_id);
        records.push(batch_header(original, "RETURN", *date, rdfi, &number));
        let (mut count, mut hash, mut credits) = (0u64, 0u64, 0u64);
        for r in returns {
            let e = &original.entries[r.entry];
            let counter = counters.entry(rdfi.clone()).or_insert(0);
            *counter += 1;
            let trace = format!("{rdfi}{}", num(*counter, 7)?);
            // A returned credit goes back to the ODFI: 21 for checking, 31 for savings.
            let code = if e.transaction_code == "32" {
                "31"
            } else {
                "21"
            };
            let odfi_check = original.origin_routing.chars().nth(8).unwrap_or('0');
            records.push(entry_record(
                code,
                (&original.odfi, odfi_check),
                e,
                &original.sec_code,
                1,
                &trace,
            )?);
            records.push(format!(
                "799{}{}{}{}{}{trace}",
                alpha(&r.code, 3),
                traces[r.batch][r.entry],
                alpha("", 6),
                e.rdfi,
                alpha("", 44),
            ));
            count += 2;
            hash += original.odfi.parse::<u64>().unwrap_or(0);
            credits += e.amount_cents;
            returned_count += 1;
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
            rdfi,
            &number,
        )?;
    }
    write_file(records, &totals, out)?;
    Ok(returned_count)
}
