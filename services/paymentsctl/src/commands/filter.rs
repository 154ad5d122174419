//! `--from`, `--type`, `--min-amount`… → the API's `PaymentFilter`, through the same
//! [`FilterText`] parser as the console and the seed routes (so `--to 2025-01-06` includes
//! that whole day, as `to=2025-01-06` does there).

use crate::cli::FilterArgs;
use payments_core::pb;
use payments_store::{FilterError, FilterText};

/// The command-line flag of a filter parameter, for errors.
fn flag(parameter: &str) -> &str {
    match parameter {
        "type" => "--type",
        "customer" => "--originator",
        "beneficiary" => "--beneficiary",
        "status" => "--status",
        "currency" => "--currency",
        "from" => "--from",
        "to" => "--to",
        "min_amount" => "--min-amount",
        "max_amount" => "--max-amount",
        other => other,
    }
}

/// Builds the filter, naming the flag at fault.
pub fn to_proto(args: &FilterArgs) -> anyhow::Result<pb::PaymentFilter> {
    let joined = |values: &[String]| Some(values.join(",")).filter(|v| !v.is_empty());
    let text = FilterText {
        types: joined(&args.types),
        customer: args.originator.clone(),
        beneficiary: args.beneficiary.clone(),
        status: joined(&args.statuses),
        currency: args.currency.clone(),
        from: args.from.clone(),
        to: args.to.clone(),
        min_amount: args.min_amount.clone(),
        max_amount: args.max_amount.clone(),
        ..Default::default()
    };
    let filter = text
        .filter()
        .map_err(|FilterError { parameter, problem }| {
            anyhow::anyhow!("{} {problem}", flag(parameter))
        })?;
    Ok(filter.to_proto())
}
