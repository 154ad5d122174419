//! The shapes of the ten laundering typologies: who pays whom, in what order, with which
//! roles and amounts. AMLworld's eight (Altman et al., "Realistic Synthetic Financial
//! Transactions for Anti-Money Laundering Models", NeurIPS 2023; the same as AMLSim's):
//! fan-out, fan-in, scatter-gather, gather-scatter, cycle, random, bipartite and stack; plus
//! structuring below the reporting threshold and rapid pass-through.
//!
//! A shape is built for an exact number of payments, so that a window of the run can be
//! filled with exactly its share of laundering ([`fits`] says which sizes a typology takes).

use crate::rng::DetRng;
use payments_core::pb::Typology;

/// The $10,000 currency transaction report threshold, in cents (applied to the scenario's
/// currency, USD or EUR).
pub const REPORTING_THRESHOLD_CENTS: i64 = 1_000_000;

/// Every typology the generator injects.
pub const TYPOLOGIES: [Typology; 10] = [
    Typology::FanIn,
    Typology::FanOut,
    Typology::Cycle,
    Typology::Structuring,
    Typology::RapidPassThrough,
    Typology::ScatterGather,
    Typology::GatherScatter,
    Typology::Bipartite,
    Typology::Stack,
    Typology::Random,
];

/// The largest number of payments a scenario has.
pub const MAX_SIZE: usize = 18;

/// One payment of a scenario: members (indices into the scenario's participants), their
/// roles, and the amount in minor units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// The paying member.
    pub from: usize,
    /// The paid member.
    pub to: usize,
    /// The payer's role.
    pub from_role: &'static str,
    /// The payee's role.
    pub to_role: &'static str,
    /// The amount, in minor units.
    pub minor_units: i64,
}

/// A scenario's transfers in the order they happen, and how many distinct members take part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    /// Participants (member indices run from 0 to `members - 1`).
    pub members: usize,
    /// The payments, in time order.
    pub transfers: Vec<Transfer>,
    /// Whether the hops follow each other within minutes (rapid pass-through) rather than
    /// being spread over the scenario's days.
    pub rapid: bool,
}

/// The sizes (payments) a typology takes.
fn sizes(typology: Typology) -> std::ops::RangeInclusive<usize> {
    match typology {
        Typology::FanIn | Typology::FanOut => 4..=14,
        Typology::Cycle => 3..=8,
        Typology::Structuring => 4..=12,
        Typology::RapidPassThrough => 2..=5,
        Typology::ScatterGather | Typology::GatherScatter => 4..=14,
        Typology::Bipartite => 4..=16,
        Typology::Stack => 8..=MAX_SIZE,
        Typology::Random => 3..=10,
        Typology::Unspecified => 0..=0,
    }
}

/// Whether `typology` can be built with exactly `size` payments.
pub fn fits(typology: Typology, size: usize) -> bool {
    sizes(typology).contains(&size)
        && match typology {
            Typology::ScatterGather => size.is_multiple_of(2),
            Typology::Stack => stack_layers(size).is_some(),
            _ => true,
        }
}

/// A size for `typology`, drawn from the sizes it takes.
pub fn draw_size(rng: &mut DetRng, typology: Typology) -> usize {
    let range = sizes(typology);
    loop {
        let size = range.start() + rng.below((range.end() - range.start() + 1) as u64) as usize;
        if fits(typology, size) {
            return size;
        }
    }
}

/// Builds `typology` with exactly `size` payments (`fits` must hold); `amount` draws an
/// ordinary amount of the scenario's rail, so that amounts say nothing the typology does not.
pub fn build(
    rng: &mut DetRng,
    typology: Typology,
    size: usize,
    amount: &mut dyn FnMut(&mut DetRng) -> i64,
) -> Shape {
    let t = |from, to, from_role, to_role, minor_units: i64| Transfer {
        from,
        to,
        from_role,
        to_role,
        minor_units: minor_units.max(100),
    };
    // A share of `value` kept after a hop's fees and cut: between `min` and 1.
    let keep = |rng: &mut DetRng, value: i64, min: f64| {
        (value as f64 * (min + (1.0 - min) * rng.unit())).round() as i64
    };
    let spread = |transfers| Shape {
        members: 0,
        transfers,
        rapid: false,
    };
    let mut shape = match typology {
        Typology::FanIn => spread(
            (0..size)
                .map(|i| t(i + 1, 0, "SOURCE", "COLLECTOR", amount(rng)))
                .collect(),
        ),
        Typology::FanOut => spread(
            (0..size)
                .map(|i| t(0, i + 1, "DISTRIBUTOR", "RECIPIENT", amount(rng)))
                .collect(),
        ),
        Typology::Cycle => {
            let mut value = amount(rng);
            let mut out = Vec::with_capacity(size);
            for i in 0..size {
                out.push(t(i, (i + 1) % size, "CYCLE_MEMBER", "CYCLE_MEMBER", value));
                value = keep(rng, value, 0.98);
            }
            spread(out)
        }
        Typology::Structuring => {
            let recipients = 1 + rng.below(3) as usize;
            spread(
                (0..size)
                    .map(|i| {
                        let cents = REPORTING_THRESHOLD_CENTS - 100 - rng.below(90_000) as i64;
                        t(0, 1 + i % recipients, "STRUCTURER", "RECIPIENT", cents)
                    })
                    .collect(),
            )
        }
        Typology::RapidPassThrough => {
            let mut value = amount(rng);
            let mut out = Vec::with_capacity(size);
            for i in 0..size {
                let from_role = if i == 0 { "SOURCE" } else { "PASS_THROUGH" };
                let to_role = if i + 1 == size {
                    "DESTINATION"
                } else {
                    "PASS_THROUGH"
                };
                out.push(t(i, i + 1, from_role, to_role, value));
                value = keep(rng, value, 0.99);
            }
            Shape {
                members: 0,
                transfers: out,
                rapid: true,
            }
        }
        Typology::ScatterGather => {
            // Member 0 scatters to 1..=k, who gather into k + 1.
            let k = size / 2;
            let parts: Vec<i64> = (0..k).map(|_| amount(rng)).collect();
            let mut out: Vec<Transfer> = parts
                .iter()
                .enumerate()
                .map(|(i, &v)| t(0, i + 1, "SOURCE", "INTERMEDIARY", v))
                .collect();
            for (i, &v) in parts.iter().enumerate() {
                let forwarded = keep(rng, v, 0.95);
                out.push(t(i + 1, k + 1, "INTERMEDIARY", "DESTINATION", forwarded));
            }
            spread(out)
        }
        Typology::GatherScatter => {
            // Members 1..=a pay the hub 0, which pays a+1..=a+b what it gathered, less a cut.
            let a = 2 + rng.below((size - 3) as u64) as usize;
            let b = size - a;
            let inflows: Vec<i64> = (0..a).map(|_| amount(rng)).collect();
            let gathered = keep(rng, inflows.iter().sum(), 0.95);
            let mut out: Vec<Transfer> = inflows
                .iter()
                .enumerate()
                .map(|(i, &v)| t(i + 1, 0, "SOURCE", "HUB", v))
                .collect();
            let weights: Vec<f64> = (0..b).map(|_| 0.5 + rng.unit()).collect();
            let total: f64 = weights.iter().sum();
            for (j, w) in weights.iter().enumerate() {
                let v = (gathered as f64 * w / total).round() as i64;
                out.push(t(0, a + 1 + j, "HUB", "RECIPIENT", v));
            }
            spread(out)
        }
        Typology::Bipartite => {
            let (a, b) = bipartite_sides(rng, size);
            let edges = covering_edges(rng, a, b, size);
            spread(
                edges
                    .into_iter()
                    .map(|(i, j)| t(i, a + j, "SENDER", "RECEIVER", amount(rng)))
                    .collect(),
            )
        }
        Typology::Stack => {
            let (a, b, c, first) = stack_layers(size)
                .map(|options| options[rng.below(options.len() as u64) as usize])
                .unwrap_or((2, 2, 2, 4));
            let mut out: Vec<Transfer> = covering_edges(rng, a, b, first)
                .into_iter()
                .map(|(i, j)| t(i, a + j, "SENDER", "LAYER", amount(rng)))
                .collect();
            out.extend(
                covering_edges(rng, b, c, size - first)
                    .into_iter()
                    .map(|(j, k)| t(a + j, a + b + k, "LAYER", "RECEIVER", amount(rng))),
            );
            spread(out)
        }
        Typology::Random => {
            // A walk over a few members; each hop goes to a member other than the payer,
            // sometimes one seen before.
            let members = (size / 2 + 2).min(size + 1);
            let mut value = amount(rng);
            let mut at = 0;
            let mut out = Vec::with_capacity(size);
            for hop in 0..size {
                // The first two hops reach new members, so the walk always has three.
                let mut next = if hop < 2 {
                    hop + 1
                } else {
                    rng.below(members as u64 - 1) as usize
                };
                if hop >= 2 && next >= at {
                    next += 1;
                }
                out.push(t(at, next, "RANDOM_MEMBER", "RANDOM_MEMBER", value));
                value = keep(rng, value, 0.9);
                at = next;
            }
            // Members numbered in order of appearance, so that every one takes part.
            let mut order: Vec<usize> = Vec::new();
            for x in &mut out {
                for m in [&mut x.from, &mut x.to] {
                    let original = *m;
                    *m = match order.iter().position(|&o| o == original) {
                        Some(p) => p,
                        None => {
                            order.push(original);
                            order.len() - 1
                        }
                    };
                }
            }
            spread(out)
        }
        Typology::Unspecified => spread(Vec::new()),
    };
    shape.members = shape
        .transfers
        .iter()
        .map(|x| x.from.max(x.to) + 1)
        .max()
        .unwrap_or(0);
    shape
}

/// Sides `(a, b)` of a bipartite scenario of `size` payments: 2 to 4 each, with every member
/// in at least one payment and no pair paid twice (`a + b <= size <= a * b`).
fn bipartite_sides(rng: &mut DetRng, size: usize) -> (usize, usize) {
    let options: Vec<(usize, usize)> = (2..=4)
        .flat_map(|a| (2..=4).map(move |b| (a, b)))
        .filter(|&(a, b)| a + b <= size && size <= a * b)
        .collect();
    options
        .get(rng.below(options.len().max(1) as u64) as usize)
        .copied()
        .unwrap_or((2, 2))
}

/// The layer sizes `(a, b, c, first_layer_payments)` a stack of `size` payments can have.
fn stack_layers(size: usize) -> Option<Vec<(usize, usize, usize, usize)>> {
    let mut options = Vec::new();
    for a in 2..=3 {
        for b in 2..=3 {
            for c in 2..=3 {
                for first in (a + b)..=(a * b) {
                    let Some(second) = size.checked_sub(first) else {
                        continue;
                    };
                    if (b + c..=b * c).contains(&second) {
                        options.push((a, b, c, first));
                    }
                }
            }
        }
    }
    (!options.is_empty()).then_some(options)
}

/// `count` distinct pairs `(i, j)`, `i < a`, `j < b`, covering every `i` and every `j`
/// (`a + b <= count <= a * b`), in random order.
fn covering_edges(rng: &mut DetRng, a: usize, b: usize, count: usize) -> Vec<(usize, usize)> {
    let mut edges: Vec<(usize, usize)> = Vec::with_capacity(count);
    let add = |edges: &mut Vec<(usize, usize)>, edge| {
        if !edges.contains(&edge) {
            edges.push(edge);
        }
    };
    for i in 0..a {
        add(&mut edges, (i, i % b));
    }
    for j in 0..b {
        add(&mut edges, (j % a, j));
    }
    let mut rest: Vec<(usize, usize)> = (0..a)
        .flat_map(|i| (0..b).map(move |j| (i, j)))
        .filter(|e| !edges.contains(e))
        .collect();
    while edges.len() < count && !rest.is_empty() {
        let pick = rng.below(rest.len() as u64) as usize;
        edges.push(rest.swap_remove(pick));
    }
    for i in (1..edges.len()).rev() {
        edges.swap(i, rng.below(i as u64 + 1) as usize);
    }
    edges
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_size_from_two_to_the_largest_fits_some_typology() {
        for size in 2..=MAX_SIZE {
            assert!(
                TYPOLOGIES.iter().any(|&t| fits(t, size)),
                "nothing fits {size}"
            );
        }
    }

    #[test]
    fn shapes_have_exactly_the_size_asked_and_members_never_pay_themselves() {
        let mut rng = DetRng::new(9);
        for &typology in &TYPOLOGIES {
            for size in 2..=MAX_SIZE {
                if !fits(typology, size) {
                    continue;
                }
                for _ in 0..20 {
                    let shape = build(&mut rng, typology, size, &mut |r| {
                        100 + r.below(1_000_000) as i64
                    });
                    assert_eq!(shape.transfers.len(), size, "{typology:?} {size}");
                    assert!(
                        shape
                            .transfers
                            .iter()
                            .all(|x| x.from != x.to && x.minor_units >= 100),
                        "{typology:?} {size}: {shape:?}"
                    );
                    let used: std::collections::BTreeSet<usize> = shape
                        .transfers
                        .iter()
                        .flat_map(|x| [x.from, x.to])
                        .collect();
                    assert_eq!(
                        used.len(),
                        shape.members,
                        "{typology:?} {size}: every member takes part"
                    );
                }
            }
        }
    }
}
