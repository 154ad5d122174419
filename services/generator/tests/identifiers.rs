//! Every identifier in 100,000 generated payments checked by validators written here,
//! independently of `payments-core` (which the generator itself uses to build them).

use payments_core::pb::{self, payment::Details};
use payments_generator::{GeneratorConfig, PaymentGenerator};

/// ABA: nine digits, 3-7-1 weights, sum divisible by ten.
fn aba_ok(s: &str) -> bool {
    let d: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
    d.len() == 9
        && s.len() == 9
        && (3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + d[2] + d[5] + d[8])
            .is_multiple_of(10)
}

/// IBAN: the registry length of the countries the generator uses, and the rearranged
/// number (letters as 10..35) equal to 1 modulo 97, computed on nine-digit chunks.
fn iban_ok(s: &str) -> bool {
    let length = match s.get(..2) {
        Some("DE") => 22,
        Some("FR") | Some("IT") => 27,
        Some("NL") | Some("FI") => 18,
        Some("ES") => 24,
        Some("BE") => 16,
        Some("IE") => 22,
        Some("AT") => 20,
        _ => return false,
    };
    if s.len() != length
        || !s
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return false;
    }
    let rearranged = format!("{}{}", &s[4..], &s[..4]);
    let digits: String = rearranged
        .chars()
        .map(|c| c.to_digit(36).map(|v| v.to_string()).unwrap_or_default())
        .collect();
    let mut remainder: u64 = 0;
    for chunk in digits.as_bytes().chunks(9) {
        let text = format!("{remainder}{}", String::from_utf8_lossy(chunk));
        remainder = text.parse::<u64>().map(|n| n % 97).unwrap_or(0);
    }
    remainder == 1
}

/// BIC: 4 letters, 2-letter country, 2 alphanumerics, optional 3 alphanumerics.
fn bic_ok(s: &str) -> bool {
    let b = s.as_bytes();
    (b.len() == 8 || b.len() == 11)
        && b[..6].iter().all(u8::is_ascii_uppercase)
        && b[6..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

#[test]
fn every_identifier_of_100k_payments_is_valid() {
    let generator = PaymentGenerator::new(GeneratorConfig {
        seed: 2024,
        ..Default::default()
    });
    let mut seen_exponents = std::collections::BTreeSet::new();
    for i in 0..100_000 {
        let p = generator.payment(i);
        for party in [&p.originator, &p.beneficiary] {
            let party = party.as_ref().expect("party");
            let account = party.account.as_ref().expect("account");
            let routing = account.routing_info.as_ref().expect("routing");
            match routing.r#type() {
                pb::RoutingType::Aba => assert!(
                    aba_ok(&routing.value),
                    "{}: ABA {}",
                    p.payment_id,
                    routing.value
                ),
                pb::RoutingType::Iban => assert!(
                    iban_ok(&routing.value),
                    "{}: IBAN {}",
                    p.payment_id,
                    routing.value
                ),
                other => panic!("{}: unexpected routing {other:?}", p.payment_id),
            }
            if !account.iban.is_empty() {
                assert!(
                    iban_ok(&account.iban),
                    "{}: IBAN {}",
                    p.payment_id,
                    account.iban
                );
            }
            assert!(
                bic_ok(&account.bic),
                "{}: BIC {}",
                p.payment_id,
                account.bic
            );
            let country = party
                .address
                .as_ref()
                .map(|a| a.country.as_str())
                .unwrap_or_default();
            assert_eq!(
                &account.bic[4..6],
                country,
                "{}: the BIC's country is the account holder's",
                p.payment_id
            );
            if !account.iban.is_empty() {
                assert_eq!(
                    &account.iban[..2],
                    country,
                    "{}: the IBAN's country is the account holder's",
                    p.payment_id
                );
            }
        }
        let amount = p.amount.as_ref().expect("amount");
        assert!(amount.minor_units > 0);
        match &p.exchange_info {
            None => assert!(
                ["USD", "EUR"].contains(&amount.currency.as_str()),
                "{}",
                amount.currency
            ),
            Some(fx) => {
                // Credited in the target currency, in its own minor units (JPY 0, BHD 3).
                let exponent = match fx.target_currency.as_str() {
                    "JPY" => 0,
                    "BHD" => 3,
                    "EUR" | "GBP" | "CHF" => 2,
                    other => panic!("unexpected currency {other}"),
                };
                assert_eq!(amount.currency, fx.target_currency);
                let source = fx.source_amount.as_ref().expect("source amount");
                assert_eq!(source.currency, "USD");
                let rate: f64 = fx.rate.parse().expect("decimal rate");
                let expected = (source.minor_units as f64 / 100.0 * rate * 10f64.powi(exponent))
                    .round()
                    .max(1.0) as i64;
                assert!(
                    (amount.minor_units - expected).abs() <= 1,
                    "{}: {} vs {expected}",
                    p.payment_id,
                    amount.minor_units
                );
                seen_exponents.insert(exponent);
            }
        }
        if let Some(Details::Card(card)) = &p.details {
            assert!(
                card.pan_last4.len() == 4 && card.pan_last4.chars().all(|c| c.is_ascii_digit()),
                "never a full PAN"
            );
        }
        if let Some(Details::Ach(_)) = &p.details {
            assert!(amount.minor_units <= 100_000_000, "same-day ACH limit");
        }
    }
    assert_eq!(
        seen_exponents.into_iter().collect::<Vec<_>>(),
        vec![0, 2, 3],
        "JPY, two-decimal and BHD amounts all occur"
    );
}
