use super::*;
use crate::sample::ach_payment;

fn fields(outcome: &ValidationOutcome) -> Vec<&str> {
    match outcome {
        ValidationOutcome::Accepted { warnings } => {
            warnings.iter().map(|w| w.field.as_str()).collect()
        }
        ValidationOutcome::Rejected { violations } => {
            violations.iter().map(|v| v.field.as_str()).collect()
        }
    }
}

fn strict() -> PaymentValidator {
    PaymentValidator::new(ValidationMode::Strict)
}

fn lenient() -> PaymentValidator {
    PaymentValidator::new(ValidationMode::Lenient)
}

#[test]
fn sample_payment_is_valid() {
    assert_eq!(
        strict().validate(&ach_payment("P-1", 0)),
        ValidationOutcome::Accepted { warnings: vec![] }
    );
}

#[test]
fn malformed_payment_names_every_bad_field_once() {
    let mut p = ach_payment("P-2", 0);
    p.amount = Some(pb::Money {
        minor_units: -5,
        currency: "XYZ".into(),
    });
    p.originator = None;
    if let Some(account) = p.beneficiary.as_mut().and_then(|b| b.account.as_mut()) {
        account.iban = "DE89370400440532013001".into();
    }
    let outcome = strict().validate(&p);
    assert!(matches!(outcome, ValidationOutcome::Rejected { .. }));
    assert_eq!(
        fields(&outcome),
        vec![
            "amount.minor_units",
            "amount.currency",
            "originator",
            "beneficiary.account.iban"
        ]
    );
}

#[test]
fn bad_check_digit_is_content_rule() {
    let mut p = ach_payment("P-3", 0);
    if let Some(r) = p
        .originator
        .as_mut()
        .and_then(|o| o.account.as_mut())
        .and_then(|a| a.routing_info.as_mut())
    {
        r.value = "021000022".into();
    }
    let strict_outcome = strict().validate(&p);
    assert!(matches!(strict_outcome, ValidationOutcome::Rejected { .. }));
    assert_eq!(
        fields(&strict_outcome),
        vec!["originator.account.routing_info.value"]
    );
    let lenient_outcome = lenient().validate(&p);
    assert!(matches!(
        lenient_outcome,
        ValidationOutcome::Accepted { .. }
    ));
    assert_eq!(
        fields(&lenient_outcome),
        vec!["originator.account.routing_info.value"]
    );
}

#[test]
fn structural_failures_reject_in_lenient_mode() {
    for mutate in [
        (|p: &mut pb::Payment| p.payment_id.clear()) as fn(&mut pb::Payment),
        |p| p.amount = None,
        |p| p.payment_type = 0,
        |p| p.payment_type = 42,
        |p| p.status = 99,
    ] {
        let mut p = ach_payment("P-4", 0);
        mutate(&mut p);
        assert!(
            matches!(lenient().validate(&p), ValidationOutcome::Rejected { .. }),
            "{p:?}"
        );
    }
}

#[test]
fn dates_must_be_in_order() {
    let mut p = ach_payment("P-5", 0);
    if let Some(proc_info) = p.processing.as_mut() {
        proc_info.settlement_date = Some(crate::pb::Timestamp {
            seconds: 0,
            nanos: 0,
        });
    }
    assert_eq!(
        fields(&strict().validate(&p)),
        vec!["processing.settlement_date"]
    );
}

#[test]
fn details_must_match_type_and_card_never_holds_a_pan() {
    let mut p = ach_payment("P-6", 0);
    p.details = Some(Details::Card(pb::CardDetails {
        pan_last4: "4111111111111111".into(),
        ..Default::default()
    }));
    assert_eq!(
        fields(&lenient().validate(&p)),
        vec!["details", "card.pan_last4"]
    );
}

#[test]
fn bad_bic_and_country() {
    let mut p = ach_payment("P-7", 0);
    if let Some(b) = p.beneficiary.as_mut() {
        if let Some(a) = b.account.as_mut() {
            a.bic = "BANK12".into();
        }
        if let Some(addr) = b.address.as_mut() {
            addr.country = "USA".into();
        }
    }
    assert_eq!(
        fields(&strict().validate(&p)),
        vec!["beneficiary.account.bic", "beneficiary.address.country"]
    );
}

#[test]
fn unknown_enums_and_currencies_deep_in_a_payment_are_named_by_their_path() {
    let mut p = ach_payment("P-enums", 0);
    if let Some(o) = p.originator.as_mut() {
        o.party_type = 99;
        if let Some(account) = o.account.as_mut() {
            account.account_type = 98;
            if let Some(routing) = account.routing_info.as_mut() {
                routing.r#type = 97;
            }
        }
    }
    if let Some(processing) = p.processing.as_mut() {
        processing.status_history.push(pb::StatusChange {
            status: 96,
            ..Default::default()
        });
    }
    p.exchange_info = Some(pb::ExchangeInfo {
        source_currency: "usd".into(),
        target_currency: "EUR".into(),
        source_amount: Some(pb::Money {
            minor_units: 5,
            currency: "ZZZ".into(),
        }),
        ..Default::default()
    });
    let outcome = strict().validate(&p);
    let named = fields(&outcome);
    let history = format!(
        "processing.status_history[{}].status",
        p.processing
            .as_ref()
            .map_or(0, |x| x.status_history.len() - 1)
    );
    for field in [
        "originator.party_type",
        "originator.account.account_type",
        "originator.account.routing_info.type",
        history.as_str(),
        "exchange_info.source_currency",
        "exchange_info.source_amount.currency",
    ] {
        assert!(named.contains(&field), "{field} not in {named:?}");
    }
    assert!(
        !named.contains(&"exchange_info.target_currency"),
        "{named:?}"
    );
}
