//! The payments browser's query string (`?type=ach,wire&customer=…&from=…`) as a store
//! filter and page, with an error naming the parameter that is wrong.

use chrono::{NaiveDate, Utc};
use payments_core::money::minor_unit_exponent;
use payments_core::names::{parse_payment_type, parse_status};
use payments_core::time::parse_instant;
use payments_store::{Cursor, PageRequest, PaymentFilter};
use serde::Deserialize;

/// Rows a page shows unless asked otherwise.
pub const DEFAULT_PAGE_SIZE: u32 = 50;

/// Query-string parameters of `/api/payments` and `/api/stats`.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct PaymentQuery {
    /// Rails, comma-separated (`ach,wire`).
    #[serde(rename = "type")]
    pub types: Option<String>,
    /// Originator's party id (the seed's customer).
    pub customer: Option<String>,
    /// Beneficiary's party id.
    pub beneficiary: Option<String>,
    /// Statuses, comma-separated.
    pub status: Option<String>,
    /// ISO 4217 currency.
    pub currency: Option<String>,
    /// Created at or after: RFC 3339 or `YYYY-MM-DD` (UTC).
    pub from: Option<String>,
    /// Created before: RFC 3339, or `YYYY-MM-DD` for the whole day (UTC).
    pub to: Option<String>,
    /// Least amount, in major units (`1000.50`).
    pub min_amount: Option<String>,
    /// Largest amount, in major units.
    pub max_amount: Option<String>,
    /// Rows per page (1 to 1000).
    pub page_size: Option<String>,
    /// Where the page starts: the previous page's `next_page_token`.
    pub page_token: Option<String>,
}

/// A parameter the console cannot use, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{parameter}: {problem}")]
pub struct BadParameter {
    /// The query-string parameter.
    pub parameter: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

fn bad(parameter: &'static str, problem: impl Into<String>) -> BadParameter {
    BadParameter {
        parameter,
        problem: problem.into(),
    }
}

/// Non-empty, trimmed text of a parameter.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl PaymentQuery {
    /// The store filter these parameters describe.
    pub fn filter(&self) -> Result<PaymentFilter, BadParameter> {
        let mut filter = PaymentFilter::default();
        if let Some(types) = given(&self.types) {
            for name in types.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                filter.payment_types.push(
                    parse_payment_type(name)
                        .ok_or_else(|| bad("type", format!("{name:?} is not a payment type")))?,
                );
            }
        }
        if let Some(statuses) = given(&self.status) {
            for name in statuses.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                filter.statuses.push(
                    parse_status(name)
                        .ok_or_else(|| bad("status", format!("{name:?} is not a status")))?,
                );
            }
        }
        filter.originator_id = given(&self.customer).map(str::to_owned);
        filter.beneficiary_id = given(&self.beneficiary).map(str::to_owned);
        let currency = given(&self.currency).map(str::to_ascii_uppercase);
        if let Some(code) = &currency
            && minor_unit_exponent(code).is_none()
        {
            return Err(bad("currency", format!("{code:?} is not an ISO 4217 code")));
        }
        filter.created_from_micros = given(&self.from)
            .map(|v| instant_micros("from", v, false))
            .transpose()?;
        filter.created_to_micros = given(&self.to)
            .map(|v| instant_micros("to", v, true))
            .transpose()?;
        let exponent = currency
            .as_deref()
            .and_then(minor_unit_exponent)
            .unwrap_or(2);
        filter.min_amount_minor_units = given(&self.min_amount)
            .map(|v| minor_units("min_amount", v, exponent))
            .transpose()?;
        filter.max_amount_minor_units = given(&self.max_amount)
            .map(|v| minor_units("max_amount", v, exponent))
            .transpose()?;
        filter.currency = currency;
        Ok(filter)
    }

    /// The page these parameters ask for.
    pub fn page(&self) -> Result<PageRequest, BadParameter> {
        let size = match given(&self.page_size) {
            None => DEFAULT_PAGE_SIZE,
            Some(text) => text
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=payments_store::MAX_PAGE_SIZE).contains(n))
                .ok_or_else(|| {
                    bad(
                        "page_size",
                        format!(
                            "must be a number from 1 to {}, got {text:?}",
                            payments_store::MAX_PAGE_SIZE
                        ),
                    )
                })?,
        };
        let after = given(&self.page_token)
            .map(|t| {
                Cursor::from_token(t)
                    .ok_or_else(|| bad("page_token", "is not a token this console gave"))
            })
            .transpose()?;
        Ok(PageRequest { size, after })
    }
}

/// An instant or a UTC day, in microseconds since the epoch; a day given as the end of a
/// range means the end of that day.
fn instant_micros(parameter: &'static str, value: &str, end: bool) -> Result<i64, BadParameter> {
    if let Ok(day) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        let day = if end {
            day.succ_opt().unwrap_or(day)
        } else {
            day
        };
        let start = day.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
        return start
            .map(|t| t.timestamp_micros())
            .ok_or_else(|| bad(parameter, format!("{value:?} is out of range")));
    }
    parse_instant(value)
        .map(|t| t.with_timezone(&Utc).timestamp_micros())
        .ok_or_else(|| {
            bad(
                parameter,
                format!("{value:?} is neither YYYY-MM-DD nor an RFC 3339 instant"),
            )
        })
}

/// A decimal amount in major units as minor units (`12.5` with exponent 2 → 1250).
fn minor_units(parameter: &'static str, value: &str, exponent: u32) -> Result<i64, BadParameter> {
    let amount: f64 = value
        .parse()
        .ok()
        .filter(|a: &f64| a.is_finite() && *a >= 0.0)
        .ok_or_else(|| bad(parameter, format!("{value:?} is not a non-negative amount")))?;
    let scaled = (amount * 10f64.powi(exponent as i32)).round();
    if scaled > payments_core::money::MAX_MINOR_UNITS as f64 {
        return Err(bad(
            parameter,
            format!("{value} is more than any payment holds"),
        ));
    }
    Ok(scaled as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use payments_core::pb;

    fn query(pairs: &[(&str, &str)]) -> PaymentQuery {
        let text: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        serde_json::from_value(serde_json::Value::Object(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), serde_json::json!(v)))
                .collect(),
        ))
        .unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    #[test]
    fn every_parameter_reaches_the_filter() {
        let filter = query(&[
            ("type", "ach, wire"),
            ("customer", "CUST-1"),
            ("beneficiary", "BEN-2"),
            ("status", "completed"),
            ("currency", "jpy"),
            ("from", "2025-01-06"),
            ("to", "2025-01-06"),
            ("min_amount", "100"),
            ("max_amount", "2500"),
        ])
        .filter()
        .unwrap();
        assert_eq!(
            filter.payment_types,
            vec![pb::PaymentType::Ach, pb::PaymentType::Wire]
        );
        assert_eq!(filter.originator_id.as_deref(), Some("CUST-1"));
        assert_eq!(filter.beneficiary_id.as_deref(), Some("BEN-2"));
        assert_eq!(filter.statuses, vec![pb::PaymentStatus::Completed]);
        assert_eq!(filter.currency.as_deref(), Some("JPY"));
        assert_eq!(filter.created_from_micros, Some(1_736_121_600_000_000));
        assert_eq!(
            filter.created_to_micros,
            Some(1_736_208_000_000_000),
            "to a day is its end"
        );
        // JPY has no minor units.
        assert_eq!(filter.min_amount_minor_units, Some(100));
        assert_eq!(filter.max_amount_minor_units, Some(2500));
    }

    #[test]
    fn amounts_without_a_currency_have_cents() {
        let filter = query(&[("min_amount", "12.5")]).filter().unwrap();
        assert_eq!(filter.min_amount_minor_units, Some(1250));
    }

    #[test]
    fn each_bad_parameter_is_named() {
        for (pairs, parameter) in [
            (vec![("type", "ach,bitcoin")], "type"),
            (vec![("status", "lost")], "status"),
            (vec![("currency", "XXY")], "currency"),
            (vec![("from", "yesterday")], "from"),
            (vec![("min_amount", "-3")], "min_amount"),
        ] {
            let error = query(&pairs).filter().unwrap_err();
            assert_eq!(error.parameter, parameter, "{error}");
        }
        for bad_size in ["0", "ten", "1001"] {
            let error = query(&[("page_size", bad_size)]).page().unwrap_err();
            assert_eq!(error.parameter, "page_size", "{error}");
        }
        assert_eq!(query(&[("page_size", "10")]).page().unwrap().size, 10);
        assert_eq!(
            query(&[("page_token", "garbage")])
                .page()
                .unwrap_err()
                .parameter,
            "page_token"
        );
    }

    #[test]
    fn no_parameters_is_everything_fifty_at_a_time() {
        let q = PaymentQuery::default();
        assert_eq!(q.filter().unwrap(), PaymentFilter::default());
        assert_eq!(q.page().unwrap().size, DEFAULT_PAGE_SIZE);
    }
}
