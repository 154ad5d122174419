//! Injected AML scenarios, found again by rebuilding each typology's graph from the
//! payments alone (originator → beneficiary edges, amounts, labels).

use payments_core::pb::{self, Typology};
use payments_core::{PaymentValidator, ValidationMode, ValidationOutcome};
use payments_generator::scenarios::{REPORTING_THRESHOLD_CENTS, TruthCollector};
use payments_generator::{GeneratorConfig, PaymentGenerator};
use std::collections::{BTreeMap, BTreeSet, HashMap};

fn party(p: &Option<pb::Party>) -> String {
    p.as_ref().map(|x| x.party_id.clone()).unwrap_or_default()
}

fn cents(p: &pb::Payment) -> i64 {
    p.amount.as_ref().map_or(0, |a| a.minor_units)
}

#[test]
fn every_typology_is_rebuilt_from_its_payments() {
    let generator = PaymentGenerator::new(GeneratorConfig {
        seed: 17,
        scenario_rate: 0.25,
        ..Default::default()
    });
    let validator = PaymentValidator::new(ValidationMode::Strict);
    let mut by_scenario: BTreeMap<String, Vec<pb::Payment>> = BTreeMap::new();
    let mut truth = TruthCollector::default();
    for i in 0..40_000 {
        let p = generator.payment(i);
        assert_eq!(
            validator.validate(&p),
            ValidationOutcome::Accepted { warnings: vec![] },
            "{p:?}"
        );
        truth.observe(&p);
        if let Some(label) = &p.scenario {
            by_scenario
                .entry(label.scenario_id.clone())
                .or_default()
                .push(p);
        }
    }
    assert_eq!(truth.scenarios().len(), by_scenario.len());
    let mut seen: HashMap<i32, usize> = HashMap::new();
    for (id, payments) in &by_scenario {
        let typology = payments[0]
            .scenario
            .as_ref()
            .map(|s| s.typology())
            .unwrap_or_default();
        assert!(
            payments
                .iter()
                .all(|p| p.scenario.as_ref().map(|s| s.typology()) == Some(typology)),
            "{id}"
        );
        *seen.entry(typology as i32).or_default() += 1;
        let edges: Vec<(String, String)> = payments
            .iter()
            .map(|p| (party(&p.originator), party(&p.beneficiary)))
            .collect();
        let sources: BTreeSet<&String> = edges.iter().map(|(a, _)| a).collect();
        let targets: BTreeSet<&String> = edges.iter().map(|(_, b)| b).collect();
        match typology {
            Typology::FanIn => {
                assert_eq!(targets.len(), 1, "{id}: one collector");
                assert!(
                    sources.len() >= 8 && sources.len() == edges.len(),
                    "{id}: many distinct sources"
                );
            }
            Typology::FanOut => {
                assert_eq!(sources.len(), 1, "{id}: one distributor");
                assert!(
                    targets.len() >= 8 && targets.len() == edges.len(),
                    "{id}: many distinct recipients"
                );
            }
            Typology::Cycle => {
                // Following the edges from any member returns to it after visiting all.
                let next: HashMap<&String, &String> = edges.iter().map(|(a, b)| (a, b)).collect();
                assert_eq!(next.len(), edges.len(), "{id}: each member pays once");
                let start = &edges[0].0;
                let mut at = start;
                for _ in 0..edges.len() {
                    at = next
                        .get(at)
                        .unwrap_or_else(|| panic!("{id}: the ring is broken at {at}"));
                }
                assert_eq!(at, start, "{id}: the money comes back");
                assert!(edges.len() >= 3);
            }
            Typology::Structuring => {
                assert_eq!(sources.len(), 1, "{id}: one structurer");
                assert!(payments.len() >= 6);
                assert!(
                    payments.iter().all(|p| (REPORTING_THRESHOLD_CENTS - 100_000
                        ..REPORTING_THRESHOLD_CENTS)
                        .contains(&cents(p))),
                    "{id}: just below $10,000"
                );
            }
            Typology::RapidPassThrough => {
                // A chain: each beneficiary is the next payment's originator, amounts barely shrink.
                let mut chain = payments.clone();
                chain.sort_by_key(|p| p.created_at.map(|t| (t.seconds, t.nanos)));
                for pair in chain.windows(2) {
                    assert_eq!(
                        party(&pair[0].beneficiary),
                        party(&pair[1].originator),
                        "{id}: money moves on"
                    );
                    assert!(
                        cents(&pair[1]) <= cents(&pair[0])
                            && cents(&pair[1]) * 100 >= cents(&pair[0]) * 95,
                        "{id}: almost unchanged"
                    );
                }
                let roles: Vec<&str> = chain
                    .iter()
                    .filter_map(|p| p.scenario.as_ref())
                    .map(|s| s.beneficiary_role.as_str())
                    .collect();
                assert_eq!(roles.last(), Some(&"DESTINATION"));
            }
            Typology::Unspecified => panic!("{id}: unlabeled typology"),
        }
    }
    for t in [
        Typology::FanIn,
        Typology::FanOut,
        Typology::Cycle,
        Typology::Structuring,
        Typology::RapidPassThrough,
    ] {
        assert!(
            seen.get(&(t as i32)).copied().unwrap_or(0) >= 5,
            "{t:?} injected: {seen:?}"
        );
    }
    let mut export = Vec::new();
    truth.write_jsonl(&mut export).unwrap_or_default();
    assert_eq!(
        String::from_utf8_lossy(&export).lines().count(),
        by_scenario.len()
    );
}

#[test]
fn scenario_rate_zero_injects_nothing() {
    let generator = PaymentGenerator::new(GeneratorConfig {
        seed: 17,
        scenario_rate: 0.0,
        ..Default::default()
    });
    assert!((0..5_000).all(|i| generator.payment(i).scenario.is_none()));
}
