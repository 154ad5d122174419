//! The AML scenarios view: stored payments that carry a ground-truth label, grouped into
//! their scenarios, each with its typology, size, amounts, participants (with roles) and
//! transfers, as the console lists them and draws each one's graph.

use payments_core::money::format_minor_units;
use payments_core::pb;
use payments_core::time::format_rfc3339_seconds;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The most payments one request reads, by default.
pub const DEFAULT_SCAN: u64 = 100_000;

/// The most payments one request may read.
pub const MAX_SCAN: u64 = 1_000_000;

/// One scenario as stored: its payments (latest revision each), by payment id.
#[derive(Debug, Default)]
struct Scenario {
    typology: String,
    size: u32,
    payments: BTreeMap<String, pb::Payment>,
}

/// Collects labeled payments into scenarios (a later revision of a payment replaces an
/// earlier one).
#[derive(Debug, Default)]
pub struct ScenarioGroups {
    scenarios: HashMap<String, Scenario>,
}

impl ScenarioGroups {
    /// Adds `payment` to its scenario, if it has one.
    pub fn add(&mut self, payment: &pb::Payment) {
        let Some(label) = &payment.scenario else {
            return;
        };
        let scenario = self
            .scenarios
            .entry(label.scenario_id.clone())
            .or_insert_with(|| Scenario {
                typology: label
                    .typology()
                    .as_str_name()
                    .trim_start_matches("TYPOLOGY_")
                    .to_owned(),
                size: label.scenario_size,
                payments: BTreeMap::new(),
            });
        let newer = scenario
            .payments
            .get(&payment.payment_id)
            .is_none_or(|seen| seen.revision < payment.revision);
        if newer {
            scenario
                .payments
                .insert(payment.payment_id.clone(), payment.clone());
        }
    }

    /// How many scenarios were seen.
    pub fn len(&self) -> usize {
        self.scenarios.len()
    }

    /// Whether none was seen.
    pub fn is_empty(&self) -> bool {
        self.scenarios.is_empty()
    }

    /// The scenarios, most recent first (by their last payment), at most `limit` of them:
    /// `{scenario_id, typology, size, payments, first, last, amounts: [{currency, total}],
    /// participants: [{id, name, roles}], transfers: [{payment_id, from, to, amount,
    /// currency, created_at, status}]}`.
    pub fn to_json(&self, limit: usize) -> Vec<Value> {
        let mut views: Vec<(String, Value)> = self
            .scenarios
            .iter()
            .map(|(id, s)| {
                let mut transfers: Vec<&pb::Payment> = s.payments.values().collect();
                transfers.sort_by_key(|p| p.created_at.map(|t| (t.seconds, t.nanos)));
                let created = |p: &pb::Payment| {
                    p.created_at
                        .as_ref()
                        .map(format_rfc3339_seconds)
                        .unwrap_or_default()
                };
                let mut participants: BTreeMap<String, (String, BTreeSet<String>)> =
                    BTreeMap::new();
                let mut totals: BTreeMap<String, i128> = BTreeMap::new();
                for p in &transfers {
                    let label = p.scenario.clone().unwrap_or_default();
                    for (party, role) in [
                        (&p.originator, label.originator_role),
                        (&p.beneficiary, label.beneficiary_role),
                    ] {
                        if let Some(party) = party {
                            participants
                                .entry(party.party_id.clone())
                                .or_insert_with(|| (party.name.clone(), BTreeSet::new()))
                                .1
                                .insert(role);
                        }
                    }
                    if let Some(a) = &p.amount {
                        *totals.entry(a.currency.clone()).or_default() += i128::from(a.minor_units);
                    }
                }
                let last = transfers.last().map(|p| created(p)).unwrap_or_default();
                let view = json!({
                    "scenario_id": id,
                    "typology": s.typology,
                    "size": s.size,
                    "payments": transfers.len(),
                    "first": transfers.first().map(|p| created(p)),
                    "last": last,
                    "amounts": totals.iter().map(|(currency, total)| json!({
                        "currency": currency,
                        "total": format_minor_units(i64::try_from(*total).unwrap_or(i64::MAX), currency),
                    })).collect::<Vec<_>>(),
                    "participants": participants.iter().map(|(id, (name, roles))| json!({
                        "id": id, "name": name, "roles": roles,
                    })).collect::<Vec<_>>(),
                    "transfers": transfers.iter().map(|p| {
                        let party = |x: &Option<pb::Party>| x.as_ref().map(|x| x.party_id.clone());
                        json!({
                            "payment_id": p.payment_id,
                            "from": party(&p.originator),
                            "to": party(&p.beneficiary),
                            "amount": p.amount.as_ref().map(|a| format_minor_units(a.minor_units, &a.currency)),
                            "currency": p.amount.as_ref().map(|a| a.currency.clone()),
                            "created_at": created(p),
                            "status": payments_core::names::status_name(p.status()),
                        })
                    }).collect::<Vec<_>>(),
                });
                (last, view)
            })
            .collect();
        views.sort_by(|a, b| {
            b.0.cmp(&a.0).then_with(|| {
                a.1["scenario_id"]
                    .as_str()
                    .cmp(&b.1["scenario_id"].as_str())
            })
        });
        views.into_iter().take(limit).map(|(_, v)| v).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use payments_generator::{GeneratorConfig, PaymentGenerator};

    #[test]
    fn labeled_payments_are_grouped_into_whole_scenarios_with_roles_and_amounts() {
        let generator = PaymentGenerator::new(GeneratorConfig {
            seed: 5,
            scenario_rate: 0.05,
            ..Default::default()
        });
        let mut groups = ScenarioGroups::default();
        for i in 0..8_192 {
            let p = generator.payment(i);
            groups.add(&p);
            // A later revision replaces the first; it is not a second payment.
            let mut again = p.clone();
            again.revision = 2;
            groups.add(&again);
        }
        let views = groups.to_json(1_000);
        assert!(views.len() > 20, "{} scenarios", views.len());
        for v in &views {
            assert_eq!(
                v["payments"], v["size"],
                "{v}: whole windows hold whole scenarios"
            );
            let transfers = v["transfers"].as_array().unwrap_or(&Vec::new()).clone();
            let participants: BTreeSet<String> = v["participants"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p["id"].as_str().map(str::to_owned))
                .collect();
            for t in &transfers {
                for side in ["from", "to"] {
                    let id = t[side].as_str().unwrap_or_default();
                    assert!(participants.contains(id), "{v}: {id} is a participant");
                }
            }
            assert!(!v["amounts"].as_array().is_none_or(Vec::is_empty), "{v}");
        }
        let typologies: BTreeSet<&str> = views
            .iter()
            .filter_map(|v| v["typology"].as_str())
            .collect();
        assert_eq!(typologies.len(), 10, "{typologies:?}");
        assert!(
            views
                .windows(2)
                .all(|w| w[0]["last"].as_str() >= w[1]["last"].as_str())
        );
    }
}
