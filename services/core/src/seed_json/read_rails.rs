//! Seed JSON → rail-specific `details`: the seed writes rail fields at the top level and again
//! in `type_specific_data`; the top-level value wins and nothing else is lost.

use super::TYPE_SPECIFIC_ATTRIBUTE_PREFIX;
use super::read::{Obj, Reader, payment_currency, scalar_text};
use crate::pb::Timestamp;
use crate::pb::{self, payment::Details};
use serde_json::Value;

impl Reader {
    pub(super) fn details(
        &mut self,
        payment_type: pb::PaymentType,
        root: &Obj,
        metadata: &mut Option<pb::Metadata>,
    ) -> Option<Details> {
        let empty = Obj::new();
        let tsd = self
            .object(root, "type_specific_data", "")
            .unwrap_or(&empty);
        let mut rail = Rail {
            root,
            tsd,
            used: Vec::new(),
        };
        let details = match payment_type {
            pb::PaymentType::Unspecified => return None,
            pb::PaymentType::Ach => Details::Ach(self.ach(&mut rail)),
            pb::PaymentType::Wire => Details::Wire(self.wire(&mut rail)),
            pb::PaymentType::Rtp => Details::Rtp(self.rtp(&mut rail)),
            pb::PaymentType::Check => Details::Check(pb::CheckDetails {
                check_number: self.rail_string(&mut rail, &["check_number"]),
                check_type: self.rail_string(&mut rail, &["check_type"]),
                presentation_type: self.rail_string(&mut rail, &["presentation_type"]),
                capture_type: self.rail_string(&mut rail, &["capture_type"]),
                memo: self.rail_string(&mut rail, &["memo"]),
                image_reference: self.rail_string(&mut rail, &["image_data", "image_reference"]),
            }),
            pb::PaymentType::Sepa => Details::Sepa(pb::SepaDetails {
                scheme: self.rail_string(&mut rail, &["scheme"]),
                instruction_id: self.rail_string(&mut rail, &["instruction_id"]),
                service_level: self.rail_string(&mut rail, &["service_level"]),
                local_instrument: self.rail_string(&mut rail, &["local_instrument"]),
                category_purpose: self.rail_string(&mut rail, &["category_purpose"]),
            }),
            pb::PaymentType::Card => Details::Card(pb::CardDetails {
                card_present: rail
                    .pick(&["card_present"])
                    .map(|(o, k)| self.bool(o, k, "card_present"))
                    .unwrap_or(false),
                entry_mode: self.rail_string(&mut rail, &["entry_mode"]),
                auth_type: self.rail_string(&mut rail, &["auth_type"]),
                terminal_id: self.rail_string(&mut rail, &["terminal_id"]),
                merchant_id: self.rail_string(&mut rail, &["merchant_id"]),
                pan_last4: self.rail_string(&mut rail, &["pan_last_4", "pan_last4"]),
                card_type: self.rail_string(&mut rail, &["card_type"]),
                network: self.rail_string(&mut rail, &["network"]),
                auth_code: self.rail_string(&mut rail, &["auth_code"]),
            }),
            pb::PaymentType::DirectDebit => Details::DirectDebit(self.direct_debit(&mut rail)),
            pb::PaymentType::StandingOrder => Details::StandingOrder(pb::StandingOrderDetails {
                frequency: self.rail_string(&mut rail, &["frequency"]),
                execution_day: rail
                    .pick(&["execution_day"])
                    .map(|(o, k)| self.int_as::<i32>(o, k, ""))
                    .unwrap_or(0),
                start_date: self.rail_instant(&mut rail, &["start_date"]),
                end_date: self.rail_instant(&mut rail, &["end_date"]),
                next_execution: self.rail_instant(&mut rail, &["next_execution"]),
                previous_execution: self.rail_instant(&mut rail, &["previous_execution"]),
                last_execution_status: self.rail_string(&mut rail, &["last_execution_status"]),
            }),
            pb::PaymentType::P2p => Details::P2p(pb::P2pDetails {
                service_provider: self.rail_string(&mut rail, &["service_provider"]),
                service_type: self.rail_string(&mut rail, &["service_type"]),
                purpose: self.rail_string(&mut rail, &["purpose"]),
                message: self.rail_string(&mut rail, &["message"]),
                device_id: self.rail_string(&mut rail, &["device_id"]),
                risk_score: rail
                    .pick(&["risk_score"])
                    .map(|(o, k)| self.int_as::<i32>(o, k, ""))
                    .unwrap_or(0),
            }),
        };
        keep_unused_type_specific(&rail, metadata);
        Some(details)
    }

    fn rail_string(&mut self, rail: &mut Rail<'_>, keys: &[&'static str]) -> String {
        rail.pick(keys)
            .map(|(obj, key)| self.string(obj, key, ""))
            .unwrap_or_default()
    }

    fn rail_instant(&mut self, rail: &mut Rail<'_>, keys: &[&'static str]) -> Option<Timestamp> {
        rail.pick(keys)
            .and_then(|(obj, key)| self.instant(obj, key, ""))
    }

    fn ach(&mut self, rail: &mut Rail<'_>) -> pb::AchDetails {
        let mut addenda = Vec::new();
        let mut push = |r: &mut Self, a: &Obj| {
            addenda.push(pb::AchAddenda {
                type_code: r.string(a, "type_code", "addenda"),
                payment_related_info: r.string(a, "payment_related_info", "addenda"),
            })
        };
        match rail.pick(&["addenda"]).and_then(|(o, k)| o.get(k)) {
            Some(Value::Object(a)) => push(self, a),
            Some(Value::Array(items)) => {
                for item in items {
                    match item.as_object() {
                        Some(a) => push(self, a),
                        None => self.error("addenda", "each addenda must be an object"),
                    }
                }
            }
            _ => {}
        }
        pb::AchDetails {
            sec_code: self.rail_string(rail, &["sec_code"]),
            batch_id: self.rail_string(rail, &["batch_id"]),
            addenda,
            company_entry_description: self.rail_string(rail, &["company_entry_description"]),
            return_reason_code: self.rail_string(rail, &["return_reason_code"]),
        }
    }

    fn wire(&mut self, rail: &mut Rail<'_>) -> pb::WireDetails {
        let wire_type = rail.pick(&["wire_type"]).map_or(0, |(o, k)| {
            self.enumeration(o, k, "", "WIRE_SCOPE_", |n| {
                pb::WireScope::from_str_name(n).map(|t| t as i32)
            })
        });
        let charges = rail
            .pick(&["charges"])
            .and_then(|(o, k)| self.object(o, k, ""));
        let bearer_from_charges = charges
            .map(|c| self.string(c, "type", "charges"))
            .unwrap_or_default();
        let bearer_text = if bearer_from_charges.is_empty() {
            self.rail_string(rail, &["charges_instruction"])
        } else {
            // Consumed only when it agrees; a differing value is kept with the other
            // type_specific_data values that have no field of their own.
            if rail.tsd.get("charges_instruction").and_then(Value::as_str)
                == Some(bearer_from_charges.as_str())
            {
                rail.used.push("charges_instruction");
            }
            bearer_from_charges
        };
        let charge_bearer = if bearer_text.is_empty() {
            0
        } else {
            pb::ChargeBearer::from_str_name(&format!(
                "CHARGE_BEARER_{}",
                bearer_text.to_ascii_uppercase()
            ))
            .map(|b| b as i32)
            .unwrap_or_else(|| {
                self.error(
                    "charges.type",
                    format!("unknown charge bearer {bearer_text:?}"),
                );
                0
            })
        };
        let currency = payment_currency(rail.root);
        let charges_currency = charges
            .and_then(|c| c.get("currency"))
            .and_then(Value::as_str)
            .map(|c| c.trim().to_ascii_uppercase())
            .unwrap_or(currency);
        let charges_money =
            charges.and_then(|c| self.money(c.get("amount"), &charges_currency, "charges.amount"));
        let intermediary = match rail
            .pick(&["intermediary_bank"])
            .and_then(|(o, k)| o.get(k))
        {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Object(bank)) => self.string(bank, "bic", "intermediary_bank"),
            _ => String::new(),
        };
        pb::WireDetails {
            wire_type,
            message_type: self.rail_string(rail, &["message_type"]),
            intermediary_bank_bic: intermediary,
            charge_bearer,
            charges: charges_money,
            imad: self.rail_string(rail, &["imad"]),
        }
    }

    fn rtp(&mut self, rail: &mut Rail<'_>) -> pb::RtpDetails {
        let confirmation = rail
            .pick(&["confirmation"])
            .and_then(|(o, k)| self.object(o, k, ""));
        let timing = rail
            .pick(&["timing"])
            .and_then(|(o, k)| self.object(o, k, ""));
        pb::RtpDetails {
            clearing_system: self.rail_string(rail, &["clearing_system"]),
            settlement_method: self.rail_string(rail, &["settlement_method"]),
            processing_mode: self.rail_string(rail, &["processing_mode"]),
            confirmation_id: confirmation
                .map(|c| self.string(c, "confirmation_id", "confirmation"))
                .unwrap_or_default(),
            confirmation_timestamp: confirmation
                .and_then(|c| self.instant(c, "confirmation_timestamp", "confirmation")),
            settlement_confirmation: confirmation
                .map(|c| self.string(c, "settlement_confirmation", "confirmation"))
                .unwrap_or_default(),
            // The first commit's `submission_timestamp`, or the newest generator's
            // `submission_time`.
            submission_timestamp: timing.and_then(|t| {
                self.instant(t, "submission_timestamp", "timing")
                    .or_else(|| self.instant(t, "submission_time", "timing"))
            }),
            settlement_timestamp: timing
                .and_then(|t| self.instant(t, "settlement_timestamp", "timing")),
            expiry_timestamp: timing.and_then(|t| self.instant(t, "expiry_timestamp", "timing")),
            confirmation_required: confirmation
                .filter(|c| c.contains_key("required"))
                .map(|c| self.bool(c, "required", "confirmation"))
                .unwrap_or(false),
            confirmation_window_minutes: confirmation
                .filter(|c| c.contains_key("window_minutes"))
                .map(|c| self.int_as::<u32>(c, "window_minutes", "confirmation"))
                .unwrap_or(0),
            expected_settlement_timestamp: timing
                .and_then(|t| self.instant(t, "expected_settlement_time", "timing")),
        }
    }

    fn direct_debit(&mut self, rail: &mut Rail<'_>) -> pb::DirectDebitDetails {
        let currency = payment_currency(rail.root);
        let max_amount = rail
            .pick(&["max_amount"])
            .and_then(|(o, k)| self.money(o.get(k), &currency, "max_amount"));
        pb::DirectDebitDetails {
            scheme_type: self.rail_string(rail, &["scheme_type"]),
            mandate_id: self.rail_string(rail, &["mandate_id"]),
            date_of_signature: self.rail_instant(rail, &["date_of_signature"]),
            max_amount,
            frequency: self.rail_string(rail, &["frequency"]),
            sequence_type: self.rail_string(rail, &["sequence_type", "recurring_type"]),
            collection_date: self.rail_instant(rail, &["collection_date"]),
            creditor_id: self.rail_string(rail, &["creditor_id"]),
        }
    }
}

/// The rail fields of one seed payment: top level first, then `type_specific_data`.
struct Rail<'a> {
    root: &'a Obj,
    tsd: &'a Obj,
    /// `type_specific_data` keys whose value went into a model field.
    used: Vec<&'static str>,
}

impl<'a> Rail<'a> {
    /// The object and key holding the first of `keys` present, top level before
    /// `type_specific_data`; records which `type_specific_data` keys were consumed.
    fn pick(&mut self, keys: &[&'static str]) -> Option<(&'a Obj, &'static str)> {
        let present = |o: &Obj, k: &str| o.get(k).is_some_and(|v| !v.is_null());
        let found = keys
            .iter()
            .find(|k| present(self.root, k))
            .map(|k| (self.root, *k))
            .or_else(|| {
                keys.iter()
                    .find(|k| present(self.tsd, k))
                    .map(|k| (self.tsd, *k))
            });
        if let Some((obj, key)) = found
            && std::ptr::eq(obj, self.tsd)
        {
            self.used.push(key);
        }
        found
    }
}

/// Keeps every `type_specific_data` value that is not already in the payment: keys without
/// a model field, and values that differ from the top-level value that won (an empty list
/// beside a filled one included, so it comes back as it was).
fn keep_unused_type_specific(rail: &Rail<'_>, metadata: &mut Option<pb::Metadata>) {
    for (key, value) in rail.tsd {
        let held_at_top = rail
            .root
            .get(key)
            .is_some_and(|top| contained_in(value, top));
        if value.is_null() || rail.used.contains(&key.as_str()) || held_at_top {
            continue;
        }
        metadata
            .get_or_insert_with(Default::default)
            .attributes
            .insert(
                format!("{TYPE_SPECIFIC_ATTRIBUTE_PREFIX}{key}"),
                scalar_text(value),
            );
    }
}

/// Whether `part` says nothing `whole` does not: equal, or an object each of whose members
/// `whole` has with a value that contains it.
fn contained_in(part: &Value, whole: &Value) -> bool {
    match (part, whole) {
        (Value::Object(part), Value::Object(whole)) => part
            .iter()
            .all(|(k, v)| whole.get(k).is_some_and(|w| contained_in(v, w))),
        _ => part == whole,
    }
}
