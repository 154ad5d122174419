//! Payment lifecycles: a state machine per rail, each transition a new `revision` of the same
//! payment (received → validated → pending → completed, or returned with an R-code; wires
//! that fail; card chargebacks…), and [`LifecycleStream`], every revision of a run in
//! simulated-time order.

use crate::calendar::add_business_days;
use crate::generator::PaymentGenerator;
use crate::rng::DetRng;
use chrono::{DateTime, Duration, Utc};
use payments_core::pb::{self, PaymentStatus as S, payment::Details};
use payments_core::time::{from_timestamp, to_timestamp};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// How often payments end badly, per rail (probabilities, 0 to 1).
#[derive(Debug, Clone, PartialEq)]
pub struct LifecycleRates {
    /// ACH entries returned, all reasons together; split into NACHA's categories by
    /// [`ACH_RETURN_CATEGORIES`], each kept under its threshold.
    pub ach_return: f64,
    /// Wires that fail.
    pub wire_failure: f64,
    /// Instant payments (RTP, P2P, SEPA) rejected.
    pub instant_reject: f64,
    /// Checks returned unpaid.
    pub check_return: f64,
    /// Card payments charged back after settlement.
    pub card_chargeback: f64,
    /// Direct debits returned.
    pub debit_return: f64,
    /// Standing order executions that fail.
    pub standing_order_failure: f64,
    /// SEPA credit transfers returned by the beneficiary's bank after settlement (account
    /// closed or blocked, customer deceased…): the pacs.004 returns.
    pub sepa_return: f64,
}

impl Default for LifecycleRates {
    fn default() -> Self {
        Self {
            ach_return: 0.015,
            wire_failure: 0.01,
            instant_reject: 0.005,
            check_return: 0.01,
            card_chargeback: 0.005,
            debit_return: 0.02,
            standing_order_failure: 0.01,
            sepa_return: 0.005,
        }
    }
}

/// One planned transition: the status entered, when, and why (return codes).
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// The status entered.
    pub status: pb::PaymentStatus,
    /// When.
    pub at: DateTime<Utc>,
    /// Why, e.g. `R01`; empty for the ordinary path.
    pub reason: &'static str,
}

/// A category of ACH returns as the Nacha Operating Rules monitor them (Subsection 2.17.2):
/// its return reason codes, its share of all returns, and the return rate above which
/// Nacha steps in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AchReturnCategory {
    /// The category's name.
    pub name: &'static str,
    /// Its R-codes, the first the most frequent.
    pub codes: &'static [&'static str],
    /// Its share of all returns.
    pub share: f64,
    /// Nacha's threshold for its return rate (share of debit entries returned).
    pub threshold: f64,
}

/// NACHA's categories: unauthorized (threshold 0.5%), administrative (3.0%), and the other
/// returns, counted in the overall rate (15.0%). Shares of returns are our assumption:
/// insufficient funds dominate, unauthorized returns are rare in B2B (CCD) traffic.
pub const ACH_RETURN_CATEGORIES: [AchReturnCategory; 3] = [
    AchReturnCategory {
        name: "unauthorized",
        codes: &["R29", "R10", "R05", "R07", "R11", "R51"],
        share: 0.07,
        threshold: 0.005,
    },
    AchReturnCategory {
        name: "administrative",
        codes: &["R03", "R02", "R04"],
        share: 0.27,
        threshold: 0.03,
    },
    AchReturnCategory {
        name: "other",
        codes: &["R01", "R01", "R01", "R09", "R08", "R16", "R20"],
        share: 0.66,
        threshold: 0.15,
    },
];

/// Nacha's threshold for the overall ACH return rate.
pub const ACH_OVERALL_RETURN_THRESHOLD: f64 = 0.15;

/// An R-code for an ACH entry, or `None` when it is not returned: the overall rate `rate`
/// (capped at 90% of Nacha's overall threshold) split by category, the unauthorized and
/// administrative rates each capped at 90% of their thresholds, the rest "other".
pub fn draw_ach_return(rng: &mut DetRng, rate: f64) -> Option<&'static str> {
    let overall = rate.clamp(0.0, ACH_OVERALL_RETURN_THRESHOLD * 0.9);
    let u = rng.unit();
    let mut below = 0.0;
    for (i, category) in ACH_RETURN_CATEGORIES.iter().enumerate() {
        let last = i + 1 == ACH_RETURN_CATEGORIES.len();
        let category_rate = if last {
            overall - below
        } else {
            (overall * category.share).min(category.threshold * 0.9)
        };
        if u < below + category_rate {
            return Some(*rng.pick(category.codes));
        }
        below += category_rate;
    }
    None
}
const SEPA_REJECTS: &[&str] = &["AC01", "AC04", "AM04"];
/// Reasons a SEPA credit transfer comes back after settlement (ISO external return reasons).
const SEPA_RETURNS: &[&str] = &["AC04", "AC04", "AC06", "MD07", "AG01", "MS03"];
const WIRE_FAILURES: &[&str] = &[
    "BENEFICIARY_ACCOUNT_CLOSED",
    "INVALID_BIC",
    "SANCTIONS_HOLD",
];

/// The transitions of `payment` (its first revision), deterministic for `seed` and `index`.
pub fn plan(
    payment: &pb::Payment,
    rates: &LifecycleRates,
    seed: u64,
    index: u64,
) -> Vec<Transition> {
    let mut rng = DetRng::for_index(seed, 2, index);
    let at = |ts: &Option<payments_core::pb::Timestamp>| ts.as_ref().and_then(from_timestamp);
    let created = at(&payment.created_at).unwrap_or_default();
    let processing = payment.processing.clone().unwrap_or_default();
    let submitted = at(&processing.submission_date).unwrap_or(created);
    let settled = at(&processing.settlement_date).unwrap_or(submitted);
    let t = |status, at, reason| Transition { status, at, reason };
    let mut steps = vec![t(S::Received, created, "")];
    let minutes = |m: i64| submitted + Duration::minutes(m);
    match payment.payment_type() {
        pb::PaymentType::Ach => {
            steps.push(t(S::Validated, minutes(2), ""));
            steps.push(t(S::Pending, minutes(10), ""));
            if let Some(code) = draw_ach_return(&mut rng, rates.ach_return) {
                steps.push(t(
                    S::Returned,
                    add_business_days(settled, 1 + rng.below(2) as u32),
                    code,
                ));
            } else {
                steps.push(t(S::Completed, settled.max(minutes(11)), ""));
            }
        }
        pb::PaymentType::Wire => {
            steps.push(t(S::Validated, minutes(1), ""));
            steps.push(t(S::Processing, minutes(3), ""));
            if rng.chance(rates.wire_failure) {
                steps.push(t(S::Failed, minutes(5), *rng.pick(WIRE_FAILURES)));
            } else {
                steps.push(t(
                    S::Completed,
                    settled.max(minutes(20 + rng.below(40) as i64)),
                    "",
                ));
            }
        }
        pb::PaymentType::Rtp | pb::PaymentType::P2p => {
            if rng.chance(rates.instant_reject) {
                steps.push(t(S::Rejected, submitted + Duration::seconds(2), "AM04"));
            } else {
                steps.push(t(
                    S::Completed,
                    submitted + Duration::seconds(3 + rng.below(5) as i64),
                    "",
                ));
            }
        }
        pb::PaymentType::Sepa => {
            steps.push(t(S::Validated, minutes(1), ""));
            if rng.chance(rates.instant_reject) {
                steps.push(t(S::Rejected, minutes(2), *rng.pick(SEPA_REJECTS)));
            } else {
                steps.push(t(S::Completed, settled.max(minutes(2)), ""));
                if rng.chance(rates.sepa_return) {
                    steps.push(t(
                        S::Returned,
                        add_business_days(settled, 1 + rng.below(3) as u32),
                        *rng.pick(SEPA_RETURNS),
                    ));
                }
            }
        }
        pb::PaymentType::Check => {
            steps.push(t(S::Pending, minutes(60), ""));
            if rng.chance(rates.check_return) {
                steps.push(t(S::Returned, add_business_days(settled, 1), "NSF"));
            } else {
                steps.push(t(S::Completed, settled.max(minutes(61)), ""));
            }
        }
        pb::PaymentType::Card => {
            steps.push(t(S::Processing, minutes(6 * 60), ""));
            steps.push(t(S::Completed, settled.max(minutes(6 * 60 + 1)), ""));
            if rng.chance(rates.card_chargeback) {
                steps.push(t(
                    S::Returned,
                    settled + Duration::days(10 + rng.below(50) as i64),
                    "CHARGEBACK",
                ));
            }
        }
        pb::PaymentType::DirectDebit => {
            steps.push(t(S::Pending, minutes(60), ""));
            if rng.chance(rates.debit_return) {
                steps.push(t(
                    S::Returned,
                    add_business_days(settled, 2),
                    *rng.pick(&["AM04", "MD06"]),
                ));
            } else {
                steps.push(t(S::Completed, settled.max(minutes(61)), ""));
            }
        }
        pb::PaymentType::StandingOrder => {
            steps.push(t(S::Processing, minutes(1), ""));
            if rng.chance(rates.standing_order_failure) {
                steps.push(t(S::Failed, minutes(2), "AM04"));
            } else {
                steps.push(t(S::Completed, settled.max(minutes(30)), ""));
            }
        }
        pb::PaymentType::Unspecified => {}
    }
    // Transitions never run backwards in time.
    for i in 1..steps.len() {
        if steps[i].at < steps[i - 1].at {
            steps[i].at = steps[i - 1].at;
        }
    }
    steps
}

/// Revision `revision` (1-based) of a payment planned as `steps`, built from its first
/// revision `base`.
pub fn revision(base: &pb::Payment, steps: &[Transition], revision: usize) -> pb::Payment {
    let mut p = base.clone();
    let upto = &steps[..revision.clamp(1, steps.len().max(1)).min(steps.len())];
    let Some(last) = upto.last() else { return p };
    p.revision = revision as u32;
    p.status = last.status as i32;
    p.updated_at = Some(to_timestamp(last.at));
    if let Some(processing) = p.processing.as_mut() {
        processing.current_status = last.status as i32;
        processing.status_history = upto
            .iter()
            .map(|s| pb::StatusChange {
                status: s.status as i32,
                changed_at: Some(to_timestamp(s.at)),
                reason: s.reason.to_owned(),
            })
            .collect();
    }
    if let (Some(Details::Ach(ach)), S::Returned) = (p.details.as_mut(), last.status) {
        ach.return_reason_code = last.reason.to_owned();
    }
    p
}

/// Every revision of the payments `indices` of a generator, in order of simulated time
/// (then payment number, then revision). Pending transitions are kept as 24-byte keys and
/// rebuilt when due, so memory grows with the run's open payments, not their size.
pub struct LifecycleStream<I: Iterator<Item = u64>> {
    generator: PaymentGenerator,
    rates: LifecycleRates,
    indices: std::iter::Peekable<I>,
    due: BinaryHeap<Reverse<(i64, u64, u32)>>,
}

impl<I: Iterator<Item = u64>> LifecycleStream<I> {
    /// The lifecycle events of payments `indices` (ascending) of `generator`.
    pub fn new(generator: PaymentGenerator, rates: LifecycleRates, indices: I) -> Self {
        Self {
            generator,
            rates,
            indices: indices.peekable(),
            due: BinaryHeap::new(),
        }
    }

    fn created_micros(&self, index: u64) -> i64 {
        let config = self.generator.config();
        config.start.timestamp_micros() + config.spacing_micros.saturating_mul(index as i64)
    }
}

impl<I: Iterator<Item = u64>> Iterator for LifecycleStream<I> {
    type Item = pb::Payment;

    fn next(&mut self) -> Option<pb::Payment> {
        loop {
            let next_index = self.indices.peek().copied();
            let next_created = next_index.map(|i| self.created_micros(i));
            if let Some(Reverse((at, index, rev))) = self.due.peek().copied()
                && next_created.is_none_or(|created| at < created)
            {
                self.due.pop();
                let base = self.generator.payment(index);
                let steps = plan(&base, &self.rates, self.generator.config().seed, index);
                return Some(revision(&base, &steps, rev as usize));
            }
            // Nothing due before the next payment is created: create it, schedule its
            // transitions. With no payments left and nothing due, the run is over.
            let index = self.indices.next()?;
            let base = self.generator.payment(index);
            let steps = plan(&base, &self.rates, self.generator.config().seed, index);
            for (n, step) in steps.iter().enumerate() {
                self.due
                    .push(Reverse((step.at.timestamp_micros(), index, n as u32 + 1)));
            }
        }
    }
}

#[cfg(test)]
#[path = "lifecycle_tests.rs"]
mod tests;
