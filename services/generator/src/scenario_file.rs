//! Scenario files (TOML): a whole generation recipe in one reviewed file — seed, count,
//! customers, rail mix, amount models, lifecycle rates and the AML scenario rate. Unknown
//! keys and out-of-range values are errors that name the key.

use crate::amounts::AmountModel;
use crate::generator::GeneratorConfig;
use crate::lifecycle::LifecycleRates;
use payments_core::names::parse_payment_type;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Why a scenario file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioFileError {
    /// The file could not be read.
    #[error("reading scenario file {path}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid TOML, or a key or value of the wrong shape (the message gives the line).
    #[error("scenario file {path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// The parser's explanation, with line and column.
        message: String,
    },
    /// A value out of range.
    #[error("scenario file {path}: {key}: {reason}")]
    Invalid {
        /// The file.
        path: String,
        /// The key, e.g. `mix.bitcoin` or `lifecycle_rates.ach_return`.
        key: String,
        /// What is wrong.
        reason: String,
    },
}

/// One rail's amount model as written in the file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AmountEntry {
    median: f64,
    sigma: f64,
    max: f64,
    #[serde(default)]
    large_share: f64,
    #[serde(default)]
    large_median: f64,
}

/// Lifecycle rates as written in the file; absent ones keep their defaults.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RatesEntry {
    ach_return: Option<f64>,
    wire_failure: Option<f64>,
    instant_reject: Option<f64>,
    check_return: Option<f64>,
    card_chargeback: Option<f64>,
    debit_return: Option<f64>,
    standing_order_failure: Option<f64>,
    sepa_return: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    seed: Option<u64>,
    count: Option<u64>,
    customers: Option<usize>,
    scenario_rate: Option<f64>,
    lifecycle: Option<bool>,
    #[serde(default)]
    mix: BTreeMap<String, f64>,
    #[serde(default)]
    amounts: BTreeMap<String, AmountEntry>,
    lifecycle_rates: Option<RatesEntry>,
}

/// A loaded scenario: what it sets; `None` leaves the command line's value.
#[derive(Debug, Clone, Default)]
pub struct Scenario {
    /// Random seed.
    pub seed: Option<u64>,
    /// Payments to generate.
    pub count: Option<u64>,
    /// Emit lifecycle revisions.
    pub lifecycle: Option<bool>,
    /// Lifecycle rates (defaults where the file is silent).
    pub rates: LifecycleRates,
    customers: Option<usize>,
    scenario_rate: Option<f64>,
    mix: Vec<(payments_core::pb::PaymentType, f64)>,
    amounts: Vec<(payments_core::pb::PaymentType, AmountModel)>,
}

impl Scenario {
    /// Reads and checks the scenario file at `path`.
    pub fn load(path: &Path) -> Result<Self, ScenarioFileError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioFileError::Read {
            path: name.clone(),
            source,
        })?;
        Self::parse(&name, &text)
    }

    /// Parses scenario TOML (`name` is used in errors).
    pub fn parse(name: &str, text: &str) -> Result<Self, ScenarioFileError> {
        let raw: RawScenario = toml::from_str(text).map_err(|e| ScenarioFileError::Parse {
            path: name.to_owned(),
            message: e.to_string(),
        })?;
        let invalid = |key: String, reason: String| ScenarioFileError::Invalid {
            path: name.to_owned(),
            key,
            reason,
        };
        let probability = |key: &str, value: f64| {
            if (0.0..=1.0).contains(&value) {
                Ok(value)
            } else {
                Err(invalid(
                    key.to_owned(),
                    format!("must be between 0 and 1, got {value}"),
                ))
            }
        };
        let rail = |section: &str, key: &str| {
            parse_payment_type(key).ok_or_else(|| {
                invalid(
                    format!("{section}.{key}"),
                    "is not a payment type".to_owned(),
                )
            })
        };
        let mut mix = Vec::new();
        for (key, weight) in &raw.mix {
            if !weight.is_finite() || *weight < 0.0 {
                return Err(invalid(
                    format!("mix.{key}"),
                    format!("must be a weight of 0 or more, got {weight}"),
                ));
            }
            mix.push((rail("mix", key)?, *weight));
        }
        if !mix.is_empty() && mix.iter().all(|(_, w)| *w == 0.0) {
            return Err(invalid(
                "mix".to_owned(),
                "needs at least one rail with a positive weight".to_owned(),
            ));
        }
        let mut amounts = Vec::new();
        for (key, a) in &raw.amounts {
            let rail = rail("amounts", key)?;
            if !(a.median > 0.0
                && a.sigma >= 0.0
                && a.max >= 1.0
                && a.median <= a.max
                && a.max <= 1e13)
            {
                return Err(invalid(
                    format!("amounts.{key}"),
                    "needs median > 0, sigma >= 0 and 1 <= median <= max <= 10,000,000,000,000"
                        .to_owned(),
                ));
            }
            if !(0.0..=1.0).contains(&a.large_share)
                || (a.large_share > 0.0 && !(a.large_median > 0.0 && a.large_median <= a.max))
            {
                return Err(invalid(
                    format!("amounts.{key}"),
                    "large_share must be between 0 and 1, with 0 < large_median <= max".to_owned(),
                ));
            }
            amounts.push((
                rail,
                AmountModel {
                    median: a.median,
                    sigma: a.sigma,
                    ceiling: a.max,
                    large_share: a.large_share,
                    large_median: a.large_median,
                },
            ));
        }
        let mut rates = LifecycleRates::default();
        if let Some(r) = &raw.lifecycle_rates {
            for (key, value, slot) in [
                ("ach_return", r.ach_return, &mut rates.ach_return),
                ("sepa_return", r.sepa_return, &mut rates.sepa_return),
                ("wire_failure", r.wire_failure, &mut rates.wire_failure),
                (
                    "instant_reject",
                    r.instant_reject,
                    &mut rates.instant_reject,
                ),
                ("check_return", r.check_return, &mut rates.check_return),
                (
                    "card_chargeback",
                    r.card_chargeback,
                    &mut rates.card_chargeback,
                ),
                ("debit_return", r.debit_return, &mut rates.debit_return),
                (
                    "standing_order_failure",
                    r.standing_order_failure,
                    &mut rates.standing_order_failure,
                ),
            ] {
                if let Some(v) = value {
                    *slot = probability(&format!("lifecycle_rates.{key}"), v)?;
                }
            }
        }
        let scenario_rate = raw
            .scenario_rate
            .map(|v| {
                let rate = probability("scenario_rate", v)?;
                if rate > crate::scenarios::MAX_RATE {
                    return Err(invalid(
                        "scenario_rate".into(),
                        format!(
                            "is the share of payments that are laundering: at most {}, got {rate}",
                            crate::scenarios::MAX_RATE
                        ),
                    ));
                }
                Ok(rate)
            })
            .transpose()?;
        if raw.customers.is_some_and(|c| c < 8) {
            return Err(invalid(
                "customers".to_owned(),
                "must be at least 8".to_owned(),
            ));
        }
        Ok(Self {
            seed: raw.seed,
            count: raw.count,
            lifecycle: raw.lifecycle,
            rates,
            customers: raw.customers,
            scenario_rate,
            mix,
            amounts,
        })
    }

    /// Whether the file sets the rail mix (which conflicts with `--type`).
    pub fn sets_mix(&self) -> bool {
        !self.mix.is_empty()
    }

    /// Applies what the file sets to `config`.
    pub fn apply(&self, config: &mut GeneratorConfig) {
        if let Some(seed) = self.seed {
            config.seed = seed;
        }
        if let Some(customers) = self.customers {
            config.customers = customers;
        }
        if let Some(rate) = self.scenario_rate {
            config.scenario_rate = rate;
        }
        if !self.mix.is_empty() {
            config.mix = self.mix.clone();
        }
        if !self.amounts.is_empty() {
            config.amounts = self.amounts.clone();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PaymentGenerator;
    use payments_core::pb::PaymentType;

    #[test]
    fn the_example_under_deploy_loads_and_shapes_the_traffic() {
        let path = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../deploy/scenarios/example.toml"
        ));
        let scenario = Scenario::load(path).unwrap_or_else(|e| panic!("{e}"));
        let mut config = GeneratorConfig::default();
        scenario.apply(&mut config);
        let generator = PaymentGenerator::new(config);
        let ach = (0..4_000)
            .filter(|i| generator.payment(*i).payment_type() == PaymentType::Ach)
            .count();
        assert!(
            (1_400..=1_800).contains(&ach),
            "the example weights ACH at 40%: {ach} of 4000"
        );
        assert_eq!(scenario.lifecycle, Some(true));
    }

    #[test]
    fn mistakes_name_their_key() {
        let err = |text: &str| {
            Scenario::parse("s.toml", text)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(err("[mix]\nbitcoin = 3").contains("mix.bitcoin: is not a payment type"));
        assert!(err("scenario_rate = 2.0").contains("scenario_rate: must be between 0 and 1"));
        assert!(err("[lifecycle_rates]\nach_return = -1.0").contains("lifecycle_rates.ach_return"));
        assert!(err("colour = 'blue'").contains("unknown field `colour`"));
        assert!(err("count = 'many'").contains("s.toml"));
        assert!(
            err("[amounts.ach]\nmedian = 10.0\nsigma = 1.0\nmax = 5.0").contains("amounts.ach")
        );
    }
}
