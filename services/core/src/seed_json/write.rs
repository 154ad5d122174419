//! `Payment` → seed JSON, in the seed's layout (rail fields at the top level and repeated in
//! `type_specific_data`), so tools written for the Python system read our output.

use super::TYPE_SPECIFIC_ATTRIBUTE_PREFIX;
use super::unmodeled::restore;
use crate::money::minor_units_to_json_number;
use crate::names::{bare_name, seed_type_name, status_name};
use crate::pb::Timestamp;
use crate::pb::{self, payment::Details};
use crate::time::format_seed_instant;
use serde_json::{Map, Value, json};

/// The seed's JSON for `payment`. Amounts are JSON numbers in major units, as the seed
/// writes them; timestamps are zone-less UTC with microseconds; the source document's
/// unmodeled members are back where they were.
pub fn to_seed(payment: &pb::Payment) -> Value {
    let currency = payment
        .amount
        .as_ref()
        .map(|a| a.currency.as_str())
        .unwrap_or_default();
    let mut root = Map::new();
    root.insert("payment_id".into(), json!(payment.payment_id));
    root.insert(
        "payment_type".into(),
        json!(seed_type_name(payment.payment_type())),
    );
    root.insert("version".into(), json!(payment.schema_version));
    root.insert("revision".into(), json!(payment.revision));
    root.insert("created_at".into(), instant(payment.created_at.as_ref()));
    root.insert("updated_at".into(), instant(payment.updated_at.as_ref()));
    root.insert("status".into(), json!(status_name(payment.status())));
    root.insert(
        "amount".into(),
        json!({
            "value": payment.amount.as_ref().map(|a| minor_units_to_json_number(a.minor_units, currency)),
            "currency": currency,
            "exchange_info": payment.exchange_info.as_ref().map(|fx| json!({
                "source_currency": fx.source_currency,
                "target_currency": fx.target_currency,
                "rate": fx.rate,
                "source_amount": fx.source_amount.as_ref().map(|m| minor_units_to_json_number(m.minor_units, &m.currency)),
            })),
        }),
    );
    root.insert("originator".into(), party(payment.originator.as_ref()));
    root.insert("beneficiary".into(), party(payment.beneficiary.as_ref()));
    root.insert("processing".into(), processing(payment.processing.as_ref()));
    root.insert("references".into(), references(payment.references.as_ref()));
    root.insert(
        "remittance_info".into(),
        remittance(payment.remittance_info.as_ref()),
    );
    root.insert("regulatory".into(), regulatory(payment.regulatory.as_ref()));
    let (metadata, tsd_extra) = metadata(payment.metadata.as_ref());
    root.insert("metadata".into(), metadata);
    let rail = details(payment.details.as_ref(), currency);
    let mut tsd = rail.clone();
    // The seed's wires also name the charge bearer in type_specific_data.
    if let Some(Details::Wire(w)) = &payment.details {
        tsd.insert(
            "charges_instruction".into(),
            json!(bare_name(w.charge_bearer().as_str_name(), "CHARGE_BEARER_")),
        );
    }
    tsd.extend(tsd_extra);
    root.insert("type_specific_data".into(), Value::Object(tsd));
    root.extend(rail);
    if let Some(s) = &payment.scenario {
        root.insert(
            "scenario".into(),
            json!({
                "typology": bare_name(s.typology().as_str_name(), "TYPOLOGY_"),
                "scenario_id": s.scenario_id,
                "originator_role": s.originator_role,
                "beneficiary_role": s.beneficiary_role,
                "scenario_size": s.scenario_size,
            }),
        );
    }
    if !payment.warnings.is_empty() {
        root.insert(
            "warnings".into(),
            payment
                .warnings
                .iter()
                .map(|w| json!({"field": w.field, "description": w.description}))
                .collect(),
        );
    }
    let mut document = Value::Object(root);
    restore(&mut document, &payment.unmodeled);
    document
}

fn instant(ts: Option<&Timestamp>) -> Value {
    ts.map_or(Value::Null, |t| json!(format_seed_instant(t)))
}

fn party(party: Option<&pb::Party>) -> Value {
    let Some(p) = party else { return Value::Null };
    let account = p.account.as_ref().map(|a| {
        let mut acc = json!({
            "account_id": a.account_id,
            "account_type": bare_name(a.account_type().as_str_name(), "ACCOUNT_TYPE_"),
            "routing_info": a.routing_info.as_ref().map(|r| json!({
                "type": bare_name(r.r#type().as_str_name(), "ROUTING_TYPE_"),
                "value": r.value,
            })),
        });
        for (key, value) in [("iban", &a.iban), ("bic", &a.bic)] {
            if !value.is_empty() {
                acc[key] = json!(value);
            }
        }
        acc
    });
    json!({
        "party_type": bare_name(p.party_type().as_str_name(), "PARTY_TYPE_"),
        "party_id": p.party_id,
        "name": p.name,
        "account_info": account,
        "contact_info": {
            "address": p.address.as_ref().map(|a| json!({
                "street": a.street, "city": a.city, "state": a.state,
                "postal_code": a.postal_code, "country": a.country,
            })),
            "electronic": {"email": p.email, "phone": p.phone},
        },
    })
}

fn processing(p: Option<&pb::ProcessingInfo>) -> Value {
    let Some(p) = p else { return Value::Null };
    json!({
        "priority": bare_name(p.priority().as_str_name(), "PRIORITY_"),
        "processing_window": bare_name(p.processing_window().as_str_name(), "PROCESSING_WINDOW_"),
        "submission_date": instant(p.submission_date.as_ref()),
        "effective_date": instant(p.effective_date.as_ref()),
        "settlement_date": instant(p.settlement_date.as_ref()),
        "status_tracking": {
            // Unset stays unset (null), as a seed document without one reads back.
            "current_status": (p.current_status() != pb::PaymentStatus::Unspecified)
                .then(|| status_name(p.current_status())),
            "status_history": p.status_history.iter().map(|c| json!({
                "status": status_name(c.status()),
                "timestamp": instant(c.changed_at.as_ref()),
                "reason": c.reason,
            })).collect::<Vec<_>>(),
        },
    })
}

/// The references the seed writes, in its order, with their member names; empty ones are left
/// out.
pub(super) fn reference_fields(r: &pb::References) -> [(&'static str, &String); 8] {
    [
        ("end_to_end_id", &r.end_to_end_id),
        ("transaction_id", &r.transaction_id),
        ("instruction_id", &r.instruction_id),
        ("mandate_id", &r.mandate_id),
        ("check_number", &r.check_number),
        ("sender_reference", &r.sender_reference),
        ("standing_order_id", &r.standing_order_id),
        ("beneficiary_reference", &r.beneficiary_reference),
    ]
}

fn references(r: Option<&pb::References>) -> Value {
    let Some(r) = r else { return Value::Null };
    let mut out = Map::new();
    for (key, value) in reference_fields(r) {
        if !value.is_empty() {
            out.insert(key.into(), json!(value));
        }
    }
    Value::Object(out)
}

fn remittance(r: Option<&pb::RemittanceInfo>) -> Value {
    let Some(r) = r else { return Value::Null };
    let mut out = json!({"type": bare_name(r.r#type().as_str_name(), "REMITTANCE_TYPE_")});
    for (key, value) in [
        ("purpose_code", &r.purpose_code),
        ("description", &r.description),
        ("creditor_reference", &r.creditor_reference),
    ] {
        if !value.is_empty() {
            out[key] = json!(value);
        }
    }
    out
}

fn regulatory(r: Option<&pb::Regulatory>) -> Value {
    let Some(r) = r else { return Value::Null };
    let checks: Map<String, Value> = r
        .compliance_checks
        .iter()
        .map(|c| (c.name.clone(), json!({"status": c.status})))
        .collect();
    let mut out = json!({"compliance_checks": checks});
    if let Some(rep) = &r.reporting {
        out["reporting"] = json!({"authority_name": rep.authority_name, "details": rep.details});
    }
    out
}

/// The seed's metadata, and the kept `type_specific_data` values to put back.
fn metadata(m: Option<&pb::Metadata>) -> (Value, Map<String, Value>) {
    let Some(m) = m else {
        return (Value::Null, Map::new());
    };
    let mut out = json!({"source_system": m.source_system, "business_unit": m.business_unit});
    let mut tsd = Map::new();
    for (key, value) in &m.attributes {
        match key.strip_prefix(TYPE_SPECIFIC_ATTRIBUTE_PREFIX) {
            Some(tsd_key) => {
                tsd.insert(
                    tsd_key.to_owned(),
                    serde_json::from_str(value).unwrap_or_else(|_| json!(value)),
                );
            }
            None => out[key] = json!(value),
        }
    }
    (out, tsd)
}

fn money(m: Option<&pb::Money>) -> Value {
    m.map_or(Value::Null, |m| {
        json!(minor_units_to_json_number(m.minor_units, &m.currency))
    })
}

fn details(d: Option<&Details>, currency: &str) -> Map<String, Value> {
    let value = match d {
        None => return Map::new(),
        Some(Details::Ach(a)) => json!({
            "sec_code": a.sec_code,
            "batch_id": a.batch_id,
            "addenda": a.addenda.iter().map(|x| json!({"type_code": x.type_code, "payment_related_info": x.payment_related_info})).collect::<Vec<_>>(),
            "company_entry_description": a.company_entry_description,
            "return_reason_code": a.return_reason_code,
        }),
        Some(Details::Wire(w)) => json!({
            "wire_type": bare_name(w.wire_type().as_str_name(), "WIRE_SCOPE_"),
            "message_type": w.message_type,
            "intermediary_bank": if w.intermediary_bank_bic.is_empty() { Value::Null } else { json!(w.intermediary_bank_bic) },
            "charges": {
                "type": bare_name(w.charge_bearer().as_str_name(), "CHARGE_BEARER_"),
                "amount": money(w.charges.as_ref()),
                "currency": w.charges.as_ref().map_or(currency, |c| c.currency.as_str()),
            },
            "imad": w.imad,
        }),
        Some(Details::Rtp(r)) => json!({
            "clearing_system": r.clearing_system,
            "settlement_method": r.settlement_method,
            "processing_mode": r.processing_mode,
            "confirmation": {
                "confirmation_id": r.confirmation_id,
                "confirmation_timestamp": instant(r.confirmation_timestamp.as_ref()),
                "settlement_confirmation": r.settlement_confirmation,
                "required": r.confirmation_required,
                "window_minutes": r.confirmation_window_minutes,
            },
            "timing": {
                "submission_timestamp": instant(r.submission_timestamp.as_ref()),
                "settlement_timestamp": instant(r.settlement_timestamp.as_ref()),
                "expiry_timestamp": instant(r.expiry_timestamp.as_ref()),
                "expected_settlement_time": instant(r.expected_settlement_timestamp.as_ref()),
            },
        }),
        Some(Details::Check(c)) => json!({
            "check_number": c.check_number, "check_type": c.check_type,
            "presentation_type": c.presentation_type, "capture_type": c.capture_type,
            "memo": c.memo, "image_data": if c.image_reference.is_empty() { Value::Null } else { json!(c.image_reference) },
        }),
        Some(Details::Sepa(s)) => json!({
            "scheme": s.scheme, "instruction_id": s.instruction_id, "service_level": s.service_level,
            "local_instrument": s.local_instrument, "category_purpose": s.category_purpose,
        }),
        Some(Details::Card(c)) => json!({
            "card_present": c.card_present, "entry_mode": c.entry_mode, "auth_type": c.auth_type,
            "terminal_id": c.terminal_id, "merchant_id": c.merchant_id, "pan_last_4": c.pan_last4,
            "card_type": c.card_type, "network": c.network, "auth_code": c.auth_code,
        }),
        Some(Details::DirectDebit(d)) => json!({
            "scheme_type": d.scheme_type, "mandate_id": d.mandate_id,
            "date_of_signature": instant(d.date_of_signature.as_ref()),
            "max_amount": money(d.max_amount.as_ref()), "frequency": d.frequency,
            "sequence_type": d.sequence_type, "collection_date": instant(d.collection_date.as_ref()),
            "creditor_id": d.creditor_id,
        }),
        Some(Details::StandingOrder(s)) => json!({
            "frequency": s.frequency, "execution_day": s.execution_day,
            "start_date": instant(s.start_date.as_ref()), "end_date": instant(s.end_date.as_ref()),
            "next_execution": instant(s.next_execution.as_ref()),
            "previous_execution": instant(s.previous_execution.as_ref()),
            "last_execution_status": s.last_execution_status,
        }),
        Some(Details::P2p(p)) => json!({
            "service_provider": p.service_provider, "service_type": p.service_type, "purpose": p.purpose,
            "message": p.message, "device_id": p.device_id, "risk_score": p.risk_score,
        }),
    };
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
