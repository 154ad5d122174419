//! `--from`, `--type`, `--min-amount`… → the API's `PaymentFilter`.

use crate::cli::FilterArgs;
use anyhow::Context;
use payments_core::money::decimal_to_minor_units;
use payments_core::names::parse_status;
use payments_core::pb;
use payments_core::time::{parse_instant, to_timestamp};

/// Builds the filter, naming the flag at fault.
pub fn to_proto(args: &FilterArgs) -> anyhow::Result<pb::PaymentFilter> {
    let instant =
        |flag: &str, value: &Option<String>| -> anyhow::Result<Option<pbjson_types::Timestamp>> {
            value
                .as_deref()
                .map(|v| {
                    parse_instant(v)
                        .map(to_timestamp)
                        .with_context(|| format!("{flag} {v:?} is not RFC 3339 or YYYY-MM-DD"))
                })
                .transpose()
        };
    if (args.min_amount.is_some() || args.max_amount.is_some()) && args.currency.is_none() {
        anyhow::bail!(
            "--min-amount and --max-amount need --currency: amounts in different currencies do not compare"
        );
    }
    let currency = args.currency.as_deref().map(str::to_ascii_uppercase);
    let amount_currency = currency.clone().unwrap_or_default();
    let amount = |flag: &str, value: Option<f64>| -> anyhow::Result<Option<i64>> {
        value
            .map(|v| {
                decimal_to_minor_units(v, &amount_currency).with_context(|| format!("{flag} {v}"))
            })
            .transpose()
    };
    let statuses = args
        .statuses
        .iter()
        .map(|s| {
            parse_status(s).map(|x| x as i32).with_context(|| {
                format!("--status {s:?} is not a status (e.g. completed, pending, failed)")
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(pb::PaymentFilter {
        created_from: instant("--from", &args.from)?,
        created_to: instant("--to", &args.to)?,
        payment_types: super::generate::parse_types(&args.types)?
            .into_iter()
            .map(|t| t as i32)
            .collect(),
        originator_id: args.originator.clone().unwrap_or_default(),
        beneficiary_id: args.beneficiary.clone().unwrap_or_default(),
        statuses,
        min_amount_minor_units: amount("--min-amount", args.min_amount)?,
        max_amount_minor_units: amount("--max-amount", args.max_amount)?,
        currency: currency.unwrap_or_default(),
    })
}
