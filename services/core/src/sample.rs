//! A small, fully valid example payment, for tests and documentation across the workspace.

use crate::pb::Timestamp;
use crate::pb::{self, payment::Details};

/// A valid ACH payment with id `payment_id`, created `offset_seconds` after
/// 2025-01-06T09:00:00Z, passing every rule in strict mode.
pub fn ach_payment(payment_id: &str, offset_seconds: i64) -> pb::Payment {
    let created = Timestamp {
        seconds: 1_736_154_000 + offset_seconds,
        nanos: 0,
    };
    let later = |days: i64| Timestamp {
        seconds: created.seconds + days * 86_400,
        nanos: 0,
    };
    let party = |id: &str, name: &str, aba: &str| pb::Party {
        party_type: pb::PartyType::Corporate as i32,
        party_id: id.into(),
        name: name.into(),
        account: Some(pb::Account {
            account_id: "000123456789".into(),
            account_type: pb::AccountType::Checking as i32,
            routing_info: Some(pb::RoutingInfo {
                r#type: pb::RoutingType::Aba as i32,
                value: aba.into(),
            }),
            iban: String::new(),
            bic: String::new(),
        }),
        address: Some(pb::Address {
            street: "1 Main St".into(),
            city: "Springfield".into(),
            state: "IL".into(),
            postal_code: "62701".into(),
            country: "US".into(),
        }),
        email: "ap@example.com".into(),
        phone: "+1-217-555-0100".into(),
    };
    pb::Payment {
        payment_id: payment_id.into(),
        payment_type: pb::PaymentType::Ach as i32,
        schema_version: "1.0".into(),
        revision: 1,
        created_at: Some(created),
        updated_at: Some(created),
        status: pb::PaymentStatus::Received as i32,
        amount: Some(pb::Money {
            minor_units: 125_000,
            currency: "USD".into(),
        }),
        exchange_info: None,
        originator: Some(party("CUST0001", "Acme Manufacturing Inc", "021000021")),
        beneficiary: Some(party("CUST0002", "Globex Supply LLC", "011000015")),
        processing: Some(pb::ProcessingInfo {
            priority: pb::Priority::Normal as i32,
            processing_window: pb::ProcessingWindow::SameDay as i32,
            submission_date: Some(created),
            effective_date: Some(later(1)),
            settlement_date: Some(later(1)),
            current_status: pb::PaymentStatus::Received as i32,
            status_history: Vec::new(),
        }),
        references: Some(pb::References {
            end_to_end_id: format!("E2E-{payment_id}"),
            ..Default::default()
        }),
        remittance_info: None,
        regulatory: None,
        metadata: None,
        warnings: Vec::new(),
        scenario: None,
        details: Some(Details::Ach(pb::AchDetails {
            sec_code: "CCD".into(),
            ..Default::default()
        })),
        unmodeled: Default::default(),
    }
}
