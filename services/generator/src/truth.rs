//! The ground truth of a run: every injected scenario seen in a stream of payments, with its
//! payments and participants, as the `--truth` file lists them.

use payments_core::pb;

/// One scenario as the truth export lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScenarioTruth {
    /// Its typology (protobuf name, e.g. `TYPOLOGY_FAN_IN`).
    pub typology: String,
    /// How many payments the whole scenario has (the run may have stopped before them all).
    pub size: u32,
    /// Its payments, in the order first seen.
    pub payment_ids: Vec<String>,
    /// Every participant's party id and role(s).
    pub participants: std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
}

/// Collects the ground truth of the scenarios seen in a stream of payments (revisions of one
/// payment are counted once).
#[derive(Debug, Default)]
pub struct TruthCollector {
    scenarios: std::collections::BTreeMap<String, ScenarioTruth>,
}

impl TruthCollector {
    /// Records `payment` if it belongs to a scenario.
    pub fn observe(&mut self, payment: &pb::Payment) {
        let Some(label) = &payment.scenario else {
            return;
        };
        let entry = self
            .scenarios
            .entry(label.scenario_id.clone())
            .or_insert_with(|| ScenarioTruth {
                typology: label.typology().as_str_name().to_owned(),
                size: label.scenario_size,
                ..Default::default()
            });
        if !entry.payment_ids.contains(&payment.payment_id) {
            entry.payment_ids.push(payment.payment_id.clone());
        }
        for (party, role) in [
            (&payment.originator, &label.originator_role),
            (&payment.beneficiary, &label.beneficiary_role),
        ] {
            if let Some(party) = party {
                entry
                    .participants
                    .entry(party.party_id.clone())
                    .or_default()
                    .insert(role.clone());
            }
        }
    }

    /// The scenarios seen, by id.
    pub fn scenarios(&self) -> &std::collections::BTreeMap<String, ScenarioTruth> {
        &self.scenarios
    }

    /// Writes one JSON object per scenario: `scenario_id`, `typology`, `size` (its
    /// payments in all), `complete` (whether the run holds them all), `payment_ids`,
    /// `participants` (`[{party_id, roles}]`).
    pub fn write_jsonl(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        for (id, s) in &self.scenarios {
            let participants: Vec<serde_json::Value> = s
                .participants
                .iter()
                .map(|(party, roles)| serde_json::json!({"party_id": party, "roles": roles}))
                .collect();
            let line = serde_json::json!({
                "scenario_id": id,
                "typology": s.typology,
                "size": s.size,
                "complete": s.payment_ids.len() == s.size as usize,
                "payment_ids": s.payment_ids,
                "participants": participants,
            });
            serde_json::to_writer(&mut *out, &line)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }
}
