//! Normalization: the canonical form every stored payment has, whoever produced it.
//! Idempotent: normalizing twice changes nothing more.

use crate::pb;

/// The schema version written when a producer gives none.
pub const SCHEMA_VERSION: &str = "1.0";

/// Brings `payment` to canonical form: upper-case currency, country, IBAN and BIC codes
/// (IBANs without spaces), revision at least 1, a status (from processing or RECEIVED),
/// `updated_at` defaulting to `created_at`, and a schema version.
pub fn normalize(payment: &mut pb::Payment) {
    if payment.revision == 0 {
        payment.revision = 1;
    }
    if payment.schema_version.is_empty() {
        payment.schema_version = SCHEMA_VERSION.to_owned();
    }
    if payment.status == pb::PaymentStatus::Unspecified as i32 {
        payment.status = payment
            .processing
            .as_ref()
            .map(|p| p.current_status)
            .filter(|s| *s != pb::PaymentStatus::Unspecified as i32)
            .unwrap_or(pb::PaymentStatus::Received as i32);
    }
    if payment.updated_at.is_none() {
        payment.updated_at = payment.created_at;
    }
    if let Some(amount) = payment.amount.as_mut() {
        upper_in_place(&mut amount.currency);
    }
    if let Some(fx) = payment.exchange_info.as_mut() {
        upper_in_place(&mut fx.source_currency);
        upper_in_place(&mut fx.target_currency);
    }
    for party in [payment.originator.as_mut(), payment.beneficiary.as_mut()]
        .into_iter()
        .flatten()
    {
        normalize_party(party);
    }
}

fn normalize_party(party: &mut pb::Party) {
    if let Some(address) = party.address.as_mut() {
        upper_in_place(&mut address.country);
    }
    if let Some(account) = party.account.as_mut() {
        compact_upper(&mut account.iban);
        compact_upper(&mut account.bic);
        if let Some(routing) = account.routing_info.as_mut()
            && routing.r#type != pb::RoutingType::Aba as i32
        {
            compact_upper(&mut routing.value);
        }
    }
}

fn upper_in_place(s: &mut String) {
    if s.bytes()
        .any(|b| b.is_ascii_lowercase() || b.is_ascii_whitespace())
    {
        *s = s.trim().to_ascii_uppercase();
    }
}

/// Upper case without any whitespace (IBANs are often written in groups of four).
fn compact_upper(s: &mut String) {
    if s.bytes()
        .any(|b| b.is_ascii_lowercase() || b.is_ascii_whitespace())
    {
        *s = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_defaults_and_is_idempotent() {
        let mut p = pb::Payment {
            created_at: Some(pbjson_types::Timestamp {
                seconds: 10,
                nanos: 0,
            }),
            amount: Some(pb::Money {
                minor_units: 5,
                currency: " usd".into(),
            }),
            originator: Some(pb::Party {
                account: Some(pb::Account {
                    iban: "de89 3704 0044 0532 0130 00".into(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        normalize(&mut p);
        assert_eq!(p.revision, 1);
        assert_eq!(p.status, pb::PaymentStatus::Received as i32);
        assert_eq!(p.updated_at, p.created_at);
        assert_eq!(p.schema_version, "1.0");
        assert_eq!(p.amount.as_ref().map(|a| a.currency.as_str()), Some("USD"));
        let iban = p
            .originator
            .as_ref()
            .and_then(|o| o.account.as_ref())
            .map(|a| a.iban.clone());
        assert_eq!(iban.as_deref(), Some("DE89370400440532013000"));
        let once = p.clone();
        normalize(&mut p);
        assert_eq!(p, once);
    }
}
