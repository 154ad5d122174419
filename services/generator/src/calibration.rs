//! The default traffic, calibrated to published payment statistics: the rail mix by number
//! of payments, and the average amount per rail the amount models aim at.
//!
//! Sources:
//! - Federal Reserve Payments Study 2022 (2021 data): 204.5 billion core noncash payments;
//!   card payments 157 billion (77%), worth $9.43 trillion (about $60 each); checks 11.2
//!   billion, averaging $2,430; ACH transfers worth $91.85 trillion, 72% of the value. ACH's
//!   number is the rest, 36.3 billion (about $2,530 each).
//! - Federal Reserve History, "Fedwire": about 196 million Fedwire Funds transfers in 2022,
//!   averaging about $5.4 million.
//! - ECB payments statistics, first half of 2025: 77.7 billion non-cash payments in the euro
//!   area; cards 57%, credit transfers 22%, direct debits 14%, e-money 6%, the rest 1%;
//!   ECB 2020: direct debits worth €6.6 trillion for 22.2 billion (about €297 each).
//!
//! The population is three quarters US customers, one quarter SEPA-area customers, so the
//! mix is 0.75 × the US shares + 0.25 × the euro-area shares. What the sources do not give
//! is our assumption: RTP 0.1% of US payments (counted with cards' rounding), standing
//! orders 2 of the euro area's 22 points of credit transfers, e-money as P2P.

use payments_core::pb::PaymentType;

/// The default rail mix, in percent of payments.
pub const DEFAULT_MIX: [(PaymentType, f64); 9] = [
    // US 76.7% × 0.75 + euro area 57% × 0.25.
    (PaymentType::Card, 71.8),
    // US 17.7% × 0.75.
    (PaymentType::Ach, 13.3),
    // Euro-area credit transfers other than standing orders, 20% × 0.25.
    (PaymentType::Sepa, 5.0),
    // US 5.4% × 0.75.
    (PaymentType::Check, 4.05),
    // Euro area 14% × 0.25 (US direct debits are ACH debits, counted with ACH).
    (PaymentType::DirectDebit, 3.5),
    // Euro-area e-money 6% × 0.25.
    (PaymentType::P2p, 1.5),
    // Euro-area standing orders, 2% × 0.25.
    (PaymentType::StandingOrder, 0.5),
    // Fedwire: 0.196 of 204.7 billion US payments, 0.1% × 0.75.
    (PaymentType::Wire, 0.075),
    // Our assumption: 0.1% × 0.75.
    (PaymentType::Rtp, 0.075),
];

/// Published average amounts (major units of the rail's currency) the amount models aim at.
pub const PUBLISHED_AVERAGES: [(PaymentType, f64, &str); 5] = [
    (
        PaymentType::Card,
        60.0,
        "FRPS 2022: $9.43 trillion / 157 billion",
    ),
    (
        PaymentType::Ach,
        2_530.0,
        "FRPS 2022: $91.85 trillion / 36.3 billion",
    ),
    (PaymentType::Check, 2_430.0, "FRPS 2022: average check"),
    (
        PaymentType::Wire,
        5_400_000.0,
        "Fedwire Funds 2022: average transfer",
    ),
    (
        PaymentType::DirectDebit,
        297.0,
        "ECB 2020: €6.6 trillion / 22.2 billion",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::amounts::draw_minor_units;
    use crate::rng::DetRng;

    #[test]
    fn the_default_mix_adds_up_to_the_whole() {
        let total: f64 = DEFAULT_MIX.iter().map(|(_, w)| w).sum();
        assert!((total - 100.0).abs() < 0.5, "{total}");
    }

    #[test]
    fn each_amount_model_averages_within_a_quarter_of_its_published_figure() {
        for (rail, published, source) in PUBLISHED_AVERAGES {
            let mut rng = DetRng::new(rail as u64);
            let n = 400_000;
            let mean = (0..n)
                .map(|_| draw_minor_units(&mut rng, rail) as f64 / 100.0)
                .sum::<f64>()
                / f64::from(n);
            assert!(
                (mean / published - 1.0).abs() <= 0.25,
                "{rail:?}: average {mean:.2}, published {published} ({source})"
            );
        }
    }
}
