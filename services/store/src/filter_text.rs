//! [`FilterText`]: a payment filter as people type it (`type=ach,wire`, `from=2025-01-01`,
//! `min_amount=1000.50`), parsed once for every surface: the console's query string, the
//! CLI's flags and the seed's HTTP routes. A day given as the end of a range includes that
//! whole day, everywhere; amounts are exact decimals in the currency's major units.

use crate::filter::{Cursor, MAX_PAGE_SIZE, PageRequest, PaymentFilter};
use chrono::{Days, NaiveDate, Utc};
use payments_core::money::{minor_unit_exponent, parse_major_units};
use payments_core::names::{parse_payment_type, parse_status};
use payments_core::time::parse_instant;
use serde::Deserialize;

/// Rows a page holds when a request names no size, on every surface.
pub const DEFAULT_PAGE_SIZE: u32 = 100;

/// A filter parameter that cannot be used: which one (as the filter names it: `from`,
/// `min_amount`…) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{parameter}: {problem}")]
pub struct FilterError {
    /// The parameter.
    pub parameter: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

impl payments_core::ServiceError for FilterError {
    fn kind(&self) -> payments_core::ErrorKind {
        payments_core::ErrorKind::BadRequest
    }

    fn parameter(&self) -> Option<&str> {
        Some(self.parameter)
    }
}

fn bad(parameter: &'static str, problem: impl Into<String>) -> FilterError {
    FilterError {
        parameter,
        problem: problem.into(),
    }
}

/// Which end of a created-at range a value bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeEnd {
    /// At or after: a day means its first instant.
    Start,
    /// Before: a day means the whole day is included (the bound is the next midnight).
    End,
}

/// A `YYYY-MM-DD` UTC day or an instant (RFC 3339, or ISO 8601 without a zone, read as
/// UTC) as the microseconds bounding a range at `end`.
pub fn range_bound(parameter: &'static str, text: &str, end: RangeEnd) -> Result<i64, FilterError> {
    let text = text.trim();
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let day = match end {
            RangeEnd::Start => Some(day),
            RangeEnd::End => day.checked_add_days(Days::new(1)),
        };
        return day
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc().timestamp_micros())
            .ok_or_else(|| bad(parameter, format!("{text:?} is out of range")));
    }
    parse_instant(text)
        .map(|t| t.with_timezone(&Utc).timestamp_micros())
        .ok_or_else(|| {
            bad(
                parameter,
                format!("{text:?} is neither YYYY-MM-DD nor an RFC 3339 instant"),
            )
        })
}

/// A filter and page as text; an absent or blank field matches everything.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct FilterText {
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

/// Non-empty, trimmed text of a field.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Each comma-separated name of `list`, parsed by `parse`.
fn names<T>(
    parameter: &'static str,
    list: &Option<String>,
    what: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Vec<T>, FilterError> {
    let Some(list) = given(list) else {
        return Ok(Vec::new());
    };
    list.split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|name| parse(name).ok_or_else(|| bad(parameter, format!("{name:?} is not {what}"))))
        .collect()
}

impl FilterText {
    /// The store filter this text describes. Amounts are in the currency's major units (two
    /// decimals when no currency is given); the range and amount bounds must be in order.
    pub fn filter(&self) -> Result<PaymentFilter, FilterError> {
        let currency = given(&self.currency).map(str::to_ascii_uppercase);
        if let Some(code) = &currency
            && minor_unit_exponent(code).is_none()
        {
            return Err(bad("currency", format!("{code:?} is not an ISO 4217 code")));
        }
        // Without a currency, amounts are read with two decimals (as USD).
        let amount_currency = currency.clone().unwrap_or_else(|| "USD".to_owned());
        let amount = |parameter, value: &Option<String>| {
            given(value)
                .map(|text| {
                    parse_major_units(text, &amount_currency)
                        .map_err(|e| bad(parameter, e.to_string()))
                })
                .transpose()
        };
        let bound = |parameter, value: &Option<String>, end| {
            given(value)
                .map(|text| range_bound(parameter, text, end))
                .transpose()
        };
        let filter = PaymentFilter {
            created_from_micros: bound("from", &self.from, RangeEnd::Start)?,
            created_to_micros: bound("to", &self.to, RangeEnd::End)?,
            payment_types: names("type", &self.types, "a payment type", parse_payment_type)?,
            originator_id: given(&self.customer).map(str::to_owned),
            beneficiary_id: given(&self.beneficiary).map(str::to_owned),
            statuses: names("status", &self.status, "a status", parse_status)?,
            min_amount_minor_units: amount("min_amount", &self.min_amount)?,
            max_amount_minor_units: amount("max_amount", &self.max_amount)?,
            currency,
        };
        check_order(&filter)?;
        Ok(filter)
    }

    /// The page this text asks for: [`DEFAULT_PAGE_SIZE`] rows unless told, at most
    /// [`MAX_PAGE_SIZE`].
    pub fn page(&self) -> Result<PageRequest, FilterError> {
        let size = match given(&self.page_size) {
            None => DEFAULT_PAGE_SIZE,
            Some(text) => text
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
                .ok_or_else(|| {
                    bad(
                        "page_size",
                        format!("must be a number from 1 to {MAX_PAGE_SIZE}, got {text:?}"),
                    )
                })?,
        };
        let after = given(&self.page_token)
            .map(|t| {
                Cursor::from_token(t)
                    .ok_or_else(|| bad("page_token", "is not a token this service issued"))
            })
            .transpose()?;
        Ok(PageRequest { size, after })
    }
}

/// Refuses a range that ends before it starts, and amount bounds the wrong way round.
pub fn check_order(filter: &PaymentFilter) -> Result<(), FilterError> {
    if let (Some(from), Some(to)) = (filter.created_from_micros, filter.created_to_micros)
        && to < from
    {
        return Err(bad("to", "is before from"));
    }
    if let (Some(min), Some(max)) = (filter.min_amount_minor_units, filter.max_amount_minor_units)
        && max < min
    {
        return Err(bad("max_amount", "is less than min_amount"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use payments_core::pb;

    fn text(pairs: &[(&str, &str)]) -> FilterText {
        serde_json::from_value(serde_json::Value::Object(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), serde_json::json!(v)))
                .collect(),
        ))
        .unwrap_or_else(|e| panic!("{pairs:?}: {e}"))
    }

    #[test]
    fn every_parameter_reaches_the_filter() {
        let filter = text(&[
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
            "a day as the end of a range is included whole"
        );
        assert_eq!(filter.min_amount_minor_units, Some(100));
        assert_eq!(filter.max_amount_minor_units, Some(2500));
    }

    #[test]
    fn amounts_without_a_currency_have_cents_and_are_exact() {
        let filter = text(&[("min_amount", "12.5"), ("max_amount", "0.29")]);
        let error = filter.filter().unwrap_err();
        assert_eq!(error.parameter, "max_amount", "{error}");
        let filter = text(&[("min_amount", "0.29")]).filter().unwrap();
        assert_eq!(filter.min_amount_minor_units, Some(29));
    }

    #[test]
    fn each_bad_parameter_is_named() {
        for (pairs, parameter) in [
            (vec![("type", "ach,bitcoin")], "type"),
            (vec![("status", "lost")], "status"),
            (vec![("currency", "XXY")], "currency"),
            (vec![("from", "yesterday")], "from"),
            (vec![("to", "2025-13-01")], "to"),
            (vec![("from", "2025-02-01"), ("to", "2025-01-01")], "to"),
            (vec![("min_amount", "-3")], "min_amount"),
            (vec![("min_amount", "1.001")], "min_amount"),
        ] {
            let error = text(&pairs).filter().unwrap_err();
            assert_eq!(error.parameter, parameter, "{error}");
        }
        for bad_size in ["0", "ten", "1001"] {
            let error = text(&[("page_size", bad_size)]).page().unwrap_err();
            assert_eq!(error.parameter, "page_size", "{error}");
        }
        assert_eq!(text(&[("page_size", "10")]).page().unwrap().size, 10);
        let error = text(&[("page_token", "garbage")]).page().unwrap_err();
        assert_eq!(error.parameter, "page_token");
    }

    #[test]
    fn nothing_given_is_everything_a_default_page_at_a_time() {
        let t = FilterText::default();
        assert_eq!(t.filter().unwrap(), PaymentFilter::default());
        assert_eq!(t.page().unwrap().size, DEFAULT_PAGE_SIZE);
    }
}
