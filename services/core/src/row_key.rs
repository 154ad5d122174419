//! The seed's HBase row key, kept so its row-key scans keep working:
//! `{yyyyMMddHHmmss}_{payment_type}_{originator_id}`, with `_{payment_id}` appended so that
//! two payments of one customer in the same second never share a row.
//!
//! The originator and payment ids are escaped so that any ids make a distinct key: `%` is
//! written `%25` and `_` is written `%5F`, so `_` only ever separates components. Ids
//! without either (all the seed's ids) are written as the seed wrote them, and the prefix
//! order (time, rail, originator) that time-range and customer scans rely on is unchanged.

use crate::names::seed_type_name;
use crate::pb;
use crate::time::{Compact, from_timestamp, push_compact};

/// The row key of `payment`: creation time (UTC, to the second), the seed's rail name,
/// the originator's party id and the payment id, joined by `_`, each id escaped
/// ([`escape_component`]); two different payments never share a key.
pub fn row_key(payment: &pb::Payment) -> String {
    let when = payment
        .created_at
        .as_ref()
        .and_then(from_timestamp)
        .map(|at| {
            let (at, mut out) = (at.naive_utc(), String::with_capacity(14));
            if !push_compact(&mut out, &at, Compact::Seconds) {
                out = at.format("%Y%m%d%H%M%S").to_string();
            }
            out
        })
        .unwrap_or_else(|| "00000000000000".to_owned());
    let rail = pb::PaymentType::try_from(payment.payment_type)
        .map(seed_type_name)
        .unwrap_or("UNSPECIFIED");
    let originator = payment
        .originator
        .as_ref()
        .map(|o| o.party_id.as_str())
        .unwrap_or_default();
    format!(
        "{when}_{rail}_{}_{}",
        escape_component(originator),
        escape_component(&payment.payment_id)
    )
}

/// `id` as one row-key component: `%` as `%25` and `_` as `%5F`, everything else as is.
/// Borrowed unchanged when there is nothing to escape.
pub fn escape_component(id: &str) -> std::borrow::Cow<'_, str> {
    if !id.contains(['%', '_']) {
        return std::borrow::Cow::Borrowed(id);
    }
    let mut out = String::with_capacity(id.len() + 8);
    for c in id.chars() {
        match c {
            '%' => out.push_str("%25"),
            '_' => out.push_str("%5F"),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_layout_with_payment_id() {
        let p = pb::Payment {
            payment_id: "ACH-1".into(),
            payment_type: pb::PaymentType::Sepa as i32,
            created_at: crate::time::parse_instant("2024-12-21T19:42:17.5")
                .map(crate::time::to_timestamp),
            originator: Some(pb::Party {
                party_id: "CUST1".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            row_key(&p),
            "20241221194217_SEPA_CREDIT_TRANSFER_CUST1_ACH-1"
        );
    }

    fn at_same_second(originator: &str, payment_id: &str) -> pb::Payment {
        pb::Payment {
            payment_id: payment_id.into(),
            payment_type: pb::PaymentType::Ach as i32,
            created_at: crate::time::parse_instant("2025-01-06T10:00:00")
                .map(crate::time::to_timestamp),
            originator: Some(pb::Party {
                party_id: originator.into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn ids_holding_the_separator_never_share_a_key() {
        let a = row_key(&at_same_second("A_B", "C"));
        let b = row_key(&at_same_second("A", "B_C"));
        assert_ne!(a, b);
        assert_eq!(a, "20250106100000_ACH_A%5FB_C");
        assert_eq!(b, "20250106100000_ACH_A_B%5FC");
        // The escape character itself is escaped, so an id that looks escaped stays apart.
        assert_ne!(
            row_key(&at_same_second("A%5FB", "C")),
            row_key(&at_same_second("A_B", "C"))
        );
    }
}
