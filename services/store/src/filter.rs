//! Query filters and keyset pagination.

use payments_core::pb;
use payments_core::time::{timestamp_from_micros, timestamp_micros};

/// The largest page a store returns.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// Conditions a payment must meet; empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentFilter {
    /// `created_at` at or after, in microseconds since the epoch.
    pub created_from_micros: Option<i64>,
    /// `created_at` strictly before, in microseconds since the epoch.
    pub created_to_micros: Option<i64>,
    /// Any of these rails.
    pub payment_types: Vec<pb::PaymentType>,
    /// Originator party id.
    pub originator_id: Option<String>,
    /// Beneficiary party id.
    pub beneficiary_id: Option<String>,
    /// Any of these statuses.
    pub statuses: Vec<pb::PaymentStatus>,
    /// Amount in minor units at least.
    pub min_amount_minor_units: Option<i64>,
    /// Amount in minor units at most.
    pub max_amount_minor_units: Option<i64>,
    /// Currency of the amount.
    pub currency: Option<String>,
}

impl PaymentFilter {
    /// The same filter as the API's message, for a client that parsed it here (the CLI).
    pub fn to_proto(&self) -> pb::PaymentFilter {
        pb::PaymentFilter {
            created_from: self.created_from_micros.map(timestamp_from_micros),
            created_to: self.created_to_micros.map(timestamp_from_micros),
            payment_types: self.payment_types.iter().map(|t| *t as i32).collect(),
            originator_id: self.originator_id.clone().unwrap_or_default(),
            beneficiary_id: self.beneficiary_id.clone().unwrap_or_default(),
            statuses: self.statuses.iter().map(|s| *s as i32).collect(),
            min_amount_minor_units: self.min_amount_minor_units,
            max_amount_minor_units: self.max_amount_minor_units,
            currency: self.currency.clone().unwrap_or_default(),
        }
    }

    /// Whether `payment` meets every condition: the test the SQL and MongoDB backends put
    /// in their queries, for a backend that checks rows itself (HBase).
    pub fn matches(&self, payment: &pb::Payment) -> bool {
        let created = payment
            .created_at
            .as_ref()
            .map(timestamp_micros)
            .unwrap_or_default();
        fn party(p: &Option<pb::Party>) -> &str {
            p.as_ref().map_or("", |p| p.party_id.as_str())
        }
        let (amount, currency) = payment
            .amount
            .as_ref()
            .map_or((0, ""), |a| (a.minor_units, a.currency.as_str()));
        self.created_from_micros.is_none_or(|from| created >= from)
            && self.created_to_micros.is_none_or(|to| created < to)
            && (self.payment_types.is_empty()
                || self
                    .payment_types
                    .iter()
                    .any(|t| *t as i32 == payment.payment_type))
            && (self.statuses.is_empty()
                || self.statuses.iter().any(|s| *s as i32 == payment.status))
            && self
                .originator_id
                .as_deref()
                .is_none_or(|id| id == party(&payment.originator))
            && self
                .beneficiary_id
                .as_deref()
                .is_none_or(|id| id == party(&payment.beneficiary))
            && self.min_amount_minor_units.is_none_or(|min| amount >= min)
            && self.max_amount_minor_units.is_none_or(|max| amount <= max)
            && self.currency.as_deref().is_none_or(|c| c == currency)
    }
}

/// Position in the (`created_at`, `payment_id`) order: the last row of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// `created_at` of the last row, in microseconds.
    pub created_micros: i64,
    /// `payment_id` of the last row.
    pub payment_id: String,
}

impl Cursor {
    /// Whether a row at (`created_micros`, `payment_id`) comes after this cursor.
    pub fn precedes(&self, created_micros: i64, payment_id: &str) -> bool {
        (self.created_micros, self.payment_id.as_str()) < (created_micros, payment_id)
    }

    /// The opaque page token for this cursor.
    pub fn to_token(&self) -> String {
        format!("{}.{}", self.created_micros, self.payment_id)
    }

    /// Parses a page token made by [`Cursor::to_token`].
    pub fn from_token(token: &str) -> Option<Self> {
        let (micros, id) = token.split_once('.')?;
        Some(Self {
            created_micros: micros.parse().ok()?,
            payment_id: id.to_owned(),
        })
        .filter(|c| !c.payment_id.is_empty())
    }
}

/// Which page to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// Rows per page, 1 to [`MAX_PAGE_SIZE`].
    pub size: u32,
    /// Start after this row; `None` for the first page.
    pub after: Option<Cursor>,
}

/// One page of payments.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    /// The payments, in (`created_at`, `payment_id`) order.
    pub payments: Vec<pb::Payment>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<Cursor>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_ids_with_dots() {
        let c = Cursor {
            created_micros: -12,
            payment_id: "A.B-1".into(),
        };
        assert_eq!(Cursor::from_token(&c.to_token()), Some(c));
        assert_eq!(Cursor::from_token("garbage"), None);
        assert_eq!(Cursor::from_token("12."), None);
    }
}
