//! Names of the model's enums as people and the seed system write them, in both directions.

use crate::pb::{PaymentStatus, PaymentType};

/// Every rail, in declaration order.
pub const PAYMENT_TYPES: [PaymentType; 9] = [
    PaymentType::Ach,
    PaymentType::Wire,
    PaymentType::Rtp,
    PaymentType::Check,
    PaymentType::Sepa,
    PaymentType::Card,
    PaymentType::DirectDebit,
    PaymentType::StandingOrder,
    PaymentType::P2p,
];

/// The seed system's name for a rail (`ACH`, `SEPA_CREDIT_TRANSFER`, `CARD_PAYMENT`…); also
/// the rail's segment of the HBase row key.
pub fn seed_type_name(payment_type: PaymentType) -> &'static str {
    match payment_type {
        PaymentType::Unspecified => "UNSPECIFIED",
        PaymentType::Ach => "ACH",
        PaymentType::Wire => "WIRE",
        PaymentType::Rtp => "RTP",
        PaymentType::Check => "CHECK",
        PaymentType::Sepa => "SEPA_CREDIT_TRANSFER",
        PaymentType::Card => "CARD_PAYMENT",
        PaymentType::DirectDebit => "DIRECT_DEBIT",
        PaymentType::StandingOrder => "STANDING_ORDER",
        PaymentType::P2p => "P2P",
    }
}

/// Short prefix for generated payment ids (`ACH-…`, `SEPA-…`).
pub fn id_prefix(payment_type: PaymentType) -> &'static str {
    match payment_type {
        PaymentType::Sepa => "SEPA",
        PaymentType::Card => "CARD",
        PaymentType::DirectDebit => "DD",
        PaymentType::StandingOrder => "SO",
        other => seed_type_name(other),
    }
}

/// Parses a rail as a user may write it: the seed's name (`SEPA_CREDIT_TRANSFER`), the
/// short name (`sepa`, `card`, `p2p`) or the protobuf name (`PAYMENT_TYPE_SEPA`),
/// case-insensitively.
pub fn parse_payment_type(text: &str) -> Option<PaymentType> {
    let upper = text.trim().to_ascii_uppercase().replace('-', "_");
    let bare = upper.strip_prefix("PAYMENT_TYPE_").unwrap_or(&upper);
    match bare {
        "SEPA_CREDIT_TRANSFER" | "SEPA_CT" => Some(PaymentType::Sepa),
        "CARD_PAYMENT" => Some(PaymentType::Card),
        "DD" => Some(PaymentType::DirectDebit),
        "SO" => Some(PaymentType::StandingOrder),
        _ => PaymentType::from_str_name(&format!("PAYMENT_TYPE_{bare}")),
    }
    .filter(|t| *t != PaymentType::Unspecified)
}

/// The seed's name for a status (`COMPLETED`).
pub fn status_name(status: PaymentStatus) -> &'static str {
    status
        .as_str_name()
        .strip_prefix("PAYMENT_STATUS_")
        .unwrap_or("UNSPECIFIED")
}

/// Parses a status as `completed`, `COMPLETED` or `PAYMENT_STATUS_COMPLETED`.
pub fn parse_status(text: &str) -> Option<PaymentStatus> {
    let upper = text.trim().to_ascii_uppercase();
    let bare = upper.strip_prefix("PAYMENT_STATUS_").unwrap_or(&upper);
    PaymentStatus::from_str_name(&format!("PAYMENT_STATUS_{bare}"))
        .filter(|s| *s != PaymentStatus::Unspecified)
}

/// Strips an enum's protobuf prefix: `("PRIORITY_HIGH", "PRIORITY_")` → `"HIGH"`.
pub fn bare_name<'a>(proto_name: &'a str, prefix: &str) -> &'a str {
    proto_name.strip_prefix(prefix).unwrap_or(proto_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_type_names_round_trip() {
        for t in PAYMENT_TYPES {
            assert_eq!(parse_payment_type(seed_type_name(t)), Some(t));
            assert_eq!(parse_payment_type(t.as_str_name()), Some(t));
        }
        assert_eq!(parse_payment_type("sepa"), Some(PaymentType::Sepa));
        assert_eq!(
            parse_payment_type("direct-debit"),
            Some(PaymentType::DirectDebit)
        );
        assert_eq!(parse_payment_type("unspecified"), None);
        assert_eq!(parse_payment_type("bitcoin"), None);
    }

    #[test]
    fn status_names_round_trip() {
        assert_eq!(parse_status("completed"), Some(PaymentStatus::Completed));
        assert_eq!(status_name(PaymentStatus::Completed), "COMPLETED");
        assert_eq!(parse_status("nope"), None);
    }
}
