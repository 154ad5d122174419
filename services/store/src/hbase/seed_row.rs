//! A row in the seed's own layout, as its processors wrote it: row key
//! `{yyyyMMddHHmmss}_{payment_type}_{originator_id}` and nine `cf` columns (`payment_id`,
//! `payment_type`, `amount_value`, `amount_currency`, `originator_id`, `originator_name`,
//! `beneficiary_id`, `beneficiary_name`, `created_at`), no body. It is read as the payment
//! those columns describe, so such rows are listed, counted and served beside ours.
//!
//! A value that cannot be read (an unknown rail, an amount that is not a decimal) is left
//! unset in the model and kept, as the text the row holds, in `unmodeled` under the column's
//! name; so is any column this layout does not name. The row key goes in
//! `metadata.attributes["hbase.row_key"]`.

use super::row::{FAMILY, column};
use crate::{Error, Result};
use hbase_thrift::hbase::TRowResult;
use payments_core::money::parse_major_units;
use payments_core::names::{parse_payment_type, parse_status};
use payments_core::pb;
use payments_core::time::{parse_instant, to_timestamp};
use std::collections::BTreeMap;

/// The metadata attribute that names the row a seed-layout payment was read from.
pub const ROW_KEY_ATTRIBUTE: &str = "hbase.row_key";

/// The columns a seed-layout row is read from; any other is kept as unmodeled.
const READ: [&str; 11] = [
    column::PAYMENT_ID,
    column::PAYMENT_TYPE,
    column::AMOUNT_VALUE,
    column::AMOUNT_CURRENCY,
    column::ORIGINATOR_ID,
    column::ORIGINATOR_NAME,
    column::BENEFICIARY_ID,
    column::BENEFICIARY_NAME,
    column::CREATED_AT,
    column::STATUS,
    column::REVISION,
];

/// The payment a seed-layout row (no `cf:body`) describes; corrupt when it has no
/// `cf:payment_id`, as then it is not a payment row at all.
pub fn payment_from_seed_columns(key: &str, row: &TRowResult) -> Result<pb::Payment> {
    let prefix = format!("{FAMILY}:");
    let cells: BTreeMap<String, String> = row
        .columns
        .iter()
        .flatten()
        .filter_map(|(name, cell)| {
            let name = String::from_utf8_lossy(name);
            let qualifier = name.strip_prefix(&prefix)?.to_owned();
            let value = String::from_utf8_lossy(cell.value.as_deref().unwrap_or_default());
            Some((qualifier, value.into_owned()))
        })
        .collect();
    let text = |q: &str| cells.get(q).map(String::as_str).unwrap_or_default();
    let payment_id = text(column::PAYMENT_ID).trim().to_owned();
    if payment_id.is_empty() {
        return Err(Error::Corrupt {
            payment_id: key.to_owned(),
            reason: "row has neither cf:body nor cf:payment_id".into(),
        });
    }
    let mut unmodeled = BTreeMap::new();
    let mut keep = |q: &str| {
        unmodeled.insert(
            format!("/{q}"),
            serde_json::Value::from(text(q)).to_string(),
        );
    };

    let payment_type = parse_payment_type(text(column::PAYMENT_TYPE));
    if payment_type.is_none() {
        keep(column::PAYMENT_TYPE);
    }
    let currency = text(column::AMOUNT_CURRENCY).trim().to_ascii_uppercase();
    let amount = parse_major_units(text(column::AMOUNT_VALUE), &currency)
        .ok()
        .map(|minor_units| pb::Money {
            minor_units,
            currency: currency.clone(),
        });
    if amount.is_none() {
        keep(column::AMOUNT_VALUE);
        keep(column::AMOUNT_CURRENCY);
    }
    // The seed's rows carry `created_at` as its producer wrote it; the row key's first 14
    // digits are the same second, for a row whose column is unreadable.
    let created_at = parse_instant(text(column::CREATED_AT))
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(key.get(..14)?, "%Y%m%d%H%M%S")
                .ok()
                .map(|at| at.and_utc())
        })
        .map(to_timestamp);
    if parse_instant(text(column::CREATED_AT)).is_none() && cells.contains_key(column::CREATED_AT) {
        keep(column::CREATED_AT);
    }
    let status = parse_status(text(column::STATUS));
    if status.is_none() && cells.contains_key(column::STATUS) {
        keep(column::STATUS);
    }
    for q in cells.keys().filter(|q| !READ.contains(&q.as_str())) {
        keep(q);
    }
    let party = |id: &str, name: &str| {
        let (party_id, name) = (text(id).to_owned(), text(name).to_owned());
        (!party_id.is_empty() || !name.is_empty()).then(|| pb::Party {
            party_id,
            name,
            ..Default::default()
        })
    };
    Ok(pb::Payment {
        payment_id,
        payment_type: payment_type.map_or(0, |t| t as i32),
        revision: text(column::REVISION).trim().parse().unwrap_or_default(),
        created_at,
        updated_at: created_at,
        status: status.map_or(0, |s| s as i32),
        amount,
        originator: party(column::ORIGINATOR_ID, column::ORIGINATOR_NAME),
        beneficiary: party(column::BENEFICIARY_ID, column::BENEFICIARY_NAME),
        metadata: Some(pb::Metadata {
            attributes: [(ROW_KEY_ATTRIBUTE.to_owned(), key.to_owned())].into(),
            ..Default::default()
        }),
        unmodeled,
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hbase_thrift::hbase::TCell;

    fn row(key: &str, cells: &[(&str, &str)]) -> TRowResult {
        TRowResult {
            row: Some(key.as_bytes().to_vec()),
            columns: Some(
                cells
                    .iter()
                    .map(|(q, v)| {
                        (
                            format!("cf:{q}").into_bytes(),
                            TCell {
                                value: Some(v.as_bytes().to_vec()),
                                timestamp: Some(0),
                            },
                        )
                    })
                    .collect(),
            ),
            sorted_columns: None,
        }
    }

    #[test]
    fn a_seed_row_reads_as_the_payment_its_columns_describe() {
        let key = "20241221194217_ACH_CUST2B14473F";
        let payment = payment_from_seed_columns(
            key,
            &row(
                key,
                &[
                    ("payment_id", "ACH-F549D10D"),
                    ("payment_type", "ACH"),
                    ("amount_value", "98497.57"),
                    ("amount_currency", "USD"),
                    ("originator_id", "CUST2B14473F"),
                    ("originator_name", "Thompson, Mendoza and Wells"),
                    ("beneficiary_id", "CUSTE613EFBF"),
                    ("beneficiary_name", "Hayes-Murphy"),
                    ("created_at", "2024-12-21T19:42:17.527713"),
                    ("processed_by", "beam"),
                ],
            ),
        )
        .unwrap_or_default();
        assert_eq!(payment.payment_id, "ACH-F549D10D");
        assert_eq!(payment.payment_type(), pb::PaymentType::Ach);
        assert_eq!(
            payment.amount,
            Some(pb::Money {
                minor_units: 9_849_757,
                currency: "USD".into()
            })
        );
        assert_eq!(
            payment.originator.map(|p| p.name).as_deref(),
            Some("Thompson, Mendoza and Wells")
        );
        assert_eq!(
            payment.created_at.map(|t| (t.seconds, t.nanos)),
            Some((1_734_810_137, 527_713_000))
        );
        assert_eq!(
            payment.unmodeled.get("/processed_by").map(String::as_str),
            Some("\"beam\"")
        );
        assert_eq!(
            payment
                .metadata
                .and_then(|m| m.attributes.get(ROW_KEY_ATTRIBUTE).cloned())
                .as_deref(),
            Some(key)
        );
    }

    #[test]
    fn unreadable_values_are_kept_and_a_row_without_an_id_is_corrupt() {
        let key = "20241221194217_CREDIT_4411";
        let payment = payment_from_seed_columns(
            key,
            &row(
                key,
                &[
                    ("payment_id", "f3b9"),
                    ("payment_type", "CREDIT"),
                    ("amount_value", "12.5.1"),
                    ("amount_currency", "USD"),
                    ("created_at", "yesterday"),
                ],
            ),
        )
        .unwrap_or_default();
        assert_eq!(payment.payment_type(), pb::PaymentType::Unspecified);
        assert_eq!(payment.amount, None);
        // The second from the row key stands in for the unreadable `created_at`.
        assert_eq!(payment.created_at.map(|t| t.seconds), Some(1_734_810_137));
        let kept: Vec<&str> = payment.unmodeled.keys().map(String::as_str).collect();
        assert_eq!(
            kept,
            [
                "/amount_currency",
                "/amount_value",
                "/created_at",
                "/payment_type"
            ]
        );
        assert!(matches!(
            payment_from_seed_columns(key, &row(key, &[("payment_type", "ACH")])),
            Err(Error::Corrupt { .. })
        ));
    }
}
