//! CSV with the seed's flat columns (its HBase table's): one header row, then one row per
//! payment, RFC 4180 quoting.

use payments_core::money::format_minor_units;
use payments_core::names::{seed_type_name, status_name};
use payments_core::pb;
use payments_core::time::format_seed_instant;
use std::io::Write;

/// The columns, in order.
pub const COLUMNS: [&str; 12] = [
    "payment_id",
    "payment_type",
    "amount_value",
    "amount_currency",
    "originator_id",
    "originator_name",
    "beneficiary_id",
    "beneficiary_name",
    "created_at",
    "status",
    "revision",
    "updated_at",
];

fn field(out: &mut dyn Write, value: &str) -> std::io::Result<()> {
    if value.contains([',', '"', '\n', '\r']) {
        write!(out, "\"{}\"", value.replace('"', "\"\""))
    } else {
        out.write_all(value.as_bytes())
    }
}

/// Writes the header row.
pub fn write_header(out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "{}", COLUMNS.join(","))
}

/// Writes one payment's row.
pub fn write_row(p: &pb::Payment, out: &mut dyn Write) -> std::io::Result<()> {
    let party = |x: &Option<pb::Party>| {
        x.as_ref()
            .map(|x| (x.party_id.clone(), x.name.clone()))
            .unwrap_or_default()
    };
    let (originator_id, originator_name) = party(&p.originator);
    let (beneficiary_id, beneficiary_name) = party(&p.beneficiary);
    let (amount, currency) = p
        .amount
        .as_ref()
        .map(|a| {
            (
                format_minor_units(a.minor_units, &a.currency),
                a.currency.clone(),
            )
        })
        .unwrap_or_default();
    let row = [
        p.payment_id.clone(),
        seed_type_name(p.payment_type()).to_owned(),
        amount,
        currency,
        originator_id,
        originator_name,
        beneficiary_id,
        beneficiary_name,
        p.created_at
            .as_ref()
            .map(format_seed_instant)
            .unwrap_or_default(),
        status_name(p.status()).to_owned(),
        p.revision.to_string(),
        p.updated_at
            .as_ref()
            .map(format_seed_instant)
            .unwrap_or_default(),
    ];
    for (i, value) in row.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        field(out, value)?;
    }
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_when_needed() {
        let mut p = payments_core::sample::ach_payment("P-1", 0);
        if let Some(o) = p.originator.as_mut() {
            o.name = "Turner, Reyes and \"Vazquez\"".into();
        }
        let mut out = Vec::new();
        write_header(&mut out).unwrap_or_default();
        write_row(&p, &mut out).unwrap_or_default();
        let text = String::from_utf8_lossy(&out);
        let row = text.lines().nth(1).unwrap_or_default();
        assert!(
            row.starts_with(
                "P-1,ACH,1250.00,USD,CUST0001,\"Turner, Reyes and \"\"Vazquez\"\"\",CUST0002,"
            ),
            "{row}"
        );
        assert!(
            row.ends_with(",2025-01-06T09:00:00.000000,RECEIVED,1,2025-01-06T09:00:00.000000"),
            "{row}"
        );
    }
}
