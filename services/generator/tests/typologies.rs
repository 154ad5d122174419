//! Injected AML scenarios, found again by rebuilding each typology's graph from the
//! payments alone (originator → beneficiary edges, amounts, labels).

use payments_core::pb::{self, Typology};
use payments_core::{PaymentValidator, ValidationMode, ValidationOutcome};
use payments_generator::scenarios::REPORTING_THRESHOLD_CENTS;
use payments_generator::truth::TruthCollector;
use payments_generator::{GeneratorConfig, PaymentGenerator};
use std::collections::{BTreeMap, BTreeSet, HashMap};

fn party(p: &Option<pb::Party>) -> String {
    p.as_ref().map(|x| x.party_id.clone()).unwrap_or_default()
}

fn cents(p: &pb::Payment) -> i64 {
    p.amount.as_ref().map_or(0, |a| a.minor_units)
}

/// The payments of whole scenario windows of a run with many scenarios, grouped by scenario
/// (in time order), each payment checked strictly valid and seen by the truth collector.
fn scenarios(seed: u64, windows: u64) -> (BTreeMap<String, Vec<pb::Payment>>, TruthCollector) {
    let config = GeneratorConfig {
        seed,
        scenario_rate: 0.05,
        scenario_window: 4_096,
        ..Default::default()
    };
    let total = u64::from(config.scenario_window) * windows;
    let generator = PaymentGenerator::new(config);
    let validator = PaymentValidator::new(ValidationMode::Strict);
    let mut by_scenario: BTreeMap<String, Vec<pb::Payment>> = BTreeMap::new();
    let mut truth = TruthCollector::default();
    for i in 0..total {
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
    (by_scenario, truth)
}

fn at(p: &pb::Payment) -> (i64, i32) {
    p.created_at.map_or((0, 0), |t| (t.seconds, t.nanos))
}

/// Checks that `payments` (one scenario, in time order) have the graph `typology` defines,
/// rebuilt from originators, beneficiaries, amounts and times alone; rapid hops follow each
/// other within 31 payments' time (`spacing_micros` apart).
fn check_graph(id: &str, typology: Typology, payments: &[pb::Payment], spacing_micros: i64) {
    let edges: Vec<(String, String)> = payments
        .iter()
        .map(|p| (party(&p.originator), party(&p.beneficiary)))
        .collect();
    let sources: BTreeSet<&String> = edges.iter().map(|(a, _)| a).collect();
    let targets: BTreeSet<&String> = edges.iter().map(|(_, b)| b).collect();
    assert!(
        edges.iter().all(|(a, b)| a != b),
        "{id}: nobody pays itself"
    );
    match typology {
        Typology::FanIn => {
            assert_eq!(targets.len(), 1, "{id}: one collector");
            assert!(
                sources.len() >= 4 && sources.len() == edges.len(),
                "{id}: many distinct sources"
            );
        }
        Typology::FanOut => {
            assert_eq!(sources.len(), 1, "{id}: one distributor");
            assert!(
                targets.len() >= 4 && targets.len() == edges.len(),
                "{id}: many distinct recipients"
            );
        }
        Typology::Cycle => {
            // Following the edges from any member returns to it after visiting all.
            let next: HashMap<&String, &String> = edges.iter().map(|(a, b)| (a, b)).collect();
            assert_eq!(next.len(), edges.len(), "{id}: each member pays once");
            let start = &edges[0].0;
            let mut here = start;
            for _ in 0..edges.len() {
                here = next
                    .get(here)
                    .unwrap_or_else(|| panic!("{id}: the ring is broken at {here}"));
            }
            assert_eq!(here, start, "{id}: the money comes back");
            assert!(edges.len() >= 3);
        }
        Typology::Structuring => {
            assert_eq!(sources.len(), 1, "{id}: one structurer");
            assert!(payments.len() >= 4);
            assert!(
                payments.iter().all(|p| (REPORTING_THRESHOLD_CENTS - 100_000
                    ..REPORTING_THRESHOLD_CENTS)
                    .contains(&cents(p))),
                "{id}: just below 10,000"
            );
        }
        Typology::RapidPassThrough => {
            // A chain: each beneficiary is the next payment's originator, amounts barely
            // shrink, and each hop follows the last within 31 payments' time.
            for pair in payments.windows(2) {
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
                let gap = at(&pair[1]).0 - at(&pair[0]).0;
                let limit = 31 * spacing_micros / 1_000_000 + 1;
                assert!(gap <= limit, "{id}: the next hop {gap} s later");
            }
            let roles: Vec<&str> = payments
                .iter()
                .filter_map(|p| p.scenario.as_ref())
                .map(|s| s.beneficiary_role.as_str())
                .collect();
            assert_eq!(roles.last(), Some(&"DESTINATION"));
        }
        Typology::ScatterGather => {
            // One source pays k intermediaries; each passes (at most) what it got to one
            // destination, after it got it.
            let source: BTreeSet<&String> = sources.difference(&targets).copied().collect();
            let destination: BTreeSet<&String> = targets.difference(&sources).copied().collect();
            assert_eq!((source.len(), destination.len()), (1, 1), "{id}: {edges:?}");
            let (source, destination) = (source.first().copied(), destination.first().copied());
            let middle: BTreeSet<&String> = sources.intersection(&targets).copied().collect();
            assert!(middle.len() >= 2 && edges.len() == 2 * middle.len(), "{id}");
            for m in &middle {
                let inflow = edges.iter().position(|(a, b)| Some(a) == source && b == *m);
                let outflow = edges
                    .iter()
                    .position(|(a, b)| a == *m && Some(b) == destination);
                let (Some(i), Some(o)) = (inflow, outflow) else {
                    panic!("{id}: {m} is not between source and destination");
                };
                assert!(
                    i < o && cents(&payments[o]) <= cents(&payments[i]),
                    "{id}: {m}"
                );
            }
        }
        Typology::GatherScatter => {
            // Several sources pay one hub, which then pays several recipients no more than
            // it gathered.
            let hub: Vec<&String> = sources.intersection(&targets).copied().collect();
            assert_eq!(hub.len(), 1, "{id}: one hub");
            let hub = hub[0];
            let (ins, outs): (Vec<usize>, Vec<usize>) =
                (0..edges.len()).partition(|&i| &edges[i].1 == hub);
            assert!(ins.len() >= 2 && outs.len() >= 2, "{id}");
            assert!(
                ins.iter().max() < outs.iter().min(),
                "{id}: gathered, then scattered"
            );
            let total = |set: &[usize]| set.iter().map(|&i| cents(&payments[i])).sum::<i64>();
            assert!(total(&outs) <= total(&ins) + outs.len() as i64, "{id}");
        }
        Typology::Bipartite => {
            // Two disjoint sets, every payment from the first to the second, no pair twice,
            // neither side a single account.
            assert!(sources.is_disjoint(&targets), "{id}");
            assert!(sources.len() >= 2 && targets.len() >= 2, "{id}");
            let pairs: BTreeSet<&(String, String)> = edges.iter().collect();
            assert_eq!(pairs.len(), edges.len(), "{id}: no pair twice");
        }
        Typology::Stack => {
            // Three layers: senders only send, receivers only receive, and every member of
            // the layer between receives from senders before paying receivers.
            let layer: BTreeSet<&String> = sources.intersection(&targets).copied().collect();
            let senders: BTreeSet<&String> = sources.difference(&targets).copied().collect();
            let receivers: BTreeSet<&String> = targets.difference(&sources).copied().collect();
            assert!(
                layer.len() >= 2 && senders.len() >= 2 && receivers.len() >= 2,
                "{id}"
            );
            let last_in = edges.iter().rposition(|(_, b)| layer.contains(b));
            let first_out = edges.iter().position(|(a, _)| layer.contains(a));
            assert!(
                last_in < first_out,
                "{id}: the first layer pays before the second"
            );
            assert!(
                edges
                    .iter()
                    .all(|(a, b)| (senders.contains(a) && layer.contains(b))
                        || (layer.contains(a) && receivers.contains(b))),
                "{id}: payments go one layer down"
            );
        }
        Typology::Random => {
            // A walk: each payment leaves from where the last one arrived, over a few
            // accounts, some visited more than once when the walk is long.
            for pair in edges.windows(2) {
                assert_eq!(pair[0].1, pair[1].0, "{id}: the walk continues");
            }
            let members: BTreeSet<&String> = sources.union(&targets).copied().collect();
            assert!(members.len() >= 3, "{id}");
            assert!(members.len() <= edges.len() + 1, "{id}");
        }
        Typology::Unspecified => panic!("{id}: unlabeled typology"),
    }
}

#[test]
fn every_typology_is_rebuilt_from_its_payments() {
    let (by_scenario, truth) = scenarios(17, 40);
    assert_eq!(truth.scenarios().len(), by_scenario.len());
    let mut seen: HashMap<i32, usize> = HashMap::new();
    for (id, payments) in &by_scenario {
        let label = payments[0].scenario.clone().unwrap_or_default();
        let typology = label.typology();
        assert!(
            payments
                .iter()
                .all(|p| p.scenario.as_ref().map(|s| s.typology()) == Some(typology)),
            "{id}"
        );
        assert_eq!(
            payments.len(),
            label.scenario_size as usize,
            "{id}: every payment of the scenario is in its window"
        );
        *seen.entry(typology as i32).or_default() += 1;
        let mut ordered = payments.clone();
        ordered.sort_by_key(at);
        check_graph(id, typology, &ordered, 10_000);
        let entry = &truth.scenarios()[id];
        assert_eq!(entry.payment_ids.len(), payments.len(), "{id}");
        assert_eq!(entry.size as usize, payments.len(), "{id}");
        assert_eq!(entry.typology, typology.as_str_name(), "{id}");
    }
    for t in payments_generator::typologies::TYPOLOGIES {
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

#[test]
fn each_preset_over_a_million_payments_has_all_ten_typologies_and_every_scheme_passes_its_graph_test()
 {
    for preset in ["aml-hi", "aml-li"] {
        let mut config = GeneratorConfig {
            seed: 7,
            ..Default::default()
        };
        payments_generator::presets::Preset::named(preset)
            .unwrap_or_else(|e| panic!("{e}"))
            .apply(&mut config);
        let spacing = config.spacing_micros;
        let generator = PaymentGenerator::new(config);
        let mut by_scenario: BTreeMap<String, Vec<pb::Payment>> = BTreeMap::new();
        for i in 0..1_000_000 {
            if generator.scenario_label(i).is_some() {
                let p = generator.payment(i);
                let id = p.scenario.as_ref().map(|s| s.scenario_id.clone());
                by_scenario
                    .entry(id.unwrap_or_default())
                    .or_default()
                    .push(p);
            }
        }
        let mut typologies: BTreeSet<i32> = BTreeSet::new();
        let mut spans_hours: Vec<f64> = Vec::new();
        for (id, payments) in &mut by_scenario {
            payments.sort_by_key(at);
            let label = payments[0].scenario.clone().unwrap_or_default();
            // The last window is cut by the end of the run: its unfinished schemes are
            // rebuilt once whole, in a longer run.
            if payments.len() < label.scenario_size as usize {
                continue;
            }
            check_graph(id, label.typology(), payments, spacing);
            typologies.insert(label.typology);
            if label.typology() != Typology::RapidPassThrough && payments.len() >= 4 {
                let span = at(&payments[payments.len() - 1]).0 - at(&payments[0]).0;
                spans_hours.push(span as f64 / 3_600.0);
            }
        }
        assert_eq!(typologies.len(), 10, "{preset}: {typologies:?}");
        spans_hours.sort_by(f64::total_cmp);
        let median = spans_hours[spans_hours.len() / 2];
        let longest = spans_hours[spans_hours.len() - 1];
        assert!(
            median >= 12.0 && longest >= 36.0,
            "{preset}: schemes spread over days: median {median:.1} h, longest {longest:.1} h"
        );
    }
}
