//! Ground-truth AML scenarios injected into the traffic: fan-in, fan-out, cycles,
//! structuring just below $10,000 and rapid pass-through, each payment labeled with its
//! typology, scenario id and the roles of its parties.
//!
//! The run is cut into blocks of [`BLOCK`] consecutive payments; a block holds a scenario
//! with probability `scenario_rate`, its first payments being the scenario's. Whether and
//! how is decided from the seed and the block number alone, so scenarios are as
//! reproducible and shardable as every other payment.

use crate::population::Customer;
use crate::rng::DetRng;
use payments_core::pb::{self, Typology};

/// Payments per block; a scenario never spans two blocks.
pub const BLOCK: u64 = 16;

/// The $10,000 currency transaction report threshold, in cents.
pub const REPORTING_THRESHOLD_CENTS: i64 = 1_000_000;

/// One payment of a scenario: who pays whom, how much, on which rail, and its label.
pub struct ScenarioPart<'a> {
    /// The rail.
    pub rail: pb::PaymentType,
    /// Who pays.
    pub originator: &'a Customer,
    /// Who is paid.
    pub beneficiary: &'a Customer,
    /// The amount in cents (USD).
    pub minor_units: i64,
    /// The label.
    pub label: pb::ScenarioLabel,
}

const TYPOLOGIES: [Typology; 5] = [
    Typology::FanIn,
    Typology::FanOut,
    Typology::Cycle,
    Typology::Structuring,
    Typology::RapidPassThrough,
];

/// The scenario part that payment `index` plays, if its block holds a scenario whose rail
/// `allowed` accepts and the payment is one of the scenario's.
pub fn part<'a>(
    seed: u64,
    rate: f64,
    pool: &'a [Customer],
    index: u64,
    allowed: impl Fn(pb::PaymentType) -> bool,
) -> Option<ScenarioPart<'a>> {
    if rate <= 0.0 || pool.len() < 20 {
        return None;
    }
    let (block, position) = (index / BLOCK, (index % BLOCK) as usize);
    let mut rng = DetRng::for_index(seed, 3, block);
    if !rng.chance(rate) {
        return None;
    }
    let typology = *rng.pick(&TYPOLOGIES);
    let size = match typology {
        Typology::FanIn | Typology::FanOut => 8 + rng.below(8) as usize,
        Typology::Cycle => 3 + rng.below(3) as usize,
        Typology::Structuring => 6 + rng.below(7) as usize,
        _ => 2 + rng.below(2) as usize,
    };
    // The scenario's payments sit at random positions of the block, so that the position
    // in the run says nothing about membership; they keep their order (hops stay in time).
    let mut order: [usize; BLOCK as usize] = std::array::from_fn(|i| i);
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let mut slots = order[..size].to_vec();
    slots.sort_unstable();
    let position = slots.iter().position(|&slot| slot == position)?;
    // Distinct participants, drawn uniformly: these accounts are not the busy suppliers.
    let mut members: Vec<usize> = Vec::with_capacity(size + 1);
    while members.len() < size + 1 {
        let m = rng.below(pool.len() as u64) as usize;
        if !members.contains(&m) {
            members.push(m);
        }
    }
    let base_cents = 500_000 + rng.below(4_500_000) as i64;
    let mut own = DetRng::for_index(seed, 4, index);
    let scenario_id = format!("SCN-{:016X}", scenario_hash(seed, block));
    let label = |originator_role: &str, beneficiary_role: &str| pb::ScenarioLabel {
        typology: typology as i32,
        scenario_id: scenario_id.clone(),
        originator_role: originator_role.into(),
        beneficiary_role: beneficiary_role.into(),
    };
    let who = |i: usize| &pool[members[i]];
    let (rail, originator, beneficiary, minor_units, label) = match typology {
        Typology::FanIn => (
            pb::PaymentType::Ach,
            who(position + 1),
            who(0),
            200_000 + own.below(700_000) as i64,
            label("SOURCE", "COLLECTOR"),
        ),
        Typology::FanOut => (
            pb::PaymentType::Ach,
            who(0),
            who(position + 1),
            200_000 + own.below(700_000) as i64,
            label("DISTRIBUTOR", "RECIPIENT"),
        ),
        Typology::Cycle => (
            pb::PaymentType::Wire,
            who(position),
            who((position + 1) % size),
            // Each hop keeps most of the money (fees and a cut).
            base_cents - base_cents * position as i64 / 50,
            label("CYCLE_MEMBER", "CYCLE_MEMBER"),
        ),
        Typology::Structuring => (
            pb::PaymentType::Ach,
            who(0),
            who(1 + position % 2),
            REPORTING_THRESHOLD_CENTS - 100 - own.below(90_000) as i64,
            label("STRUCTURER", "RECIPIENT"),
        ),
        _ => {
            let last = size - 1;
            let roles = match position {
                0 => (
                    "SOURCE",
                    if last == 0 {
                        "DESTINATION"
                    } else {
                        "PASS_THROUGH"
                    },
                ),
                p if p == last => ("PASS_THROUGH", "DESTINATION"),
                _ => ("PASS_THROUGH", "PASS_THROUGH"),
            };
            (
                pb::PaymentType::Wire,
                who(position),
                who(position + 1),
                base_cents - base_cents * position as i64 / 100,
                label(roles.0, roles.1),
            )
        }
    };
    allowed(rail).then_some(ScenarioPart {
        rail,
        originator,
        beneficiary,
        minor_units,
        label,
    })
}

/// A stable id for a block's scenario.
fn scenario_hash(seed: u64, block: u64) -> u64 {
    let mut state = seed.rotate_left(29) ^ block.wrapping_mul(0xA24B_AED4_963E_E407);
    crate::rng::splitmix64(&mut state)
}

/// One scenario as the truth export lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScenarioTruth {
    /// Its typology (protobuf name, e.g. `TYPOLOGY_FAN_IN`).
    pub typology: String,
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

    /// Writes one JSON object per scenario: `scenario_id`, `typology`, `payment_ids`,
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
                "payment_ids": s.payment_ids,
                "participants": participants,
            });
            serde_json::to_writer(&mut *out, &line)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }
}
