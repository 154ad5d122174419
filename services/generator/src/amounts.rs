//! Amounts per rail: a mixture of two log-normals (everyday payments and a share of large
//! ones), with round-number spikes and each rail's limits, in minor units.

use crate::rng::DetRng;
use payments_core::pb::PaymentType;

/// Share and median (major units) of the large component per rail.
fn large_component(rail: PaymentType) -> (f64, f64) {
    match rail {
        PaymentType::Ach => (0.03, 12_000.0),
        PaymentType::Check => (0.04, 8_000.0),
        PaymentType::Sepa => (0.15, 40_000.0),
        PaymentType::Card => (0.01, 400.0),
        _ => (0.0, 0.0),
    }
}

/// Typical amount (median, in major units), spread (log-space sigma) and ceiling per rail.
/// Card, ACH, check, wire and direct debit averages follow published figures
/// ([`crate::calibration::PUBLISHED_AVERAGES`]); the others are our assumptions.
fn profile(rail: PaymentType) -> (f64, f64, f64) {
    match rail {
        PaymentType::Ach => (600.0, 1.4, 1_000_000.0), // same-day ACH limit
        PaymentType::Wire => (900_000.0, 1.9, 250_000_000.0),
        PaymentType::Rtp => (2_500.0, 1.2, 1_000_000.0),
        PaymentType::Check => (500.0, 1.5, 2_000_000.0),
        PaymentType::Sepa => (6_000.0, 1.5, 100_000.0), // SCT Inst ceiling
        PaymentType::Card => (30.0, 1.1, 25_000.0),
        PaymentType::DirectDebit => (180.0, 1.0, 50_000.0),
        PaymentType::StandingOrder => (2_500.0, 0.9, 250_000.0),
        PaymentType::P2p => (150.0, 1.0, 5_000.0),
        PaymentType::Unspecified => (100.0, 1.0, 10_000.0),
    }
}

/// A rail's amount model: log-normal around `median` (major units) with log-space spread
/// `sigma`, capped at `ceiling`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AmountModel {
    /// Typical amount, in major units.
    pub median: f64,
    /// Spread in log space.
    pub sigma: f64,
    /// Largest amount, in major units (the rail's limit).
    pub ceiling: f64,
    /// Share of payments drawn from the large component (0 for a single log-normal).
    pub large_share: f64,
    /// Median of the large component, in major units.
    pub large_median: f64,
}

impl AmountModel {
    /// The built-in model of `rail`.
    pub fn for_rail(rail: PaymentType) -> Self {
        let (median, sigma, ceiling) = profile(rail);
        let (large_share, large_median) = large_component(rail);
        Self {
            median,
            sigma,
            ceiling,
            large_share,
            large_median,
        }
    }
}

/// An amount in cents (minor units of a two-decimal currency) for `rail`.
pub fn draw_minor_units(rng: &mut DetRng, rail: PaymentType) -> i64 {
    draw_with(rng, rail, AmountModel::for_rail(rail))
}

/// An amount in cents for `rail` drawn from `model`.
pub fn draw_with(rng: &mut DetRng, rail: PaymentType, model: AmountModel) -> i64 {
    let AmountModel {
        median,
        sigma,
        ceiling,
        large_share,
        large_median,
    } = model;
    let centre = if large_share > 0.0 && rng.chance(large_share) {
        large_median
    } else {
        median
    };
    // libm, not the platform's: the same seed must give the same cents on every machine.
    let mut major = libm::exp(libm::log(centre) + sigma * rng.normal()).clamp(1.0, ceiling);
    let spike = rng.unit();
    if spike < 0.06 && major >= 1_000.0 {
        major = (major / 1_000.0).round() * 1_000.0;
    } else if spike < 0.12 && major >= 100.0 {
        major = (major / 100.0).round() * 100.0;
    }
    if rail == PaymentType::StandingOrder {
        major = (major / 50.0).round().max(1.0) * 50.0;
    }
    ((major * 100.0).round() as i64).clamp(100, (ceiling * 100.0) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_rail_limits() {
        let mut rng = DetRng::new(3);
        for _ in 0..20_000 {
            let ach = draw_minor_units(&mut rng, PaymentType::Ach);
            assert!((100..=100_000_000).contains(&ach));
            assert!(draw_minor_units(&mut rng, PaymentType::Sepa) <= 10_000_000);
        }
    }
}
