//! Rail-specific fields, consistent with each other and with the payment.

use crate::rng::DetRng;
use chrono::{DateTime, Duration, Utc};
use payments_core::pb::{self, payment::Details};
use payments_core::time::to_timestamp;

/// What a rail needs to know about the payment it decorates.
pub struct RailContext<'a> {
    /// When the payment was created.
    pub created: DateTime<Utc>,
    /// The amount.
    pub amount: &'a pb::Money,
    /// Whether the beneficiary banks abroad (cross-border wire).
    pub cross_border: bool,
    /// The beneficiary's BIC.
    pub beneficiary_bic: &'a str,
}

/// The `details` for `rail`.
pub fn details(rng: &mut DetRng, rail: pb::PaymentType, cx: &RailContext<'_>) -> Option<Details> {
    use pb::PaymentType as T;
    let ts = |d: Duration| Some(to_timestamp(cx.created + d));
    Some(match rail {
        T::Unspecified => return None,
        T::Ach => Details::Ach(pb::AchDetails {
            sec_code: (*rng.pick(&["CCD", "CCD", "CCD", "CTX", "PPD"])).into(),
            batch_id: rng.hex_after("BATCH", 8),
            addenda: if rng.chance(0.4) {
                vec![pb::AchAddenda {
                    type_code: "05".into(),
                    payment_related_info: rng.digits_after("INV-", 6),
                }]
            } else {
                Vec::new()
            },
            company_entry_description: (*rng.pick(&[
                "PAYABLES",
                "PAYROLL",
                "VENDOR PMT",
                "INVOICE",
            ]))
            .into(),
            return_reason_code: String::new(),
        }),
        T::Wire => Details::Wire(pb::WireDetails {
            wire_type: if cx.cross_border {
                pb::WireScope::International
            } else {
                pb::WireScope::Domestic
            } as i32,
            message_type: if cx.cross_border { "MT103" } else { "pacs.008" }.into(),
            intermediary_bank_bic: if cx.cross_border && rng.chance(0.3) {
                "CHASUS33".into()
            } else {
                String::new()
            },
            charge_bearer: *rng.pick(&[
                pb::ChargeBearer::Our,
                pb::ChargeBearer::Sha,
                pb::ChargeBearer::Sha,
            ]) as i32,
            charges: Some(pb::Money {
                minor_units: if cx.cross_border { 4_500 } else { 2_500 },
                currency: cx.amount.currency.clone(),
            }),
            imad: if cx.cross_border {
                String::new()
            } else {
                format!("{}QMGFT{}", cx.created.format("%Y%m%d"), rng.digits(8))
            },
        }),
        T::Rtp => Details::Rtp(pb::RtpDetails {
            clearing_system: (*rng.pick(&["TCH_RTP", "TCH_RTP", "FEDNOW"])).into(),
            settlement_method: "INSTANT".into(),
            processing_mode: "REAL_TIME".into(),
            confirmation_id: rng.hex_after("CONF", 8),
            confirmation_timestamp: ts(Duration::milliseconds(800 + rng.below(3_000) as i64)),
            settlement_confirmation: rng.hex_after("TCH", 9),
            submission_timestamp: ts(Duration::zero()),
            settlement_timestamp: ts(Duration::seconds(4)),
            expiry_timestamp: ts(Duration::minutes(5)),
            confirmation_required: true,
            confirmation_window_minutes: 1,
            expected_settlement_timestamp: ts(Duration::seconds(5)),
        }),
        T::Check => Details::Check(pb::CheckDetails {
            check_number: (1_000 + rng.below(9_000)).to_string(),
            check_type: "BUSINESS".into(),
            presentation_type: (*rng.pick(&["IMAGE", "IMAGE", "PAPER"])).into(),
            capture_type: (*rng.pick(&["REMOTE_DEPOSIT", "LOCKBOX", "BRANCH"])).into(),
            memo: rng.digits_after("Invoice ", 6),
            image_reference: String::new(),
        }),
        T::Sepa => {
            let instant = rng.chance(0.35) && cx.amount.minor_units <= 10_000_000;
            Details::Sepa(pb::SepaDetails {
                scheme: if instant { "SCT_INST" } else { "SCT" }.into(),
                instruction_id: rng.hex_after("INST", 8),
                service_level: "SEPA".into(),
                local_instrument: if instant { "INST" } else { "" }.into(),
                category_purpose: (*rng.pick(&["SUPP", "SUPP", "TRAD", "SALA", "INTC"])).into(),
            })
        }
        T::Card => Details::Card(pb::CardDetails {
            card_present: rng.chance(0.3),
            entry_mode: (*rng.pick(&["CHIP", "CONTACTLESS", "ECOMMERCE", "ECOMMERCE"])).into(),
            auth_type: "ONLINE".into(),
            terminal_id: rng.digits_after("TERM", 6),
            merchant_id: rng.digits_after("MERCH", 6),
            pan_last4: rng.digits(4),
            card_type: (*rng.pick(&["COMMERCIAL", "CREDIT", "DEBIT"])).into(),
            network: (*rng.pick(&["VISA", "VISA", "MASTERCARD", "AMEX"])).into(),
            auth_code: rng.hex(6),
        }),
        T::DirectDebit => Details::DirectDebit(pb::DirectDebitDetails {
            scheme_type: if cx.amount.currency == "EUR" {
                "SEPA_DIRECT_DEBIT"
            } else {
                "ACH_DEBIT"
            }
            .into(),
            mandate_id: rng.hex_after("MNDT", 8),
            date_of_signature: ts(-Duration::days(30 + rng.below(700) as i64)),
            max_amount: Some(pb::Money {
                minor_units: cx.amount.minor_units * 2,
                currency: cx.amount.currency.clone(),
            }),
            frequency: "MONTHLY".into(),
            sequence_type: (*rng.pick(&["RCUR", "RCUR", "RCUR", "FRST"])).into(),
            collection_date: ts(Duration::days(2)),
            creditor_id: rng.hex_after("CRED", 8),
        }),
        T::StandingOrder => Details::StandingOrder(pb::StandingOrderDetails {
            frequency: "MONTHLY".into(),
            execution_day: 1 + rng.below(28) as i32,
            start_date: ts(-Duration::days(31 * (1 + rng.below(24) as i64))),
            end_date: ts(Duration::days(365)),
            next_execution: ts(Duration::days(30)),
            previous_execution: ts(-Duration::days(30)),
            last_execution_status: "SUCCESS".into(),
        }),
        T::P2p => Details::P2p(pb::P2pDetails {
            service_provider: (*rng.pick(&["ZELLE", "ZELLE", "PAYPAL", "VENMO"])).into(),
            service_type: "INSTANT".into(),
            purpose: "PAYMENT".into(),
            message: rng.digits_after("Invoice ", 5),
            device_id: rng.hex_after("DEV", 8),
            risk_score: rng.below(60) as i32,
        }),
    })
}
