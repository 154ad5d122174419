//! Ground-truth AML scenarios injected into the traffic ([`crate::typologies`]), each
//! payment labeled with its typology, scenario id, the roles of its parties and the size of
//! its scenario.
//!
//! The run is cut into windows of `scenario_window` consecutive payments. A window holds
//! exactly its share of laundering: `floor(rate × window × (w + 1)) − floor(rate × window ×
//! w)` payments for window `w`, so that over any run the labeled share is the rate, within
//! one payment per window. Its scenarios are spread over the whole window (days of simulated
//! time with the AMLworld presets), except rapid pass-through, whose hops follow each other
//! within a few payments. Everything is decided from the seed and the window number, so
//! scenarios are as reproducible and shardable as every other payment: a payment carries
//! the same label whichever process or shard makes it.
//!
//! A scenario draws its rail as ordinary traffic does (the configured mix), its members
//! uniformly from the region the rail serves, and its amounts from the rail's ordinary
//! model: nothing on a single payment tells laundering apart, except what a typology is
//! (structuring's amounts just below the threshold).

use crate::population::{Customer, Population};
use crate::rng::DetRng;
use crate::typologies::{self, MAX_SIZE, Shape, TYPOLOGIES};
use payments_core::pb::{self, Typology};
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

pub use crate::typologies::REPORTING_THRESHOLD_CENTS;

/// Default payments per scenario window.
pub const DEFAULT_WINDOW: u32 = 4_096;

/// The highest share of payments that may be laundering.
pub const MAX_RATE: f64 = 0.5;

/// One payment of a scenario: on which rail and in which region, who pays whom, how much,
/// and its label.
pub struct ScenarioPart<'a> {
    /// The rail.
    pub rail: pb::PaymentType,
    /// Whether the scenario runs in the SEPA area (EUR) rather than the US (USD).
    pub european: bool,
    /// Who pays.
    pub originator: &'a Customer,
    /// Who is paid.
    pub beneficiary: &'a Customer,
    /// The amount in minor units of the region's currency.
    pub minor_units: i64,
    /// The label.
    pub label: pb::ScenarioLabel,
}

/// How a generator's scenarios are laid out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScenarioPlan {
    /// The run's seed.
    pub seed: u64,
    /// Share of payments that belong to scenarios (0 disables; capped at [`MAX_RATE`]).
    pub rate: f64,
    /// Payments per window; a scenario never spans two windows.
    pub window: u32,
}

/// Places scenarios window by window and answers which part (if any) a payment plays.
/// Cheap to clone; each thread keeps the window it last built.
#[derive(Debug, Clone)]
pub struct ScenarioPlanner {
    plan: ScenarioPlan,
    /// Tells this planner's cached windows apart from other planners' on the same thread.
    id: u64,
}

/// The rail and amount models of ordinary traffic, which scenarios draw from.
pub trait TrafficModel {
    /// A rail, as ordinary payments draw it.
    fn rail(&self, rng: &mut DetRng) -> pb::PaymentType;
    /// An ordinary amount of `rail`, in minor units.
    fn amount(&self, rng: &mut DetRng, rail: pb::PaymentType) -> i64;
}

/// One scenario placed in a window.
#[derive(Debug)]
struct PlacedScenario {
    id: String,
    typology: Typology,
    rail: pb::PaymentType,
    european: bool,
    /// Positions of the members in their region's pool.
    members: Vec<u32>,
    shape: Shape,
}

/// The scenarios of one window, and which payment of the window plays which part.
#[derive(Debug, Default)]
struct WindowSchedule {
    /// (offset in the window, scenario, transfer), by offset.
    slots: Vec<(u32, u16, u16)>,
    scenarios: Vec<PlacedScenario>,
}

impl WindowSchedule {
    /// The (scenario, transfer) the payment at `offset` plays, if any.
    fn slot(&self, offset: u32) -> Option<(u16, u16)> {
        let at = self.slots.binary_search_by_key(&offset, |s| s.0).ok()?;
        Some((self.slots[at].1, self.slots[at].2))
    }
}

/// Windows a thread keeps built: a lifecycle run asks for payments again when their later
/// revisions fall due, hours or days of simulated time after their window.
const CACHED_WINDOWS: usize = 4_096;

/// The windows a thread built last, by planner id and window number, oldest first out.
#[derive(Default)]
struct WindowCache {
    windows: HashMap<(u64, u64), Rc<WindowSchedule>>,
    order: VecDeque<(u64, u64)>,
}

thread_local! {
    static WINDOWS: RefCell<WindowCache> = RefCell::new(WindowCache::default());
}

static NEXT_PLANNER_ID: AtomicU64 = AtomicU64::new(1);

impl ScenarioPlanner {
    /// A planner for `plan`.
    pub fn new(plan: ScenarioPlan) -> Self {
        Self {
            plan: ScenarioPlan {
                rate: if plan.rate.is_finite() {
                    plan.rate.clamp(0.0, MAX_RATE)
                } else {
                    0.0
                },
                window: plan.window.max(64),
                ..plan
            },
            id: NEXT_PLANNER_ID.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// The part payment `index` plays, if it belongs to a scenario.
    pub fn part<'a>(
        &self,
        index: u64,
        population: &'a Population,
        traffic: &dyn TrafficModel,
    ) -> Option<ScenarioPart<'a>> {
        if self.plan.rate <= 0.0 {
            return None;
        }
        let window = u64::from(self.plan.window);
        let (number, offset) = (index / window, (index % window) as u32);
        let schedule = self.schedule(number, population, traffic);
        let (scenario, transfer) = schedule.slot(offset)?;
        let s = &schedule.scenarios[usize::from(scenario)];
        let t = &s.shape.transfers[usize::from(transfer)];
        let pool = if s.european {
            &population.eu
        } else {
            &population.us
        };
        Some(ScenarioPart {
            rail: s.rail,
            european: s.european,
            originator: &pool[s.members[t.from] as usize],
            beneficiary: &pool[s.members[t.to] as usize],
            minor_units: t.minor_units,
            label: pb::ScenarioLabel {
                typology: s.typology as i32,
                scenario_id: s.id.clone(),
                originator_role: t.from_role.into(),
                beneficiary_role: t.to_role.into(),
                scenario_size: s.shape.transfers.len() as u32,
            },
        })
    }

    /// Window `number`'s schedule: this thread's copy if it built it lately, else built.
    fn schedule(
        &self,
        number: u64,
        population: &Population,
        traffic: &dyn TrafficModel,
    ) -> Rc<WindowSchedule> {
        let key = (self.id, number);
        WINDOWS.with(|cache| {
            if let Some(schedule) = cache.borrow().windows.get(&key) {
                return Rc::clone(schedule);
            }
            let schedule = Rc::new(self.build(number, population, traffic));
            let mut cache = cache.borrow_mut();
            if cache.order.len() >= CACHED_WINDOWS
                && let Some(oldest) = cache.order.pop_front()
            {
                cache.windows.remove(&oldest);
            }
            cache.order.push_back(key);
            cache.windows.insert(key, Rc::clone(&schedule));
            schedule
        })
    }

    /// How many payments of window `number` are laundering.
    fn budget(&self, number: u64) -> usize {
        let per_window = self.plan.rate * f64::from(self.plan.window);
        let upto = |n: u64| (per_window * n as f64).floor();
        (upto(number + 1) - upto(number)).max(0.0) as usize
    }

    fn build(
        &self,
        number: u64,
        population: &Population,
        traffic: &dyn TrafficModel,
    ) -> WindowSchedule {
        let window = self.plan.window as usize;
        let mut rng = DetRng::for_index(self.plan.seed, 3, number);
        let mut taken = vec![false; window];
        let mut schedule = WindowSchedule::default();
        let mut remaining = self.budget(number).min(window / 2 + 1);
        // Each attempt places a scenario or gives up on one whose region is too small.
        let mut attempts = remaining + 16;
        while remaining >= 2 && attempts > 0 && schedule.scenarios.len() < usize::from(u16::MAX) {
            attempts -= 1;
            let (typology, size) = draw_fitting(&mut rng, remaining);
            let rail = traffic.rail(&mut rng);
            let european = rail == pb::PaymentType::Sepa
                || (rail == pb::PaymentType::DirectDebit && rng.chance(0.5));
            let pool = if european {
                &population.eu
            } else {
                &population.us
            };
            let shape =
                typologies::build(&mut rng, typology, size, &mut |r| traffic.amount(r, rail));
            if pool.len() < shape.members * 2 {
                continue;
            }
            let mut members: Vec<u32> = Vec::with_capacity(shape.members);
            while members.len() < shape.members {
                let m = rng.below(pool.len() as u64) as u32;
                if !members.contains(&m) {
                    members.push(m);
                }
            }
            let positions = place(&mut rng, &shape, &mut taken);
            let k = schedule.scenarios.len() as u16;
            for (transfer, position) in positions.into_iter().enumerate() {
                schedule.slots.push((position as u32, k, transfer as u16));
            }
            remaining -= size;
            schedule.scenarios.push(PlacedScenario {
                id: format!("SCN-{:016X}", scenario_hash(self.plan.seed, number, k)),
                typology,
                rail,
                european,
                members,
                shape,
            });
        }
        schedule.slots.sort_unstable_by_key(|s| s.0);
        schedule
    }
}

/// A typology and size that leave the window's remaining budget at 0 or at least 2 (a
/// single payment is no scenario): an ordinary draw when it does, else a typology that
/// takes exactly what remains.
fn draw_fitting(rng: &mut DetRng, remaining: usize) -> (Typology, usize) {
    let typology = *rng.pick(&TYPOLOGIES);
    let size = typologies::draw_size(rng, typology);
    if size + 2 <= remaining || size == remaining {
        return (typology, size);
    }
    if remaining <= MAX_SIZE {
        let fitting: Vec<Typology> = TYPOLOGIES
            .iter()
            .copied()
            .filter(|&t| typologies::fits(t, remaining))
            .collect();
        if let Some(&t) = fitting.get(rng.below(fitting.len().max(1) as u64) as usize) {
            return (t, remaining);
        }
    }
    // `remaining` is one more than `size`, above every typology's largest size.
    if typologies::fits(typology, size - 1) {
        (typology, size - 1)
    } else {
        (typology, size)
    }
}

/// Offsets in the window for each transfer of `shape`, in time order, none taken before:
/// spread over a good part of the window, or a few payments apart for rapid shapes. Every
/// offset of the window is about equally likely to be laundering.
fn place(rng: &mut DetRng, shape: &Shape, taken: &mut [bool]) -> Vec<usize> {
    let window = taken.len();
    let n = shape.transfers.len();
    let mut positions: Vec<usize> = Vec::with_capacity(n);
    if shape.rapid {
        let room = window.saturating_sub(n * 32).max(1);
        let mut at = rng.below(room as u64) as usize;
        for _ in 0..n {
            positions.push(at % window);
            at += 1 + rng.below(30) as usize;
        }
    } else {
        // A span of an eighth of the window or more, starting anywhere and wrapping round
        // the window's end, so that every offset is as likely as any other: a run that ends
        // mid-window still holds its share of laundering.
        let shortest = (window / 8).max(n);
        let span = (shortest + rng.below((window - shortest + 1) as u64) as usize).min(window);
        let start = rng.below(window as u64) as usize;
        for _ in 0..n {
            positions.push((start + rng.below(span as u64) as usize) % window);
        }
    }
    for p in &mut positions {
        while taken[*p] {
            *p = (*p + 1) % window;
        }
        taken[*p] = true;
    }
    positions.sort_unstable();
    positions
}

/// A stable id for scenario `k` of window `number`.
fn scenario_hash(seed: u64, number: u64, k: u16) -> u64 {
    let mut state = seed.rotate_left(29)
        ^ number.wrapping_mul(0xA24B_AED4_963E_E407)
        ^ u64::from(k).wrapping_mul(0x9FB2_1C65_1E98_DF25);
    crate::rng::splitmix64(&mut state)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Uniform;

    impl TrafficModel for Uniform {
        fn rail(&self, rng: &mut DetRng) -> pb::PaymentType {
            *rng.pick(&[
                pb::PaymentType::Ach,
                pb::PaymentType::Sepa,
                pb::PaymentType::Wire,
            ])
        }
        fn amount(&self, rng: &mut DetRng, _: pb::PaymentType) -> i64 {
            100 + rng.below(10_000_000) as i64
        }
    }

    #[test]
    fn every_window_holds_exactly_its_share_of_laundering() {
        let population = Population::new(3, 2_000);
        for (rate, window) in [
            (1.0 / 900.0, 65_536),
            (1.0 / 1_900.0, 4_096),
            (0.02, 4_096),
            (0.3, 64),
        ] {
            let planner = ScenarioPlanner::new(ScenarioPlan {
                seed: 3,
                rate,
                window,
            });
            let windows = 6u64;
            let total = u64::from(window) * windows;
            let labeled = (0..total)
                .filter(|&i| planner.part(i, &population, &Uniform).is_some())
                .count() as f64;
            let expected = rate * total as f64;
            assert!(
                (labeled - expected).abs() <= windows as f64 + 1.0,
                "rate {rate}, window {window}: {labeled} labeled, {expected} expected"
            );
        }
    }

    #[test]
    fn a_run_that_ends_mid_window_still_holds_its_share() {
        let population = Population::new(4, 2_000);
        let rate = 0.05;
        let planner = ScenarioPlanner::new(ScenarioPlan {
            seed: 4,
            rate,
            window: 131_072,
        });
        for count in [20_000u64, 50_000, 100_000] {
            let labeled = (0..count)
                .filter(|&i| planner.part(i, &population, &Uniform).is_some())
                .count() as f64;
            let expected = rate * count as f64;
            assert!(
                (labeled / expected - 1.0).abs() < 0.1,
                "{count} payments: {labeled} labeled, {expected} expected"
            );
        }
    }

    #[test]
    fn a_payment_plays_the_same_part_whatever_was_asked_before() {
        let population = Population::new(5, 2_000);
        let plan = ScenarioPlan {
            seed: 5,
            rate: 0.05,
            window: 4_096,
        };
        let (a, b) = (ScenarioPlanner::new(plan), ScenarioPlanner::new(plan));
        let label = |p: &ScenarioPlanner, i| p.part(i, &population, &Uniform).map(|s| s.label);
        let forwards: Vec<_> = (0..10_000).map(|i| label(&a, i)).collect();
        let backwards: Vec<_> = (0..10_000).rev().map(|i| label(&b, i)).collect();
        assert!(forwards.iter().flatten().count() > 400);
        assert!(forwards.iter().eq(backwards.iter().rev()));
    }
}
