//! Randomised properties over many configurations: the same seed and configuration give the
//! same bytes, and the shards of a run, for any split, are disjoint and add up to the run.

use payments_core::pb;
use payments_generator::rng::DetRng;
use payments_generator::{GeneratorConfig, PaymentGenerator, Shard};
use prost::Message;
use std::collections::BTreeMap;

const TYPES: [pb::PaymentType; 4] = [
    pb::PaymentType::Ach,
    pb::PaymentType::Wire,
    pb::PaymentType::Sepa,
    pb::PaymentType::Card,
];

/// A random configuration, drawn from `rng`.
fn config(rng: &mut DetRng) -> GeneratorConfig {
    let types = (0..rng.below(3)).map(|_| *rng.pick(&TYPES)).collect();
    GeneratorConfig {
        seed: rng.next_u64(),
        types,
        customers: 8 + rng.below(500) as usize,
        scenario_rate: rng.unit() * 0.5,
        spacing_micros: 1 + rng.below(60_000_000) as i64,
        ..Default::default()
    }
}

#[test]
fn same_seed_same_bytes_and_shards_partition_the_run() {
    let mut cases = DetRng::new(0xC0FFEE);
    for case in 0..40 {
        let config = config(&mut cases);
        let total = cases.below(600);
        let a = PaymentGenerator::new(config.clone());
        let b = PaymentGenerator::new(config.clone());
        let whole: BTreeMap<u64, Vec<u8>> = (0..total)
            .map(|i| (i, a.payment(i).encode_to_vec()))
            .collect();
        for (i, bytes) in &whole {
            assert_eq!(
                &b.payment(*i).encode_to_vec(),
                bytes,
                "case {case}: payment {i} differs between two generators"
            );
        }
        let count = 1 + cases.below(9);
        let mut union: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
        for index in 0..count {
            let shard = Shard { index, count };
            for i in shard.indices(total) {
                let previous = union.insert(i, b.payment(i).encode_to_vec());
                assert!(previous.is_none(), "case {case}: payment {i} in two shards");
            }
        }
        assert_eq!(
            union, whole,
            "case {case}: {count} shards of {total} payments"
        );
    }
}
