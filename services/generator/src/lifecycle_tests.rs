use super::*;
use crate::{GeneratorConfig, Shard};
use payments_core::time::timestamp_micros;
use payments_core::{PaymentValidator, ValidationMode, ValidationOutcome};
use prost::Message;
use std::collections::HashMap;

fn generator() -> PaymentGenerator {
    PaymentGenerator::new(GeneratorConfig {
        seed: 8,
        ..Default::default()
    })
}

fn updated(p: &pb::Payment) -> i64 {
    p.updated_at
        .as_ref()
        .map(timestamp_micros)
        .unwrap_or_default()
}

#[test]
fn every_revision_is_valid_in_order_and_ends_in_a_final_state() {
    let stream = LifecycleStream::new(generator(), LifecycleRates::default(), 0..3_000);
    let validator = PaymentValidator::new(ValidationMode::Strict);
    let mut last_revision: HashMap<String, (u32, i32)> = HashMap::new();
    let mut previous = i64::MIN;
    for p in stream {
        assert_eq!(
            validator.validate(&p),
            ValidationOutcome::Accepted { warnings: vec![] },
            "{p:?}"
        );
        assert!(
            updated(&p) >= previous,
            "events come in simulated-time order"
        );
        previous = updated(&p);
        let seen = last_revision.entry(p.payment_id.clone()).or_insert((0, 0));
        assert_eq!(
            p.revision,
            seen.0 + 1,
            "{}: revisions arrive one by one",
            p.payment_id
        );
        let history = p
            .processing
            .as_ref()
            .map(|x| x.status_history.len())
            .unwrap_or_default();
        assert_eq!(
            history, p.revision as usize,
            "history holds every status so far"
        );
        *seen = (p.revision, p.status);
    }
    assert_eq!(last_revision.len(), 3_000, "every payment appears");
    let finals = [S::Completed, S::Returned, S::Failed, S::Rejected].map(|s| s as i32);
    assert!(
        last_revision
            .values()
            .all(|(_, status)| finals.contains(status)),
        "every payment ends in a final state"
    );
}

#[test]
fn ach_returns_carry_r_codes_at_the_configured_rate() {
    let g = PaymentGenerator::new(GeneratorConfig {
        seed: 8,
        types: vec![pb::PaymentType::Ach],
        ..Default::default()
    });
    let rates = LifecycleRates {
        ach_return: 0.10,
        ..Default::default()
    };
    let mut returned = 0;
    for i in 0..5_000 {
        let base = g.payment(i);
        let steps = plan(&base, &rates, 8, i);
        let last = revision(&base, &steps, steps.len());
        if last.status() == S::Returned {
            returned += 1;
            let Some(Details::Ach(ach)) = &last.details else {
                panic!("ACH details")
            };
            assert!(
                ACH_RETURN_CATEGORIES
                    .iter()
                    .any(|c| c.codes.contains(&ach.return_reason_code.as_str())),
                "{}",
                ach.return_reason_code
            );
        }
    }
    assert!(
        (400..=600).contains(&returned),
        "about 10% of 5,000 returned, got {returned}"
    );
}

#[test]
fn sharded_lifecycles_union_to_the_whole_run() {
    let whole: Vec<Vec<u8>> = LifecycleStream::new(generator(), LifecycleRates::default(), 0..500)
        .map(|p| p.encode_to_vec())
        .collect();
    let mut union: Vec<Vec<u8>> = Vec::new();
    for index in 0..3 {
        let shard = Shard { index, count: 3 };
        union.extend(
            LifecycleStream::new(generator(), LifecycleRates::default(), shard.indices(500))
                .map(|p| p.encode_to_vec()),
        );
    }
    let (mut a, mut b) = (whole, union);
    a.sort();
    b.sort();
    assert_eq!(a, b);
}

#[test]
fn ach_returns_by_category_stay_under_nacha_thresholds_whatever_the_rate() {
    for rate in [0.015, 0.10, 0.5] {
        let mut rng = DetRng::new(21);
        let draws = 400_000;
        let mut by_category = [0u32; 3];
        for _ in 0..draws {
            if let Some(code) = draw_ach_return(&mut rng, rate) {
                let category = ACH_RETURN_CATEGORIES
                    .iter()
                    .position(|c| c.codes.contains(&code))
                    .unwrap_or_else(|| panic!("{code} is in no category"));
                by_category[category] += 1;
            }
        }
        let overall = by_category.iter().sum::<u32>() as f64 / draws as f64;
        assert!(
            overall < ACH_OVERALL_RETURN_THRESHOLD,
            "rate {rate}: overall {overall}"
        );
        assert!(
            (overall - rate.min(ACH_OVERALL_RETURN_THRESHOLD * 0.9)).abs() < 0.003,
            "rate {rate}: overall {overall}"
        );
        for (category, count) in ACH_RETURN_CATEGORIES.iter().zip(by_category) {
            let share = f64::from(count) / draws as f64;
            assert!(
                share < category.threshold,
                "rate {rate}: {} returns {share}",
                category.name
            );
            assert!(count > 0, "rate {rate}: no {} returns", category.name);
        }
    }
}
