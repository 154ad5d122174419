//! [`PaymentValidator`]: every rule a payment must meet, each failure naming its field.
//!
//! Rules are *structural* (no id, no amount, unknown type, unknown enum value: the payment
//! is meaningless without them) or *content* rules (check digits, identifier shapes, dates in
//! order), plus the [`TextLimits`] every text field keeps (no control characters, bounded
//! sizes), which are structural. Strict mode rejects on any failure; lenient mode rejects on structural failures
//! only and returns content failures as warnings to store with the payment.

use crate::identifiers::{IdentifierError, validate_aba, validate_bic, validate_iban};
use crate::money::{MAX_MINOR_UNITS, minor_unit_exponent};
use crate::pb::Timestamp;
use crate::pb::{self, payment::Details};
use crate::text_limits::TextLimits;
use crate::time::from_timestamp;
use std::fmt;

/// How strictly content rules are enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ValidationMode {
    /// Any failed rule rejects the payment.
    #[default]
    Strict,
    /// Content-rule failures become warnings; structural failures still reject.
    Lenient,
}

impl ValidationMode {
    /// The mode a request asked for; unspecified (or unknown) is strict.
    pub fn from_proto(mode: i32) -> Self {
        if mode == pb::ValidationMode::Lenient as i32 {
            Self::Lenient
        } else {
            Self::Strict
        }
    }

    /// The protobuf value of this mode.
    pub fn to_proto(self) -> pb::ValidationMode {
        match self {
            Self::Strict => pb::ValidationMode::Strict,
            Self::Lenient => pb::ValidationMode::Lenient,
        }
    }

    /// `"strict"` or `"lenient"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Strict => "strict",
            Self::Lenient => "lenient",
        }
    }
}

/// Whether a failed rule can be waived in lenient mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Never waived.
    Structural,
    /// Waived in lenient mode, and stored as a warning.
    Content,
}

/// One failed rule: the field's path in the `Payment` message and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// Field path, e.g. `originator.account.routing_info.value`.
    pub field: String,
    /// What is wrong, e.g. `ABA routing number check digit mismatch`.
    pub description: String,
    /// Whether lenient mode may waive it.
    pub severity: Severity,
}

impl FieldViolation {
    /// The violation as the warning stored with a leniently accepted payment.
    pub fn to_warning(&self) -> pb::ValidationWarning {
        pb::ValidationWarning {
            field: self.field.clone(),
            description: self.description.clone(),
        }
    }

    /// The violation as the API's `FieldViolation` message.
    pub fn to_proto(&self) -> pb::FieldViolation {
        pb::FieldViolation {
            field: self.field.clone(),
            description: self.description.clone(),
        }
    }
}

/// The verdict on one payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValidationOutcome {
    /// Accepted; `warnings` are the content rules waived in lenient mode (empty in strict).
    Accepted {
        /// Waived content failures.
        warnings: Vec<FieldViolation>,
    },
    /// Rejected; every failed rule, structural and content alike.
    Rejected {
        /// All failures, in field order.
        violations: Vec<FieldViolation>,
    },
}

/// The longest payment id accepted.
pub const MAX_PAYMENT_ID_LEN: usize = 64;

/// Checks payments against the product's rules in one mode.
#[derive(Debug, Clone, Copy, Default)]
pub struct PaymentValidator {
    mode: ValidationMode,
}

impl PaymentValidator {
    /// A validator in `mode`.
    pub fn new(mode: ValidationMode) -> Self {
        Self { mode }
    }

    /// Its mode.
    pub fn mode(&self) -> ValidationMode {
        self.mode
    }

    /// Applies every rule to `payment` and returns the verdict.
    pub fn validate(&self, payment: &pb::Payment) -> ValidationOutcome {
        let mut findings = Findings::default();
        check_payment(payment, &mut findings);
        let v = findings.0;
        let structural = v.iter().any(|f| f.severity == Severity::Structural);
        match self.mode {
            _ if v.is_empty() => ValidationOutcome::Accepted {
                warnings: Vec::new(),
            },
            ValidationMode::Lenient if !structural => ValidationOutcome::Accepted { warnings: v },
            _ => ValidationOutcome::Rejected { violations: v },
        }
    }
}

#[derive(Default)]
struct Findings(Vec<FieldViolation>);

impl Findings {
    fn structural(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.push(field, description, Severity::Structural);
    }
    fn content(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.push(field, description, Severity::Content);
    }
    fn push(
        &mut self,
        field: impl Into<String>,
        description: impl Into<String>,
        severity: Severity,
    ) {
        self.0.push(FieldViolation {
            field: field.into(),
            description: description.into(),
            severity,
        });
    }
    /// An enum field must hold a value its enum declares (protobuf lets any i32 through).
    /// The field's name is written out only when it is not (validation is on the hot path).
    fn known_enum(&mut self, field: impl fmt::Display, value: i32, known: bool) {
        if !known {
            self.structural(field.to_string(), format!("unknown enum value {value}"));
        }
    }
}

fn check_payment(p: &pb::Payment, f: &mut Findings) {
    check_payment_id(&p.payment_id, f);
    match pb::PaymentType::try_from(p.payment_type) {
        Ok(pb::PaymentType::Unspecified) => f.structural("payment_type", "is required"),
        Ok(_) => {}
        Err(_) => f.structural(
            "payment_type",
            format!("unknown payment type {}", p.payment_type),
        ),
    }
    f.known_enum(
        "status",
        p.status,
        pb::PaymentStatus::try_from(p.status).is_ok(),
    );
    if p.created_at.is_none() {
        f.structural("created_at", "is required");
    }
    check_instant("created_at", p.created_at.as_ref(), f);
    check_instant("updated_at", p.updated_at.as_ref(), f);
    check_order(
        ("created_at", p.created_at.as_ref()),
        ("updated_at", p.updated_at.as_ref()),
        f,
    );
    match &p.amount {
        None => f.structural("amount", "is required"),
        Some(amount) => check_money("amount", amount, true, f),
    }
    if let Some(fx) = &p.exchange_info {
        check_exchange(fx, f);
    }
    check_party("originator", p.originator.as_ref(), f);
    check_party("beneficiary", p.beneficiary.as_ref(), f);
    if let Some(processing) = &p.processing {
        check_processing(processing, f);
    }
    if let Some(remittance) = &p.remittance_info {
        f.known_enum(
            "remittance_info.type",
            remittance.r#type,
            pb::RemittanceType::try_from(remittance.r#type).is_ok(),
        );
    }
    check_details(p, f);
    for violation in TextLimits::check(p) {
        f.structural(violation.field, violation.description);
    }
}

fn check_payment_id(id: &str, f: &mut Findings) {
    if id.is_empty() {
        f.structural("payment_id", "is required");
    } else if id.len() > MAX_PAYMENT_ID_LEN {
        f.structural(
            "payment_id",
            format!(
                "must be at most {MAX_PAYMENT_ID_LEN} characters, got {}",
                id.len()
            ),
        );
    } else if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
    {
        f.structural(
            "payment_id",
            "may hold only letters, digits, '-', '_', '.' and ':'",
        );
    }
}

fn check_instant(field: &str, ts: Option<&Timestamp>, f: &mut Findings) {
    if let Some(ts) = ts
        && from_timestamp(ts).is_none()
    {
        f.structural(field, "is not a valid timestamp");
    }
}

/// `later` must not be before `earlier` when both are set.
fn check_order(
    earlier: (&str, Option<&Timestamp>),
    later: (&str, Option<&Timestamp>),
    f: &mut Findings,
) {
    if let (Some(a), Some(b)) = (
        earlier.1.and_then(from_timestamp),
        later.1.and_then(from_timestamp),
    ) && b < a
    {
        f.content(later.0, format!("is before {} ({b} < {a})", earlier.0));
    }
}

fn check_money(field: &str, money: &pb::Money, positive: bool, f: &mut Findings) {
    if positive && money.minor_units <= 0 {
        f.structural(
            format!("{field}.minor_units"),
            format!("must be greater than zero, got {}", money.minor_units),
        );
    } else if money.minor_units < 0 {
        f.structural(
            format!("{field}.minor_units"),
            format!("must not be negative, got {}", money.minor_units),
        );
    } else if money.minor_units > MAX_MINOR_UNITS {
        f.structural(
            format!("{field}.minor_units"),
            format!(
                "must be at most {MAX_MINOR_UNITS}, got {}",
                money.minor_units
            ),
        );
    }
    check_currency(format_args!("{field}.currency"), &money.currency, f);
}

/// `field` is written out only when the code is wrong.
fn check_currency(field: impl fmt::Display, code: &str, f: &mut Findings) {
    if code.is_empty() {
        f.structural(field.to_string(), "is required");
    } else if minor_unit_exponent(code).is_none() {
        f.structural(
            field.to_string(),
            format!("{code:?} is not an ISO 4217 currency code"),
        );
    }
}

fn check_exchange(fx: &pb::ExchangeInfo, f: &mut Findings) {
    check_currency("exchange_info.source_currency", &fx.source_currency, f);
    check_currency("exchange_info.target_currency", &fx.target_currency, f);
    if !fx.rate.is_empty()
        && !fx
            .rate
            .parse::<f64>()
            .is_ok_and(|r| r.is_finite() && r > 0.0)
    {
        f.content(
            "exchange_info.rate",
            format!("{:?} is not a positive decimal", fx.rate),
        );
    }
    if let Some(source) = &fx.source_amount {
        check_money("exchange_info.source_amount", source, true, f);
    }
}

fn check_party(side: &str, party: Option<&pb::Party>, f: &mut Findings) {
    let Some(party) = party else {
        f.structural(side, "is required");
        return;
    };
    if party.party_id.is_empty() {
        f.structural(format!("{side}.party_id"), "is required");
    }
    if party.name.trim().is_empty() {
        f.content(format!("{side}.name"), "is required");
    }
    f.known_enum(
        format_args!("{side}.party_type"),
        party.party_type,
        pb::PartyType::try_from(party.party_type).is_ok(),
    );
    if let Some(account) = &party.account {
        check_account(side, account, f);
    }
    if let Some(address) = &party.address
        && !address.country.is_empty()
        && !is_country_code(&address.country)
    {
        f.content(
            format!("{side}.address.country"),
            format!(
                "{:?} is not a two-letter country code (ISO 3166-1 alpha-2 shape)",
                address.country
            ),
        );
    }
}

fn is_country_code(code: &str) -> bool {
    code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase())
}

fn check_account(side: &str, account: &pb::Account, f: &mut Findings) {
    let at = |field: &str| format!("{side}.account.{field}");
    f.known_enum(
        format_args!("{side}.account.account_type"),
        account.account_type,
        pb::AccountType::try_from(account.account_type).is_ok(),
    );
    if let Some(routing) = &account.routing_info {
        let result = match pb::RoutingType::try_from(routing.r#type) {
            Ok(pb::RoutingType::Aba) => {
                validate_aba(&routing.value).map_err(|e| describe("ABA routing number", e))
            }
            Ok(pb::RoutingType::Swift) => {
                validate_bic(&routing.value).map_err(|e| describe("BIC", e))
            }
            Ok(pb::RoutingType::Iban) => {
                validate_iban(&routing.value).map_err(|e| describe("IBAN", e))
            }
            Ok(pb::RoutingType::Unspecified) if routing.value.is_empty() => Ok(()),
            Ok(pb::RoutingType::Unspecified) => {
                Err("routing_info.type is required when a value is given".to_owned())
            }
            Err(_) => {
                f.known_enum(at("routing_info.type"), routing.r#type, false);
                Ok(())
            }
        };
        if let Err(description) = result {
            f.content(at("routing_info.value"), description);
        }
    }
    if !account.iban.is_empty()
        && let Err(e) = validate_iban(&account.iban)
    {
        f.content(at("iban"), describe("IBAN", e));
    }
    if !account.bic.is_empty()
        && let Err(e) = validate_bic(&account.bic)
    {
        f.content(at("bic"), describe("BIC", e));
    }
}

fn describe(what: &str, error: IdentifierError) -> String {
    format!("{what} {error}")
}

fn check_processing(p: &pb::ProcessingInfo, f: &mut Findings) {
    f.known_enum(
        "processing.priority",
        p.priority,
        pb::Priority::try_from(p.priority).is_ok(),
    );
    f.known_enum(
        "processing.processing_window",
        p.processing_window,
        pb::ProcessingWindow::try_from(p.processing_window).is_ok(),
    );
    f.known_enum(
        "processing.current_status",
        p.current_status,
        pb::PaymentStatus::try_from(p.current_status).is_ok(),
    );
    for (name, ts) in [
        ("processing.submission_date", &p.submission_date),
        ("processing.effective_date", &p.effective_date),
        ("processing.settlement_date", &p.settlement_date),
    ] {
        check_instant(name, ts.as_ref(), f);
    }
    check_order(
        ("processing.submission_date", p.submission_date.as_ref()),
        ("processing.effective_date", p.effective_date.as_ref()),
        f,
    );
    check_order(
        ("processing.effective_date", p.effective_date.as_ref()),
        ("processing.settlement_date", p.settlement_date.as_ref()),
        f,
    );
    for (i, change) in p.status_history.iter().enumerate() {
        let known = pb::PaymentStatus::try_from(change.status).is_ok();
        f.known_enum(
            format_args!("processing.status_history[{i}].status"),
            change.status,
            known,
        );
    }
}

/// The rail-specific `details` must match `payment_type`; card data must never hold more
/// than the last four digits of a card number.
fn check_details(p: &pb::Payment, f: &mut Findings) {
    use pb::PaymentType as T;
    let Some(details) = &p.details else { return };
    let matches = matches!(
        (details, T::try_from(p.payment_type)),
        (Details::Ach(_), Ok(T::Ach))
            | (Details::Wire(_), Ok(T::Wire))
            | (Details::Rtp(_), Ok(T::Rtp))
            | (Details::Check(_), Ok(T::Check))
            | (Details::Sepa(_), Ok(T::Sepa))
            | (Details::Card(_), Ok(T::Card))
            | (Details::DirectDebit(_), Ok(T::DirectDebit))
            | (Details::StandingOrder(_), Ok(T::StandingOrder))
            | (Details::P2p(_), Ok(T::P2p))
    );
    if !matches {
        f.structural("details", "rail-specific details do not match payment_type");
    }
    match details {
        Details::Card(card) if !is_last_four(&card.pan_last4) => {
            f.structural(
                "card.pan_last4",
                "must be exactly the last 4 digits of the card number",
            );
        }
        Details::Wire(wire) => {
            f.known_enum(
                "wire.wire_type",
                wire.wire_type,
                pb::WireScope::try_from(wire.wire_type).is_ok(),
            );
            f.known_enum(
                "wire.charge_bearer",
                wire.charge_bearer,
                pb::ChargeBearer::try_from(wire.charge_bearer).is_ok(),
            );
            if let Some(charges) = &wire.charges {
                check_money("wire.charges", charges, false, f);
            }
            if !wire.intermediary_bank_bic.is_empty()
                && let Err(e) = validate_bic(&wire.intermediary_bank_bic)
            {
                f.content("wire.intermediary_bank_bic", describe("BIC", e));
            }
        }
        Details::DirectDebit(dd) => {
            if let Some(max) = &dd.max_amount {
                check_money("direct_debit.max_amount", max, false, f);
            }
        }
        _ => {}
    }
}

/// Empty, or exactly four digits.
fn is_last_four(digits: &str) -> bool {
    digits.is_empty() || (digits.len() == 4 && digits.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
#[path = "validation_tests.rs"]
mod tests;
