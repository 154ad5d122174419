//! Named generation presets: `aml-hi` and `aml-li` reproduce the illicit ratios of IBM's
//! AMLworld datasets (Altman et al., NeurIPS 2023: "HI" about one laundering payment in 900,
//! "LI" about one in 1,900), with a simulated clock slow enough that a scheme's payments
//! spread over days, as laundering does.

use crate::generator::GeneratorConfig;

/// A named set of generator settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Preset {
    /// Its command-line name.
    pub name: &'static str,
    /// What it reproduces, for `--help` and errors.
    pub summary: &'static str,
    /// Share of payments that are laundering.
    pub scenario_rate: f64,
    /// Payments per scenario window (a scheme's longest span).
    pub scenario_window: u32,
    /// Simulated milliseconds between payments.
    pub interval_ms: f64,
    /// Customers in the population.
    pub customers: usize,
}

/// Every preset.
pub const PRESETS: [Preset; 2] = [
    Preset {
        name: "aml-hi",
        summary: "AMLworld HI: 1 laundering payment in 900, schemes over up to 3 days",
        scenario_rate: 1.0 / 900.0,
        scenario_window: 131_072,
        interval_ms: 2_000.0,
        customers: 10_000,
    },
    Preset {
        name: "aml-li",
        summary: "AMLworld LI: 1 laundering payment in 1,900, schemes over up to 3 days",
        scenario_rate: 1.0 / 1_900.0,
        scenario_window: 131_072,
        interval_ms: 2_000.0,
        customers: 10_000,
    },
];

/// A preset name that is not one of [`PRESETS`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown preset {name:?}; the presets are {known}")]
pub struct UnknownPreset {
    /// The name given.
    pub name: String,
    /// The valid names, comma-separated.
    pub known: String,
}

impl Preset {
    /// The preset called `name` (case-insensitive).
    pub fn named(name: &str) -> Result<&'static Preset, UnknownPreset> {
        PRESETS
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| UnknownPreset {
                name: name.to_owned(),
                known: PRESETS
                    .iter()
                    .map(|p| p.name)
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// Sets the preset's values in `config`.
    pub fn apply(&self, config: &mut GeneratorConfig) {
        config.scenario_rate = self.scenario_rate;
        config.scenario_window = self.scenario_window;
        config.spacing_micros = (self.interval_ms * 1_000.0).round() as i64;
        config.customers = self.customers;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PaymentGenerator;

    #[test]
    fn each_preset_labels_its_share_of_a_million_payments_within_ten_percent() {
        for (preset, one_in) in [("aml-hi", 900.0), ("aml-li", 1_900.0)] {
            for seed in [11, 12] {
                let mut config = GeneratorConfig {
                    seed,
                    ..Default::default()
                };
                Preset::named(preset)
                    .unwrap_or_else(|e| panic!("{e}"))
                    .apply(&mut config);
                let generator = PaymentGenerator::new(config);
                let count = 1_000_000u64;
                let labeled = (0..count)
                    .filter(|&i| generator.scenario_label(i).is_some())
                    .count() as f64;
                let target = count as f64 / one_in;
                assert!(
                    (labeled - target).abs() <= target * 0.10,
                    "{preset} seed {seed}: {labeled} laundering payments, target {target:.0}"
                );
            }
        }
    }

    #[test]
    fn an_unknown_preset_names_the_known_ones() {
        let err = Preset::named("aml-xx").map(|p| p.name).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown preset \"aml-xx\"; the presets are aml-hi, aml-li"
        );
    }
}
