//! Normalization: the canonical form every stored payment has, whoever produced it.
//! Idempotent: normalizing twice changes nothing more.

use crate::pb;

/// The schema version written when a producer gives none.
pub const SCHEMA_VERSION: &str = "1.0";

/// Brings `payment` to canonical form: upper-case currency, country, IBAN and BIC codes
/// (IBANs without spaces), revision at least 1, a status (from processing or RECEIVED),
/// `updated_at` defaulting to `created_at`, and a schema version. Returns whether it changed
/// anything: when it did not, `payment` is exactly what it was, field for field.
pub fn normalize(payment: &mut pb::Payment) -> bool {
    let mut changed = false;
    if payment.revision == 0 {
        payment.revision = 1;
        changed = true;
    }
    if payment.schema_version.is_empty() {
        payment.schema_version = SCHEMA_VERSION.to_owned();
        changed = true;
    }
    if payment.status == pb::PaymentStatus::Unspecified as i32 {
        payment.status = payment
            .processing
            .as_ref()
            .map(|p| p.current_status)
            .filter(|s| *s != pb::PaymentStatus::Unspecified as i32)
            .unwrap_or(pb::PaymentStatus::Received as i32);
        changed = true;
    }
    if payment.updated_at.is_none() && payment.created_at.is_some() {
        payment.updated_at = payment.created_at;
        changed = true;
    }
    if let Some(amount) = payment.amount.as_mut() {
        changed |= upper_in_place(&mut amount.currency);
    }
    if let Some(fx) = payment.exchange_info.as_mut() {
        changed |= upper_in_place(&mut fx.source_currency);
        changed |= upper_in_place(&mut fx.target_currency);
    }
    for party in [payment.originator.as_mut(), payment.beneficiary.as_mut()]
        .into_iter()
        .flatten()
    {
        changed |= normalize_party(party);
    }
    changed
}

/// Whether it changed anything.
fn normalize_party(party: &mut pb::Party) -> bool {
    let mut changed = false;
    if let Some(address) = party.address.as_mut() {
        changed |= upper_in_place(&mut address.country);
    }
    if let Some(account) = party.account.as_mut() {
        changed |= compact_upper(&mut account.iban);
        changed |= compact_upper(&mut account.bic);
        if let Some(routing) = account.routing_info.as_mut()
            && routing.r#type != pb::RoutingType::Aba as i32
        {
            changed |= compact_upper(&mut routing.value);
        }
    }
    changed
}

/// Upper case without surrounding whitespace; whether that changed `s`.
fn upper_in_place(s: &mut String) -> bool {
    needs_care(s) && replace(s, s.trim().to_ascii_uppercase())
}

/// Upper case without any whitespace (IBANs are often written in groups of four); whether
/// that changed `s`.
fn compact_upper(s: &mut String) -> bool {
    needs_care(s)
        && replace(
            s,
            s.chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>()
                .to_ascii_uppercase(),
        )
}

/// Whether `s` holds a lower-case letter or whitespace (most codes hold neither).
fn needs_care(s: &str) -> bool {
    s.bytes()
        .any(|b| b.is_ascii_lowercase() || b.is_ascii_whitespace())
}

/// Puts `new` in `s`; whether it differs.
fn replace(s: &mut String, new: String) -> bool {
    let changed = *s != new;
    *s = new;
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_defaults_and_is_idempotent() {
        let mut p = pb::Payment {
            created_at: Some(crate::pb::Timestamp {
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
        assert!(!normalize(&mut p), "normalizing again changed the payment");
        assert_eq!(p, once);
    }

    #[test]
    fn says_whether_it_changed_the_payment() {
        let canonical = || {
            let mut p = crate::sample::ach_payment("NORM-1", 1);
            normalize(&mut p);
            p
        };
        let mut p = canonical();
        assert!(
            !normalize(&mut p),
            "a canonical payment was reported changed"
        );
        assert_eq!(p, canonical());
        type Edit = fn(&mut pb::Payment);
        let edits: [(&str, Edit); 6] = [
            ("revision 0", |p| p.revision = 0),
            ("no schema version", |p| p.schema_version.clear()),
            ("no status", |p| p.status = 0),
            ("no updated_at", |p| p.updated_at = None),
            ("lower-case currency", |p| {
                p.amount.get_or_insert_default().currency = "usd".into()
            }),
            ("IBAN in groups", |p| {
                let party = p.originator.get_or_insert_default();
                party.account.get_or_insert_default().iban = "DE89 3704 0044".into();
            }),
        ];
        for (what, edit) in edits {
            let mut p = canonical();
            edit(&mut p);
            let before = p.clone();
            assert!(normalize(&mut p), "{what}: not reported changed");
            assert_ne!(p, before, "{what}: reported changed, but is not");
        }
        // Inner whitespace that upper case keeps, and no letter to raise: nothing changes.
        let mut p = canonical();
        p.amount.get_or_insert_default().currency = "U SD".into();
        let before = p.clone();
        assert!(
            !normalize(&mut p),
            "an unchanged currency was reported changed"
        );
        assert_eq!(p, before);
    }
}
