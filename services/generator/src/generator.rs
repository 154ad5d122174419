//! [`PaymentGenerator`]: deterministic synthetic payments. Payment `i` of a seed depends
//! only on the seed, the configuration and `i`, so runs are reproducible and can be split.

use crate::amounts::{AmountModel, draw_minor_units, draw_with};
use crate::calendar::add_business_days;
use crate::calibration::DEFAULT_MIX;
use crate::payment_reuse::{PaymentConstants, copy_if_unequal, copy_party, set_text};
use crate::population::{Customer, Population};
use crate::rails::{RailContext, details};
use crate::rng::DetRng;
use crate::scenarios::{DEFAULT_WINDOW, ScenarioPlan, ScenarioPlanner, TrafficModel};
use chrono::{DateTime, Duration, TimeZone, Utc};
use payments_core::money::{MAX_MINOR_UNITS, minor_unit_exponent};
use payments_core::names::{PAYMENT_TYPES, id_prefix};
use payments_core::pb;
use payments_core::time::to_timestamp;
use std::sync::Arc;

/// Default simulated start: Monday 2025-01-06 09:00 UTC.
pub fn default_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 6, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

/// A simulated start time outside what the generator can represent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0} is outside the supported range 1970-01-01 to 2199-12-31")]
pub struct StartOutOfRange(pub DateTime<Utc>);

/// Checks a simulated start time: from 1970 up to (not including) 2200, so that every date a
/// run derives from it (settlements, returns, mandates) stays representable.
pub fn check_start(start: DateTime<Utc>) -> Result<(), StartOutOfRange> {
    let earliest = Utc
        .with_ymd_and_hms(1970, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let latest = Utc
        .with_ymd_and_hms(2200, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    if (earliest..latest).contains(&start) {
        Ok(())
    } else {
        Err(StartOutOfRange(start))
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct GeneratorConfig {
    /// Random seed.
    pub seed: u64,
    /// Rails to draw from; empty means all.
    pub types: Vec<pb::PaymentType>,
    /// `created_at` of payment 0.
    pub start: DateTime<Utc>,
    /// Simulated time between consecutive payments, in microseconds.
    pub spacing_micros: i64,
    /// Customers in the population.
    pub customers: usize,
    /// Share of payments that belong to injected AML scenarios (0 disables, at most 0.5).
    pub scenario_rate: f64,
    /// Payments per scenario window: a scenario's payments spread over at most this many
    /// consecutive payments (its simulated time is this times `spacing_micros`).
    pub scenario_window: u32,
    /// Relative weights of the rails; when empty, every rail of `types` is equally likely,
    /// and with no `types` either, rails follow the calibrated default mix.
    pub mix: Vec<(pb::PaymentType, f64)>,
    /// Amount models replacing a rail's built-in one.
    pub amounts: Vec<(pb::PaymentType, AmountModel)>,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            types: Vec::new(),
            start: default_start(),
            spacing_micros: 10_000,
            customers: 2_000,
            scenario_rate: 0.01,
            scenario_window: DEFAULT_WINDOW,
            mix: Vec::new(),
            amounts: Vec::new(),
        }
    }
}

/// Draws payments; cheap to clone (the population is shared).
#[derive(Debug, Clone)]
pub struct PaymentGenerator {
    config: GeneratorConfig,
    types: Vec<pb::PaymentType>,
    population: Arc<Population>,
    scenarios: ScenarioPlanner,
    /// The parts every payment carries the same.
    constants: PaymentConstants,
}

/// Share of payments that go to one of the originator's regular counterparties.
const RELATIONSHIP_SHARE: f64 = 0.85;

const STATUSES: &[(pb::PaymentStatus, f64)] = &[
    (pb::PaymentStatus::Completed, 0.55),
    (pb::PaymentStatus::Pending, 0.15),
    (pb::PaymentStatus::Processing, 0.10),
    (pb::PaymentStatus::Validated, 0.08),
    (pb::PaymentStatus::Received, 0.08),
    (pb::PaymentStatus::Failed, 0.04),
];

impl PaymentGenerator {
    /// A generator for `config`.
    pub fn new(config: GeneratorConfig) -> Self {
        let types = if config.types.is_empty() {
            PAYMENT_TYPES.to_vec()
        } else {
            config.types.clone()
        };
        let population = Arc::new(Population::new(config.seed, config.customers));
        let scenarios = ScenarioPlanner::new(ScenarioPlan {
            seed: config.seed,
            rate: config.scenario_rate,
            window: config.scenario_window,
        });
        Self {
            config,
            types,
            population,
            scenarios,
            constants: PaymentConstants::new(),
        }
    }

    /// Its configuration.
    pub fn config(&self) -> &GeneratorConfig {
        &self.config
    }

    /// The scenario label of payment `index`, if it is laundering: what `payment(index)`
    /// would carry, without making the payment.
    pub fn scenario_label(&self, index: u64) -> Option<pb::ScenarioLabel> {
        self.scenarios
            .part(index, &self.population, self)
            .map(|s| s.label)
    }

    /// Payment number `index` of this configuration.
    pub fn payment(&self, index: u64) -> pb::Payment {
        self.payment_at(index, self.created(index))
    }

    /// Payment number `index` of this configuration, made into `out`: afterwards `out` is
    /// what [`payment`](Self::payment) returns, whatever it held before. Loops that make
    /// many payments and keep none pass the same `out` each time: the parties' text then
    /// goes into the room the last payment's left, instead of new allocations.
    pub fn payment_into(&self, index: u64, out: &mut pb::Payment) {
        self.make_into(index, self.created(index), out);
    }

    /// Payment number `index`, created at `created` (wall-clock traffic runs).
    pub fn payment_at(&self, index: u64, created: DateTime<Utc>) -> pb::Payment {
        let mut payment = pb::Payment::default();
        self.make_into(index, created, &mut payment);
        payment
    }

    /// When payment `index` of this configuration is created.
    fn created(&self, index: u64) -> DateTime<Utc> {
        self.config.start
            + Duration::microseconds(self.config.spacing_micros.saturating_mul(index as i64))
    }

    /// Payment number `index`, created at `created`, made into `out` (see
    /// [`payment_into`](Self::payment_into)).
    fn make_into(&self, index: u64, created: DateTime<Utc>, out: &mut pb::Payment) {
        let scenario = self.scenarios.part(index, &self.population, self);
        let mut rng = DetRng::for_index(self.config.seed, 1, index);
        let rail = scenario
            .as_ref()
            .map_or_else(|| self.pick_rail(&mut rng), |s| s.rail);
        let european_rail = match &scenario {
            Some(s) => s.european,
            None => {
                matches!(rail, pb::PaymentType::Sepa)
                    || (rail == pb::PaymentType::DirectDebit && rng.chance(0.5))
            }
        };
        let cross_border = scenario.is_none() && rail == pb::PaymentType::Wire && rng.chance(0.3);
        let (originator, beneficiary) = match &scenario {
            Some(s) => (s.originator, s.beneficiary),
            None => {
                let originator = self.customer(&mut rng, european_rail, None);
                let beneficiary = if cross_border || !rng.chance(RELATIONSHIP_SHARE) {
                    self.customer(
                        &mut rng,
                        european_rail || cross_border,
                        Some(&originator.party.party_id),
                    )
                } else {
                    self.counterparty(&mut rng, originator)
                };
                (originator, beneficiary)
            }
        };
        let currency = if european_rail { "EUR" } else { "USD" };
        let mut amount = pb::Money {
            minor_units: scenario
                .as_ref()
                .map_or_else(|| self.draw_amount(&mut rng, rail), |s| s.minor_units),
            currency: currency.into(),
        };
        // A cross-border wire is instructed in USD and credited in the beneficiary's
        // currency at an indicative rate (±0.5%), rounded to that currency's minor units.
        let exchange_info = cross_border.then(|| {
            let (target, base_rate) = *rng.pick(FX);
            // Rounded to the six decimals it is published with, so it reproduces the amount.
            let rate = (base_rate * (1.0 + (rng.unit() - 0.5) / 100.0) * 1e6).round() / 1e6;
            let exponent = minor_unit_exponent(target).unwrap_or(2) as i32;
            let credited = ((amount.minor_units as f64 / 100.0) * rate * 10f64.powi(exponent))
                .round()
                .clamp(1.0, MAX_MINOR_UNITS as f64) as i64;
            let source = std::mem::replace(
                &mut amount,
                pb::Money {
                    minor_units: credited,
                    currency: target.into(),
                },
            );
            pb::ExchangeInfo {
                source_currency: "USD".into(),
                target_currency: target.into(),
                rate: format!("{rate:.6}"),
                source_amount: Some(source),
            }
        });
        let status = weighted_status(&mut rng);
        let same_day_ok =
            amount.currency != "USD" || amount.minor_units <= SAME_DAY_ACH_LIMIT_CENTS;
        let processing = processing(&mut rng, rail, created, status, same_day_ok);
        let beneficiary_bic = beneficiary
            .party
            .account
            .as_ref()
            .map(|a| a.bic.as_str())
            .unwrap_or_default();
        let cx = RailContext {
            created,
            amount: &amount,
            cross_border,
            beneficiary_bic,
        };
        let details = details(&mut rng, rail, &cx);
        let id = payment_id_hex(self.config.seed, index);
        // Every field is named, so a field added to the contract stops the build here
        // rather than keep what the payment before held.
        let pb::Payment {
            payment_id,
            payment_type,
            schema_version,
            revision,
            created_at,
            updated_at,
            status: status_field,
            amount: amount_field,
            exchange_info: exchange_info_field,
            originator: originator_field,
            beneficiary: beneficiary_field,
            processing: processing_field,
            references,
            remittance_info,
            regulatory,
            metadata,
            warnings,
            scenario: scenario_field,
            details: details_field,
            unmodeled,
        } = out;
        set_text(payment_id, &[id_prefix(rail), "-", &id]);
        *payment_type = rail as i32;
        set_text(schema_version, &["1.0"]);
        *revision = 1;
        *created_at = Some(to_timestamp(created));
        *updated_at = *created_at;
        *status_field = status as i32;
        *amount_field = Some(amount);
        *exchange_info_field = exchange_info;
        copy_party(
            originator_field.get_or_insert_with(Default::default),
            &originator.party,
        );
        copy_party(
            beneficiary_field.get_or_insert_with(Default::default),
            &beneficiary.party,
        );
        *processing_field = Some(processing);
        *references = Some(pb::References {
            end_to_end_id: ["E2E", &id].concat(),
            transaction_id: rng.hex_after("TXN", 10),
            ..Default::default()
        });
        *remittance_info = Some(pb::RemittanceInfo {
            r#type: pb::RemittanceType::Structured as i32,
            purpose_code: (*rng.pick(&["SUPP", "SUPP", "SUPP", "TRAD", "SALA", "TAXS", "RENT"]))
                .into(),
            description: rng.digits_after("Invoice ", 6),
            creditor_reference: String::new(),
        });
        copy_if_unequal(regulatory, &self.constants.regulatory);
        copy_if_unequal(
            metadata,
            &self.constants.metadata[usize::from(european_rail)],
        );
        warnings.clear();
        *scenario_field = scenario.map(|s| s.label);
        *details_field = details;
        unmodeled.clear();
    }

    /// A rail: weighted by `mix` when given, uniform over `types` when they are, else from
    /// the calibrated default mix ([`DEFAULT_MIX`]).
    fn pick_rail(&self, rng: &mut DetRng) -> pb::PaymentType {
        let mix: &[(pb::PaymentType, f64)] = if !self.config.mix.is_empty() {
            &self.config.mix
        } else if self.config.types.is_empty() {
            &DEFAULT_MIX
        } else {
            return *rng.pick(&self.types);
        };
        let total: f64 = mix.iter().map(|(_, w)| w).sum();
        if total <= 0.0 {
            return *rng.pick(&self.types);
        }
        let mut u = rng.unit() * total;
        for (rail, weight) in mix {
            if u < *weight {
                return *rail;
            }
            u -= weight;
        }
        mix.last().map_or(pb::PaymentType::Ach, |(rail, _)| *rail)
    }

    /// An amount for `rail` from its configured or built-in model.
    fn draw_amount(&self, rng: &mut DetRng, rail: pb::PaymentType) -> i64 {
        match self.config.amounts.iter().find(|(r, _)| *r == rail) {
            Some((_, model)) => draw_with(rng, rail, *model),
            None => draw_minor_units(rng, rail),
        }
    }

    /// One of `originator`'s regular counterparties, the first ones far more often.
    fn counterparty(&self, rng: &mut DetRng, originator: &Customer) -> &Customer {
        let pool = if originator.european {
            &self.population.eu
        } else {
            &self.population.us
        };
        let list = &originator.counterparties;
        if list.is_empty() {
            return self.customer(rng, originator.european, Some(&originator.party.party_id));
        }
        let u = rng.unit();
        let pick = list[((u * u) * list.len() as f64) as usize % list.len()];
        &pool[pick as usize]
    }

    /// A customer of the right region; heavy-tailed, so some customers pay far more often.
    fn customer(&self, rng: &mut DetRng, european: bool, not: Option<&str>) -> &Customer {
        let pool = if european && !self.population.eu.is_empty() {
            &self.population.eu
        } else {
            &self.population.us
        };
        loop {
            // Squaring a uniform skews picks towards the front of the pool.
            let u = rng.unit();
            let c = &pool[((u * u) * pool.len() as f64) as usize % pool.len()];
            if not != Some(c.party.party_id.as_str()) || pool.len() < 2 {
                return c;
            }
        }
    }
}

impl TrafficModel for PaymentGenerator {
    fn rail(&self, rng: &mut DetRng) -> pb::PaymentType {
        self.pick_rail(rng)
    }

    fn amount(&self, rng: &mut DetRng, rail: pb::PaymentType) -> i64 {
        self.draw_amount(rng, rail)
    }
}

/// Sixteen hex digits that identify payment `index` of `seed`: a counter that starts where the
/// seed says, as a bank numbers its payment references in sequence (a NACHA trace number, a
/// Fedwire IMAD). The index is added to a 64-bit start drawn from the seed, wrapping, so:
/// - one seed never repeats an id, however long the run (addition is a bijection);
/// - the runs of two seeds, a billion payments each, share an id with odds of about one in
///   nine billion (their starts would have to lie within a billion of each other);
/// - consecutive payments get consecutive ids, so a store's id index takes a batch at one
///   place rather than at a page of its own for every payment (random ids made the SQLite
///   sink's id index a quarter of its cost).
fn payment_id_hex(seed: u64, index: u64) -> String {
    let mut start_state = seed ^ 0x1D_5EED;
    let start = crate::rng::splitmix64(&mut start_state);
    let number = start.wrapping_add(index);
    (0..16)
        .rev()
        .map(|nibble| char::from(b"0123456789ABCDEF"[(number >> (4 * nibble)) as usize & 0xF]))
        .collect()
}

/// A rail's daily cut-off in UTC: Fedwire 18:00 ET, the last same-day ACH window 16:45 ET,
/// SEPA 16:00 CET (winter offsets).
fn cutoff_utc(rail: pb::PaymentType) -> Option<chrono::NaiveTime> {
    let at = |h, m| chrono::NaiveTime::from_hms_opt(h, m, 0);
    match rail {
        pb::PaymentType::Wire => at(23, 0),
        pb::PaymentType::Ach | pb::PaymentType::DirectDebit => at(21, 45),
        pb::PaymentType::Sepa => at(15, 0),
        pb::PaymentType::Check => at(20, 0),
        _ => None,
    }
}

/// Currencies a cross-border wire is credited in, with an indicative rate per USD; the
/// exponents differ (JPY 0, BHD 3), so amounts exercise every minor-unit rule.
const FX: &[(&str, f64)] = &[
    ("EUR", 0.92),
    ("EUR", 0.92),
    ("EUR", 0.92),
    ("GBP", 0.79),
    ("CHF", 0.88),
    ("JPY", 151.2),
    ("BHD", 0.376),
];

fn weighted_status(rng: &mut DetRng) -> pb::PaymentStatus {
    let mut u = rng.unit();
    for (status, weight) in STATUSES {
        if u < *weight {
            return *status;
        }
        u -= weight;
    }
    pb::PaymentStatus::Completed
}

/// Same-day ACH entries may not exceed $1,000,000.
const SAME_DAY_ACH_LIMIT_CENTS: i64 = 100_000_000;

fn processing(
    rng: &mut DetRng,
    rail: pb::PaymentType,
    created: DateTime<Utc>,
    status: pb::PaymentStatus,
    same_day_ok: bool,
) -> pb::ProcessingInfo {
    use pb::PaymentType as T;
    let submitted = created + Duration::milliseconds(rng.below(2_000) as i64);
    let (window, value_days, settle_days) = match rail {
        T::Rtp | T::P2p => (pb::ProcessingWindow::Instant, None, None),
        T::Wire => (pb::ProcessingWindow::SameDay, Some(0), Some(0)),
        T::Ach if rng.chance(0.4) && same_day_ok => {
            (pb::ProcessingWindow::SameDay, Some(0), Some(0))
        }
        T::Ach | T::DirectDebit | T::StandingOrder => {
            (pb::ProcessingWindow::NextDay, Some(1), Some(1))
        }
        T::Sepa => (pb::ProcessingWindow::NextDay, Some(1), Some(1)),
        T::Check => (pb::ProcessingWindow::Standard, Some(1), Some(2)),
        T::Card => (pb::ProcessingWindow::Standard, Some(0), Some(2)),
        T::Unspecified => (pb::ProcessingWindow::Standard, Some(1), Some(1)),
    };
    // Past the rail's daily cut-off, value and settlement move one business day on.
    let late = u32::from(cutoff_utc(rail).is_some_and(|cutoff| submitted.time() >= cutoff));
    let effective = value_days.map_or(submitted, |d| {
        add_business_days(submitted, d + late).max(submitted)
    });
    let settlement = settle_days.map_or(effective, |d| {
        add_business_days(submitted, d + late).max(effective)
    });
    pb::ProcessingInfo {
        priority: *rng.pick(&[
            pb::Priority::Normal,
            pb::Priority::Normal,
            pb::Priority::High,
            pb::Priority::Low,
        ]) as i32,
        processing_window: window as i32,
        submission_date: Some(to_timestamp(submitted)),
        effective_date: Some(to_timestamp(effective)),
        settlement_date: Some(to_timestamp(settlement)),
        current_status: status as i32,
        status_history: vec![pb::StatusChange {
            status: pb::PaymentStatus::Received as i32,
            changed_at: Some(to_timestamp(created)),
            reason: String::new(),
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use payments_core::{PaymentValidator, ValidationMode, ValidationOutcome};
    use prost::Message;

    #[test]
    fn every_generated_payment_passes_strict_validation() {
        let generator = PaymentGenerator::new(GeneratorConfig {
            seed: 11,
            ..Default::default()
        });
        let validator = PaymentValidator::new(ValidationMode::Strict);
        for i in 0..5_000 {
            let p = generator.payment(i);
            assert_eq!(
                validator.validate(&p),
                ValidationOutcome::Accepted { warnings: vec![] },
                "{p:?}"
            );
        }
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let a = PaymentGenerator::new(GeneratorConfig {
            seed: 5,
            ..Default::default()
        });
        let b = PaymentGenerator::new(GeneratorConfig {
            seed: 5,
            ..Default::default()
        });
        let c = PaymentGenerator::new(GeneratorConfig {
            seed: 6,
            ..Default::default()
        });
        for i in 0..200 {
            assert_eq!(a.payment(i).encode_to_vec(), b.payment(i).encode_to_vec());
            assert_ne!(a.payment(i).payment_id, c.payment(i).payment_id);
        }
    }

    #[test]
    fn a_payment_made_into_the_one_before_is_the_payment_made_afresh() {
        // Scenario payments (laundering, with parties of their own) are one in ten here, so
        // both kinds follow each other.
        let generator = PaymentGenerator::new(GeneratorConfig {
            seed: 11,
            scenario_rate: 0.1,
            ..Default::default()
        });
        // First into a payment holding what the generator never writes, each part of it.
        let mut out = generator.payment(0);
        out.warnings.push(pb::ValidationWarning {
            field: "amount".into(),
            description: "a warning left over".into(),
        });
        out.unmodeled.insert("left".into(), "over".into());
        out.exchange_info = Some(pb::ExchangeInfo::default());
        if let Some(regulatory) = out.regulatory.as_mut() {
            regulatory.reporting = Some(pb::RegulatoryReporting::default());
        }
        if let Some(metadata) = out.metadata.as_mut() {
            metadata.attributes.insert("left".into(), "over".into());
        }
        if let Some(originator) = out.originator.as_mut() {
            originator.address = None;
            originator.email = "left@over.example".into();
        }
        for i in (1..2_000).chain((0..100).rev()) {
            generator.payment_into(i, &mut out);
            assert_eq!(out, generator.payment(i), "payment {i}");
        }
    }

    #[test]
    fn payment_ids_of_a_seed_never_repeat() {
        let generator = PaymentGenerator::new(GeneratorConfig {
            seed: 3,
            ..Default::default()
        });
        let ids: std::collections::HashSet<String> =
            (0..200_000).map(|i| payment_id_hex(3, i)).collect();
        assert_eq!(ids.len(), 200_000);
        assert!(
            generator
                .payment(7)
                .payment_id
                .ends_with(&payment_id_hex(3, 7))
        );
    }

    #[test]
    fn consecutive_payments_get_consecutive_ids() {
        let number = |seed, index| u64::from_str_radix(&payment_id_hex(seed, index), 16).unwrap();
        for seed in [0, 3, u64::MAX] {
            for index in [0, 1, 999_999, u64::MAX - 1] {
                assert_eq!(
                    number(seed, index).wrapping_add(1),
                    number(seed, index + 1),
                    "seed {seed}, payment {index}"
                );
            }
        }
        // Within a rail (the prefix names it), ids sort in the order the payments were made,
        // unless the counter wraps in between: seed 8's does not within these.
        let generator = PaymentGenerator::new(GeneratorConfig {
            seed: 8,
            ..Default::default()
        });
        assert!(number(8, 0).checked_add(2_000).is_some());
        let mut last: std::collections::HashMap<i32, String> = Default::default();
        for index in 0..2_000 {
            let payment = generator.payment(index);
            if let Some(before) = last.insert(payment.payment_type, payment.payment_id.clone()) {
                assert!(
                    before < payment.payment_id,
                    "{before} then {}",
                    payment.payment_id
                );
            }
        }
    }

    #[test]
    fn cut_offs_move_value_dates_to_the_next_business_day() {
        let at = |h, m| {
            Utc.with_ymd_and_hms(2025, 1, 6, h, m, 0)
                .single()
                .unwrap_or_default()
        };
        let value = |rail, created| {
            let p = processing(
                &mut DetRng::new(1),
                rail,
                created,
                pb::PaymentStatus::Received,
                true,
            );
            p.effective_date
                .as_ref()
                .and_then(payments_core::time::from_timestamp)
                .map(|d| d.date_naive().to_string())
        };
        // Monday 2025-01-06: a wire before the 23:00 UTC cut-off is valued Monday, after it Tuesday.
        assert_eq!(
            value(pb::PaymentType::Wire, at(22, 0)).as_deref(),
            Some("2025-01-06")
        );
        assert_eq!(
            value(pb::PaymentType::Wire, at(23, 30)).as_deref(),
            Some("2025-01-07")
        );
        // SEPA next-day: Tuesday before 15:00 UTC, Wednesday after.
        assert_eq!(
            value(pb::PaymentType::Sepa, at(9, 0)).as_deref(),
            Some("2025-01-07")
        );
        assert_eq!(
            value(pb::PaymentType::Sepa, at(16, 0)).as_deref(),
            Some("2025-01-08")
        );
    }

    #[test]
    fn suppliers_are_paid_again_and_again() {
        let generator = PaymentGenerator::new(GeneratorConfig {
            seed: 4,
            ..Default::default()
        });
        let mut pairs: std::collections::HashMap<(String, String), u32> =
            std::collections::HashMap::new();
        for i in 0..20_000 {
            let p = generator.payment(i);
            let id =
                |x: &Option<pb::Party>| x.as_ref().map(|x| x.party_id.clone()).unwrap_or_default();
            *pairs
                .entry((id(&p.originator), id(&p.beneficiary)))
                .or_default() += 1;
        }
        let repeated: u32 = pairs.values().filter(|n| **n > 1).sum();
        assert!(
            repeated > 10_000,
            "most payments go to a counterparty paid before: {repeated} of 20000"
        );
        assert!(pairs.keys().all(|(a, b)| a != b), "nobody pays itself");
    }

    #[test]
    fn types_are_honoured_and_all_rails_appear() {
        let only = PaymentGenerator::new(GeneratorConfig {
            seed: 1,
            types: vec![pb::PaymentType::Sepa],
            ..Default::default()
        });
        assert!((0..100).all(|i| only.payment(i).payment_type() == pb::PaymentType::Sepa));
        // Without --type, rails follow the calibrated mix: every one appears, cards and
        // ACH dominate, wires are rare.
        let all = PaymentGenerator::new(GeneratorConfig::default());
        let mut seen: std::collections::HashMap<i32, u32> = std::collections::HashMap::new();
        let n = 40_000;
        for i in 0..n {
            *seen.entry(all.payment(i).payment_type).or_default() += 1;
        }
        assert_eq!(seen.len(), 9, "{seen:?}");
        for (rail, percent) in DEFAULT_MIX {
            let share = f64::from(seen[&(rail as i32)]) * 100.0 / n as f64;
            assert!(
                (share - percent).abs() <= 1.0 + percent * 0.1,
                "{rail:?}: {share:.2}% of payments, {percent}% expected"
            );
        }
    }
}
