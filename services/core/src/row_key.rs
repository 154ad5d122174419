//! The seed's HBase row key, kept so its row-key scans keep working:
//! `{yyyyMMddHHmmss}_{payment_type}_{originator_id}`, with `_{payment_id}` appended so that
//! two payments of one customer in the same second never share a row.

use crate::names::seed_type_name;
use crate::pb;
use crate::time::from_timestamp;

/// The row key of `payment`: creation time (UTC, to the second), the seed's rail name,
/// the originator's party id and the payment id, joined by `_`.
pub fn row_key(payment: &pb::Payment) -> String {
    let when = payment
        .created_at
        .as_ref()
        .and_then(from_timestamp)
        .map(|at| at.format("%Y%m%d%H%M%S").to_string())
        .unwrap_or_else(|| "00000000000000".to_owned());
    let rail = pb::PaymentType::try_from(payment.payment_type)
        .map(seed_type_name)
        .unwrap_or("UNSPECIFIED");
    let originator = payment
        .originator
        .as_ref()
        .map(|o| o.party_id.as_str())
        .unwrap_or_default();
    format!("{when}_{rail}_{originator}_{}", payment.payment_id)
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
}
