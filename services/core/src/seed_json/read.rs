//! Seed JSON → `Payment`.

use super::SeedFieldError;
use super::unmodeled::unmodeled_members;
use crate::money::decimal_to_minor_units;
use crate::names::{parse_payment_type, parse_status};
use crate::pb;
use crate::pb::Timestamp;
use crate::time::{parse_instant, to_timestamp};
use serde_json::{Map, Value};

pub(super) type Obj = Map<String, Value>;

/// Whether a JSON object is a seed payment rather than a protobuf-JSON one: the seed
/// writes `version` and a decimal `amount.value`.
pub fn is_seed_payment(value: &Value) -> bool {
    value.get("version").is_some() || value.get("amount").and_then(|a| a.get("value")).is_some()
}

/// Maps one seed payment onto the model. Every value that cannot be mapped is reported,
/// each naming its seed field; absent fields stay unset for the validator to judge. Members
/// the model does not hold are kept in `unmodeled`, so [`super::to_seed`] gives them back.
pub fn from_seed(value: &Value) -> Result<pb::Payment, Vec<SeedFieldError>> {
    let mut r = Reader::default();
    let Some(root) = value.as_object() else {
        return Err(vec![SeedFieldError {
            field: "$".into(),
            description: "must be a JSON object".into(),
        }]);
    };
    let mut payment = r.payment(root);
    if r.errors.is_empty() {
        payment.unmodeled = unmodeled_members(value, &super::to_seed(&payment));
        Ok(payment)
    } else {
        Err(r.errors)
    }
}

#[derive(Default)]
pub(super) struct Reader {
    errors: Vec<SeedFieldError>,
}

impl Reader {
    pub(super) fn error(&mut self, field: &str, description: impl Into<String>) {
        self.errors.push(SeedFieldError {
            field: field.into(),
            description: description.into(),
        });
    }

    /// A string field; numbers are accepted and written as text (seed ids are sometimes numeric).
    pub(super) fn string(&mut self, obj: &Obj, key: &str, path: &str) -> String {
        match obj.get(key) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(other) => {
                self.error(
                    &join(path, key),
                    format!("must be a string, got {}", kind(other)),
                );
                String::new()
            }
        }
    }

    pub(super) fn object<'a>(&mut self, obj: &'a Obj, key: &str, path: &str) -> Option<&'a Obj> {
        match obj.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::Object(o)) => Some(o),
            Some(other) => {
                self.error(
                    &join(path, key),
                    format!("must be an object, got {}", kind(other)),
                );
                None
            }
        }
    }

    pub(super) fn instant(&mut self, obj: &Obj, key: &str, path: &str) -> Option<Timestamp> {
        let text = self.string(obj, key, path);
        if text.is_empty() {
            return None;
        }
        let parsed = parse_instant(&text).map(to_timestamp);
        if parsed.is_none() {
            self.error(
                &join(path, key),
                format!("{text:?} is not an ISO 8601 date-time"),
            );
        }
        parsed
    }

    pub(super) fn int(&mut self, obj: &Obj, key: &str, path: &str) -> i64 {
        match obj.get(key) {
            None | Some(Value::Null) => 0,
            Some(v) => v
                .as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .unwrap_or_else(|| {
                    self.error(&join(path, key), format!("must be an integer, got {v}"));
                    0
                }),
        }
    }

    /// An integer that must fit `T` (a revision, a day of the month, a score).
    pub(super) fn int_as<T: TryFrom<i64> + Default>(
        &mut self,
        obj: &Obj,
        key: &str,
        path: &str,
    ) -> T {
        let value = self.int(obj, key, path);
        T::try_from(value).unwrap_or_else(|_| {
            self.error(&join(path, key), format!("{value} is out of range"));
            T::default()
        })
    }

    /// The ground-truth label of a generated payment, as our seed JSON writes it.
    fn scenario(&mut self, root: &Obj) -> Option<pb::ScenarioLabel> {
        let s = self.object(root, "scenario", "")?;
        let path = "scenario";
        Some(pb::ScenarioLabel {
            typology: self.enumeration(s, "typology", path, "TYPOLOGY_", |n| {
                pb::Typology::from_str_name(n).map(|t| t as i32)
            }),
            scenario_id: self.string(s, "scenario_id", path),
            originator_role: self.string(s, "originator_role", path),
            beneficiary_role: self.string(s, "beneficiary_role", path),
            scenario_size: self.int_as::<u32>(s, "scenario_size", path),
        })
    }

    /// Warnings a leniently accepted payment carried when it was written out.
    fn warnings(&mut self, root: &Obj) -> Vec<pb::ValidationWarning> {
        let Some(items) = root.get("warnings").and_then(Value::as_array) else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let path = format!("warnings[{i}]");
            match item.as_object() {
                Some(w) => out.push(pb::ValidationWarning {
                    field: self.string(w, "field", &path),
                    description: self.string(w, "description", &path),
                }),
                None => self.error(&path, "must be an object with field and description"),
            }
        }
        out
    }

    pub(super) fn bool(&mut self, obj: &Obj, key: &str, path: &str) -> bool {
        match obj.get(key) {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                self.error(
                    &join(path, key),
                    format!("must be true or false, got {}", kind(other)),
                );
                false
            }
        }
    }

    /// A decimal amount in `currency` as minor units.
    pub(super) fn money(
        &mut self,
        value: Option<&Value>,
        currency: &str,
        path: &str,
    ) -> Option<pb::Money> {
        let value = value.filter(|v| !v.is_null())?;
        let Some(number) = value
            .as_f64()
            .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
        else {
            self.error(path, format!("must be a number, got {}", kind(value)));
            return None;
        };
        match decimal_to_minor_units(number, currency) {
            Ok(minor_units) => Some(pb::Money {
                minor_units,
                currency: currency.to_owned(),
            }),
            Err(e) => {
                self.error(path, e.to_string());
                None
            }
        }
    }

    /// An enum written by its bare name (`HIGH` for `PRIORITY_HIGH`); empty is unspecified.
    pub(super) fn enumeration(
        &mut self,
        obj: &Obj,
        key: &str,
        path: &str,
        prefix: &str,
        parse: fn(&str) -> Option<i32>,
    ) -> i32 {
        let text = self.string(obj, key, path);
        if text.is_empty() {
            return 0;
        }
        let name = format!("{prefix}{}", text.trim().to_ascii_uppercase());
        parse(&name).unwrap_or_else(|| {
            self.error(&join(path, key), format!("unknown value {text:?}"));
            0
        })
    }

    fn payment(&mut self, root: &Obj) -> pb::Payment {
        let type_text = self.string(root, "payment_type", "");
        let payment_type = if type_text.is_empty() {
            pb::PaymentType::Unspecified
        } else {
            parse_payment_type(&type_text).unwrap_or_else(|| {
                self.error(
                    "payment_type",
                    format!("unknown payment type {type_text:?}"),
                );
                pb::PaymentType::Unspecified
            })
        };
        let status_text = self.string(root, "status", "");
        let status = self.status(&status_text, "status");
        let (amount, exchange_info) = self.amount(root);
        let mut metadata = self.metadata(root);
        let details = self.details(payment_type, root, &mut metadata);
        pb::Payment {
            payment_id: self.string(root, "payment_id", ""),
            payment_type: payment_type as i32,
            schema_version: self.string(root, "version", ""),
            revision: self.int_as::<u32>(root, "revision", ""),
            created_at: self.instant(root, "created_at", ""),
            updated_at: self.instant(root, "updated_at", ""),
            status,
            amount,
            exchange_info,
            originator: self.party(root, "originator"),
            beneficiary: self.party(root, "beneficiary"),
            processing: self.processing(root),
            references: self.references(root),
            remittance_info: self.remittance(root),
            regulatory: self.regulatory(root),
            metadata,
            warnings: self.warnings(root),
            scenario: self.scenario(root),
            details,
            unmodeled: Default::default(),
        }
    }

    fn status(&mut self, text: &str, field: &str) -> i32 {
        if text.is_empty() {
            return 0;
        }
        parse_status(text).map(|s| s as i32).unwrap_or_else(|| {
            self.error(field, format!("unknown status {text:?}"));
            0
        })
    }

    fn amount(&mut self, root: &Obj) -> (Option<pb::Money>, Option<pb::ExchangeInfo>) {
        let Some(amount) = self.object(root, "amount", "") else {
            return (None, None);
        };
        let currency = self
            .string(amount, "currency", "amount")
            .trim()
            .to_ascii_uppercase();
        let money = if amount.get("value").is_some_and(|v| !v.is_null()) && currency.is_empty() {
            self.error("amount.currency", "is required");
            None
        } else {
            self.money(amount.get("value"), &currency, "amount.value")
        };
        let exchange = self.object(amount, "exchange_info", "amount").map(|fx| {
            let path = "amount.exchange_info";
            let source_currency = first_nonempty([
                self.string(fx, "source_currency", path),
                self.string(fx, "from_currency", path),
            ]);
            let target_currency = first_nonempty([
                self.string(fx, "target_currency", path),
                self.string(fx, "to_currency", path),
            ]);
            let rate = match fx.get("rate").or_else(|| fx.get("exchange_rate")) {
                Some(Value::Number(n)) => n.to_string(),
                Some(Value::String(s)) => s.clone(),
                _ => String::new(),
            };
            let source_amount = self.money(
                fx.get("source_amount")
                    .or_else(|| fx.get("original_amount")),
                &source_currency,
                "amount.exchange_info.source_amount",
            );
            pb::ExchangeInfo {
                source_currency,
                target_currency,
                rate,
                source_amount,
            }
        });
        (money, exchange)
    }

    fn party(&mut self, root: &Obj, side: &str) -> Option<pb::Party> {
        let obj = self.object(root, side, "")?;
        let account = self.object(obj, "account_info", side).map(|acc| {
            let path = format!("{side}.account_info");
            let routing_info = self.object(acc, "routing_info", &path).map(|r| {
                let rpath = format!("{path}.routing_info");
                pb::RoutingInfo {
                    r#type: self.enumeration(r, "type", &rpath, "ROUTING_TYPE_", |n| {
                        pb::RoutingType::from_str_name(n).map(|t| t as i32)
                    }),
                    value: self.string(r, "value", &rpath),
                }
            });
            pb::Account {
                account_id: self.string(acc, "account_id", &path),
                account_type: self.enumeration(acc, "account_type", &path, "ACCOUNT_TYPE_", |n| {
                    pb::AccountType::from_str_name(n).map(|t| t as i32)
                }),
                routing_info,
                iban: self.string(acc, "iban", &path),
                bic: first_nonempty([
                    self.string(acc, "bic", &path),
                    self.string(acc, "swift", &path),
                ]),
            }
        });
        let contact = self.object(obj, "contact_info", side);
        let cpath = format!("{side}.contact_info");
        let address = contact
            .and_then(|c| self.object(c, "address", &cpath))
            .map(|a| {
                let apath = format!("{cpath}.address");
                pb::Address {
                    street: self.string(a, "street", &apath),
                    city: self.string(a, "city", &apath),
                    state: self.string(a, "state", &apath),
                    postal_code: self.string(a, "postal_code", &apath),
                    country: self.string(a, "country", &apath),
                }
            });
        let electronic = contact.and_then(|c| self.object(c, "electronic", &cpath));
        let epath = format!("{cpath}.electronic");
        Some(pb::Party {
            party_type: self.enumeration(obj, "party_type", side, "PARTY_TYPE_", |n| {
                pb::PartyType::from_str_name(n).map(|t| t as i32)
            }),
            party_id: self.string(obj, "party_id", side),
            name: self.string(obj, "name", side),
            account,
            address,
            email: electronic
                .map(|e| self.string(e, "email", &epath))
                .unwrap_or_default(),
            phone: electronic
                .map(|e| self.string(e, "phone", &epath))
                .unwrap_or_default(),
        })
    }

    fn processing(&mut self, root: &Obj) -> Option<pb::ProcessingInfo> {
        let p = self.object(root, "processing", "")?;
        let path = "processing";
        let tracking = self.object(p, "status_tracking", path);
        let tpath = "processing.status_tracking";
        let current = tracking
            .map(|t| self.string(t, "current_status", tpath))
            .unwrap_or_default();
        let current_status = self.status(&current, "processing.status_tracking.current_status");
        let mut status_history = Vec::new();
        if let Some(history) = tracking
            .and_then(|t| t.get("status_history"))
            .and_then(Value::as_array)
        {
            for (i, entry) in history.iter().enumerate() {
                let hpath = format!("{tpath}.status_history[{i}]");
                let Some(entry) = entry.as_object() else {
                    self.error(&hpath, "must be an object");
                    continue;
                };
                let status_text = self.string(entry, "status", &hpath);
                status_history.push(pb::StatusChange {
                    status: self.status(&status_text, &format!("{hpath}.status")),
                    changed_at: self
                        .instant(entry, "timestamp", &hpath)
                        .or_else(|| self.instant(entry, "changed_at", &hpath)),
                    reason: self.string(entry, "reason", &hpath),
                });
            }
        }
        Some(pb::ProcessingInfo {
            priority: self.enumeration(p, "priority", path, "PRIORITY_", |n| {
                pb::Priority::from_str_name(n).map(|t| t as i32)
            }),
            processing_window: self.enumeration(
                p,
                "processing_window",
                path,
                "PROCESSING_WINDOW_",
                |n| pb::ProcessingWindow::from_str_name(n).map(|t| t as i32),
            ),
            submission_date: self.instant(p, "submission_date", path),
            effective_date: self.instant(p, "effective_date", path),
            settlement_date: self.instant(p, "settlement_date", path),
            current_status,
            status_history,
        })
    }

    fn references(&mut self, root: &Obj) -> Option<pb::References> {
        let r = self.object(root, "references", "")?;
        let path = "references";
        Some(pb::References {
            end_to_end_id: self.string(r, "end_to_end_id", path),
            transaction_id: self.string(r, "transaction_id", path),
            instruction_id: self.string(r, "instruction_id", path),
            mandate_id: self.string(r, "mandate_id", path),
            check_number: self.string(r, "check_number", path),
            sender_reference: self.string(r, "sender_reference", path),
            standing_order_id: self.string(r, "standing_order_id", path),
            beneficiary_reference: self.string(r, "beneficiary_reference", path),
        })
    }

    fn remittance(&mut self, root: &Obj) -> Option<pb::RemittanceInfo> {
        let r = self.object(root, "remittance_info", "")?;
        let path = "remittance_info";
        Some(pb::RemittanceInfo {
            r#type: self.enumeration(r, "type", path, "REMITTANCE_TYPE_", |n| {
                pb::RemittanceType::from_str_name(n).map(|t| t as i32)
            }),
            purpose_code: self.string(r, "purpose_code", path),
            description: self.string(r, "description", path),
            creditor_reference: self.string(r, "creditor_reference", path),
        })
    }

    fn regulatory(&mut self, root: &Obj) -> Option<pb::Regulatory> {
        let r = self.object(root, "regulatory", "")?;
        let mut compliance_checks = Vec::new();
        if let Some(checks) = self.object(r, "compliance_checks", "regulatory") {
            for (name, check) in checks {
                let path = format!("regulatory.compliance_checks.{name}");
                let status = match check {
                    Value::Object(o) => self.string(o, "status", &path),
                    _ => {
                        self.error(&path, "must be an object with a status");
                        String::new()
                    }
                };
                compliance_checks.push(pb::ComplianceCheck {
                    name: name.clone(),
                    status,
                });
            }
        }
        let reporting =
            self.object(r, "reporting", "regulatory")
                .map(|rep| pb::RegulatoryReporting {
                    authority_name: self.string(rep, "authority_name", "regulatory.reporting"),
                    details: self.string(rep, "details", "regulatory.reporting"),
                });
        Some(pb::Regulatory {
            compliance_checks,
            reporting,
        })
    }

    fn metadata(&mut self, root: &Obj) -> Option<pb::Metadata> {
        let m = self.object(root, "metadata", "")?;
        let mut attributes = std::collections::BTreeMap::new();
        for (key, value) in m {
            if key != "source_system" && key != "business_unit" {
                attributes.insert(key.clone(), scalar_text(value));
            }
        }
        Some(pb::Metadata {
            source_system: self.string(m, "source_system", "metadata"),
            business_unit: self.string(m, "business_unit", "metadata"),
            attributes,
        })
    }
}

/// The payment's currency as the seed wrote it, upper-cased; USD when absent.
pub(super) fn payment_currency(root: &Obj) -> String {
    root.get("amount")
        .and_then(|a| a.get("currency"))
        .and_then(Value::as_str)
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "USD".to_owned())
}

pub(super) fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn first_nonempty<const N: usize>(values: [String; N]) -> String {
    values
        .into_iter()
        .find(|v| !v.is_empty())
        .unwrap_or_default()
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
