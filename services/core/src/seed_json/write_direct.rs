//! The seed's JSON of a payment written straight to bytes: the document [`to_seed`] builds,
//! its members in the seed's order, without building the `serde_json::Value` tree first (the
//! tree's many small allocations were most of the cost of writing seed JSON).
//!
//! Payments that carry what only the tree handles (members the model does not hold, kept
//! `type_specific_data` values, metadata attributes named like the two metadata fields) are
//! written through [`to_seed`]; [`write_seed_json`] chooses.

use super::TYPE_SPECIFIC_ATTRIBUTE_PREFIX;
use super::to_seed;
use crate::compact_json::{write_compact_json, write_json_string};
use crate::money::minor_units_to_json_number;
use crate::names::{bare_name, seed_type_name, status_name};
use crate::pb::Timestamp;
use crate::pb::{self, payment::Details};
use crate::time::format_seed_instant;
use serde::Serialize;

/// Appends the seed's compact JSON of `payment` to `out`: the document [`to_seed`] gives, its
/// members in the order the seed wrote them. The same payment always gives the same bytes.
pub fn write_seed_json(payment: &pb::Payment, out: &mut Vec<u8>) {
    if needs_tree(payment) {
        // A `Value` always serializes.
        let _ = serde_json::to_writer(&mut *out, &to_seed(payment));
    } else {
        document(payment, out);
    }
}

/// Whether the payment holds something only [`to_seed`]'s tree puts in place.
fn needs_tree(payment: &pb::Payment) -> bool {
    !payment.unmodeled.is_empty()
        || payment.metadata.as_ref().is_some_and(|m| {
            m.attributes.keys().any(|k| {
                k.starts_with(TYPE_SPECIFIC_ATTRIBUTE_PREFIX)
                    || k == "source_system"
                    || k == "business_unit"
            })
        })
}

/// An object being written: its members, comma-separated.
struct Object<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Object<'a> {
    fn open(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        Self { out, first: true }
    }

    /// Writes `"key":` and hands back the output for the value.
    fn key(&mut self, key: &str) -> &mut Vec<u8> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        write_json_string(self.out, key);
        self.out.push(b':');
        self.out
    }

    fn entry(&mut self, key: &str, v: impl Serialize) {
        value(self.key(key), v);
    }

    fn close(self) {
        self.out.push(b'}');
    }
}

/// A list of objects, each item's members written by `members`.
fn objects<T>(out: &mut Vec<u8>, items: &[T], members: impl Fn(&mut Object<'_>, &T)) {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let mut object = Object::open(out);
        members(&mut object, item);
        object.close();
    }
    out.push(b']');
}

/// Any scalar, as serde_json writes it ([`write_compact_json`]: strings, the most of a
/// document, are checked for escapes a word at a time, where serde_json goes byte by byte).
fn value(out: &mut Vec<u8>, v: impl Serialize) {
    // Strings, numbers, booleans and null always serialize.
    let _ = write_compact_json(&v, out);
}

fn instant(out: &mut Vec<u8>, ts: Option<&Timestamp>) {
    match ts {
        Some(ts) => write_json_string(out, &format_seed_instant(ts)),
        None => out.extend_from_slice(b"null"),
    }
}

fn money(out: &mut Vec<u8>, m: Option<&pb::Money>) {
    value(
        out,
        m.map(|m| minor_units_to_json_number(m.minor_units, &m.currency)),
    );
}

fn document(payment: &pb::Payment, out: &mut Vec<u8>) {
    let currency = payment
        .amount
        .as_ref()
        .map(|a| a.currency.as_str())
        .unwrap_or_default();
    let mut root = Object::open(out);
    root.entry("payment_id", &payment.payment_id);
    root.entry("payment_type", seed_type_name(payment.payment_type()));
    root.entry("version", &payment.schema_version);
    root.entry("revision", payment.revision);
    instant(root.key("created_at"), payment.created_at.as_ref());
    instant(root.key("updated_at"), payment.updated_at.as_ref());
    root.entry("status", status_name(payment.status()));
    {
        let mut amount = Object::open(root.key("amount"));
        amount.entry(
            "value",
            payment
                .amount
                .as_ref()
                .map(|a| minor_units_to_json_number(a.minor_units, currency)),
        );
        amount.entry("currency", currency);
        match &payment.exchange_info {
            None => amount.entry("exchange_info", ()),
            Some(fx) => {
                let mut o = Object::open(amount.key("exchange_info"));
                o.entry("source_currency", &fx.source_currency);
                o.entry("target_currency", &fx.target_currency);
                o.entry("rate", &fx.rate);
                money(o.key("source_amount"), fx.source_amount.as_ref());
                o.close();
            }
        }
        amount.close();
    }
    party(root.key("originator"), payment.originator.as_ref());
    party(root.key("beneficiary"), payment.beneficiary.as_ref());
    processing(root.key("processing"), payment.processing.as_ref());
    references(root.key("references"), payment.references.as_ref());
    remittance(
        root.key("remittance_info"),
        payment.remittance_info.as_ref(),
    );
    regulatory(root.key("regulatory"), payment.regulatory.as_ref());
    metadata(root.key("metadata"), payment.metadata.as_ref());
    {
        let mut tsd = Object::open(root.key("type_specific_data"));
        rail(&mut tsd, payment.details.as_ref(), currency);
        if let Some(Details::Wire(w)) = &payment.details {
            tsd.entry(
                "charges_instruction",
                bare_name(w.charge_bearer().as_str_name(), "CHARGE_BEARER_"),
            );
        }
        tsd.close();
    }
    rail(&mut root, payment.details.as_ref(), currency);
    if let Some(s) = &payment.scenario {
        let mut o = Object::open(root.key("scenario"));
        o.entry(
            "typology",
            bare_name(s.typology().as_str_name(), "TYPOLOGY_"),
        );
        o.entry("scenario_id", &s.scenario_id);
        o.entry("originator_role", &s.originator_role);
        o.entry("beneficiary_role", &s.beneficiary_role);
        o.entry("scenario_size", s.scenario_size);
        o.close();
    }
    if !payment.warnings.is_empty() {
        objects(root.key("warnings"), &payment.warnings, |o, w| {
            o.entry("field", &w.field);
            o.entry("description", &w.description);
        });
    }
    root.close();
}

fn party(out: &mut Vec<u8>, party: Option<&pb::Party>) {
    let Some(p) = party else {
        return value(out, ());
    };
    let mut o = Object::open(out);
    o.entry(
        "party_type",
        bare_name(p.party_type().as_str_name(), "PARTY_TYPE_"),
    );
    o.entry("party_id", &p.party_id);
    o.entry("name", &p.name);
    match &p.account {
        None => o.entry("account_info", ()),
        Some(a) => {
            let mut acc = Object::open(o.key("account_info"));
            acc.entry("account_id", &a.account_id);
            acc.entry(
                "account_type",
                bare_name(a.account_type().as_str_name(), "ACCOUNT_TYPE_"),
            );
            match &a.routing_info {
                None => acc.entry("routing_info", ()),
                Some(r) => {
                    let mut ri = Object::open(acc.key("routing_info"));
                    ri.entry("type", bare_name(r.r#type().as_str_name(), "ROUTING_TYPE_"));
                    ri.entry("value", &r.value);
                    ri.close();
                }
            }
            for (key, v) in [("iban", &a.iban), ("bic", &a.bic)] {
                if !v.is_empty() {
                    acc.entry(key, v);
                }
            }
            acc.close();
        }
    }
    {
        let mut contact = Object::open(o.key("contact_info"));
        match &p.address {
            None => contact.entry("address", ()),
            Some(a) => {
                let mut ad = Object::open(contact.key("address"));
                ad.entry("street", &a.street);
                ad.entry("city", &a.city);
                ad.entry("state", &a.state);
                ad.entry("postal_code", &a.postal_code);
                ad.entry("country", &a.country);
                ad.close();
            }
        }
        let mut electronic = Object::open(contact.key("electronic"));
        electronic.entry("email", &p.email);
        electronic.entry("phone", &p.phone);
        electronic.close();
        contact.close();
    }
    o.close();
}

fn processing(out: &mut Vec<u8>, p: Option<&pb::ProcessingInfo>) {
    let Some(p) = p else {
        return value(out, ());
    };
    let mut o = Object::open(out);
    o.entry(
        "priority",
        bare_name(p.priority().as_str_name(), "PRIORITY_"),
    );
    o.entry(
        "processing_window",
        bare_name(p.processing_window().as_str_name(), "PROCESSING_WINDOW_"),
    );
    instant(o.key("submission_date"), p.submission_date.as_ref());
    instant(o.key("effective_date"), p.effective_date.as_ref());
    instant(o.key("settlement_date"), p.settlement_date.as_ref());
    {
        let mut tracking = Object::open(o.key("status_tracking"));
        tracking.entry(
            "current_status",
            (p.current_status() != pb::PaymentStatus::Unspecified)
                .then(|| status_name(p.current_status())),
        );
        objects(
            tracking.key("status_history"),
            &p.status_history,
            |change, c| {
                change.entry("status", status_name(c.status()));
                instant(change.key("timestamp"), c.changed_at.as_ref());
                change.entry("reason", &c.reason);
            },
        );
        tracking.close();
    }
    o.close();
}

fn references(out: &mut Vec<u8>, r: Option<&pb::References>) {
    let Some(r) = r else {
        return value(out, ());
    };
    let mut o = Object::open(out);
    for (key, v) in super::write::reference_fields(r) {
        if !v.is_empty() {
            o.entry(key, v);
        }
    }
    o.close();
}

fn remittance(out: &mut Vec<u8>, r: Option<&pb::RemittanceInfo>) {
    let Some(r) = r else {
        return value(out, ());
    };
    let mut o = Object::open(out);
    o.entry(
        "type",
        bare_name(r.r#type().as_str_name(), "REMITTANCE_TYPE_"),
    );
    for (key, v) in [
        ("purpose_code", &r.purpose_code),
        ("description", &r.description),
        ("creditor_reference", &r.creditor_reference),
    ] {
        if !v.is_empty() {
            o.entry(key, v);
        }
    }
    o.close();
}

fn regulatory(out: &mut Vec<u8>, r: Option<&pb::Regulatory>) {
    let Some(r) = r else {
        return value(out, ());
    };
    let mut o = Object::open(out);
    {
        // A name given twice keeps its first place and its last status, as a map does.
        let mut checks = Object::open(o.key("compliance_checks"));
        for (i, c) in r.compliance_checks.iter().enumerate() {
            if r.compliance_checks[..i].iter().any(|e| e.name == c.name) {
                continue;
            }
            let last = r
                .compliance_checks
                .iter()
                .rev()
                .find(|e| e.name == c.name)
                .unwrap_or(c);
            let mut check = Object::open(checks.key(&c.name));
            check.entry("status", &last.status);
            check.close();
        }
        checks.close();
    }
    if let Some(rep) = &r.reporting {
        let mut reporting = Object::open(o.key("reporting"));
        reporting.entry("authority_name", &rep.authority_name);
        reporting.entry("details", &rep.details);
        reporting.close();
    }
    o.close();
}

fn metadata(out: &mut Vec<u8>, m: Option<&pb::Metadata>) {
    let Some(m) = m else {
        return value(out, ());
    };
    let mut o = Object::open(out);
    o.entry("source_system", &m.source_system);
    o.entry("business_unit", &m.business_unit);
    for (key, v) in &m.attributes {
        o.entry(key, v);
    }
    o.close();
}

/// The rail's own members, into `o` (type_specific_data, then the top level).
fn rail(o: &mut Object<'_>, details: Option<&Details>, currency: &str) {
    match details {
        None => {}
        Some(Details::Ach(a)) => {
            o.entry("sec_code", &a.sec_code);
            o.entry("batch_id", &a.batch_id);
            objects(o.key("addenda"), &a.addenda, |addendum, x| {
                addendum.entry("type_code", &x.type_code);
                addendum.entry("payment_related_info", &x.payment_related_info);
            });
            o.entry("company_entry_description", &a.company_entry_description);
            o.entry("return_reason_code", &a.return_reason_code);
        }
        Some(Details::Wire(w)) => {
            o.entry(
                "wire_type",
                bare_name(w.wire_type().as_str_name(), "WIRE_SCOPE_"),
            );
            o.entry("message_type", &w.message_type);
            o.entry(
                "intermediary_bank",
                (!w.intermediary_bank_bic.is_empty()).then_some(&w.intermediary_bank_bic),
            );
            let mut charges = Object::open(o.key("charges"));
            charges.entry(
                "type",
                bare_name(w.charge_bearer().as_str_name(), "CHARGE_BEARER_"),
            );
            money(charges.key("amount"), w.charges.as_ref());
            charges.entry(
                "currency",
                w.charges.as_ref().map_or(currency, |c| c.currency.as_str()),
            );
            charges.close();
            o.entry("imad", &w.imad);
        }
        Some(Details::Rtp(r)) => {
            o.entry("clearing_system", &r.clearing_system);
            o.entry("settlement_method", &r.settlement_method);
            o.entry("processing_mode", &r.processing_mode);
            let mut confirmation = Object::open(o.key("confirmation"));
            confirmation.entry("confirmation_id", &r.confirmation_id);
            instant(
                confirmation.key("confirmation_timestamp"),
                r.confirmation_timestamp.as_ref(),
            );
            confirmation.entry("settlement_confirmation", &r.settlement_confirmation);
            confirmation.entry("required", r.confirmation_required);
            confirmation.entry("window_minutes", r.confirmation_window_minutes);
            confirmation.close();
            let mut timing = Object::open(o.key("timing"));
            instant(
                timing.key("submission_timestamp"),
                r.submission_timestamp.as_ref(),
            );
            instant(
                timing.key("settlement_timestamp"),
                r.settlement_timestamp.as_ref(),
            );
            instant(timing.key("expiry_timestamp"), r.expiry_timestamp.as_ref());
            instant(
                timing.key("expected_settlement_time"),
                r.expected_settlement_timestamp.as_ref(),
            );
            timing.close();
        }
        Some(Details::Check(c)) => {
            o.entry("check_number", &c.check_number);
            o.entry("check_type", &c.check_type);
            o.entry("presentation_type", &c.presentation_type);
            o.entry("capture_type", &c.capture_type);
            o.entry("memo", &c.memo);
            o.entry(
                "image_data",
                (!c.image_reference.is_empty()).then_some(&c.image_reference),
            );
        }
        Some(Details::Sepa(s)) => {
            o.entry("scheme", &s.scheme);
            o.entry("instruction_id", &s.instruction_id);
            o.entry("service_level", &s.service_level);
            o.entry("local_instrument", &s.local_instrument);
            o.entry("category_purpose", &s.category_purpose);
        }
        Some(Details::Card(c)) => {
            o.entry("card_present", c.card_present);
            o.entry("entry_mode", &c.entry_mode);
            o.entry("auth_type", &c.auth_type);
            o.entry("terminal_id", &c.terminal_id);
            o.entry("merchant_id", &c.merchant_id);
            o.entry("pan_last_4", &c.pan_last4);
            o.entry("card_type", &c.card_type);
            o.entry("network", &c.network);
            o.entry("auth_code", &c.auth_code);
        }
        Some(Details::DirectDebit(d)) => {
            o.entry("scheme_type", &d.scheme_type);
            o.entry("mandate_id", &d.mandate_id);
            instant(o.key("date_of_signature"), d.date_of_signature.as_ref());
            money(o.key("max_amount"), d.max_amount.as_ref());
            o.entry("frequency", &d.frequency);
            o.entry("sequence_type", &d.sequence_type);
            instant(o.key("collection_date"), d.collection_date.as_ref());
            o.entry("creditor_id", &d.creditor_id);
        }
        Some(Details::StandingOrder(s)) => {
            o.entry("frequency", &s.frequency);
            o.entry("execution_day", s.execution_day);
            instant(o.key("start_date"), s.start_date.as_ref());
            instant(o.key("end_date"), s.end_date.as_ref());
            instant(o.key("next_execution"), s.next_execution.as_ref());
            instant(o.key("previous_execution"), s.previous_execution.as_ref());
            o.entry("last_execution_status", &s.last_execution_status);
        }
        Some(Details::P2p(p)) => {
            o.entry("service_provider", &p.service_provider);
            o.entry("service_type", &p.service_type);
            o.entry("purpose", &p.purpose);
            o.entry("message", &p.message);
            o.entry("device_id", &p.device_id);
            o.entry("risk_score", p.risk_score);
        }
    }
}
