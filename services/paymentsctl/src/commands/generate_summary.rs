//! The summary `paymentsctl generate` ends with, as the seed's `generate_transactions.py`
//! printed it: records by payment type and by status, then the amounts' average, minimum
//! and maximum. Amounts are summed exactly (minor units) and reported per currency, where
//! the seed added dollars and euros together. Last, the share of payments that are
//! laundering, against the configured share, and the laundering payments by typology.

use payments_core::money::format_minor_units;
use payments_core::names::{seed_type_name, status_name};
use payments_core::pb;
use std::collections::BTreeMap;
use std::io::Write;

/// Running counts over generated records.
#[derive(Debug, Default)]
pub struct GenerationSummary {
    /// Records by the seed's type name, in the order types first appeared.
    by_type: Vec<(&'static str, u64)>,
    /// Records by status name, in the order statuses first appeared.
    by_status: Vec<(&'static str, u64)>,
    /// Amounts by currency.
    amounts: BTreeMap<String, AmountStats>,
    /// Payments (first revisions), and how many of them are laundering.
    payments: u64,
    laundering: u64,
    /// Laundering payments by typology name, in the order typologies first appeared.
    by_typology: Vec<(&'static str, u64)>,
    /// The configured share of laundering payments.
    target: Option<f64>,
}

/// Count, exact sum and extremes of one currency's amounts, in minor units.
#[derive(Debug, Clone, Copy)]
struct AmountStats {
    count: u64,
    sum: i128,
    min: i64,
    max: i64,
}

fn add(counts: &mut Vec<(&'static str, u64)>, name: &'static str, more: u64) {
    match counts.iter_mut().find(|(n, _)| *n == name) {
        Some((_, count)) => *count += more,
        None => counts.push((name, more)),
    }
}

impl GenerationSummary {
    /// Counts one generated record.
    pub fn observe(&mut self, payment: &pb::Payment) {
        add(&mut self.by_type, seed_type_name(payment.payment_type()), 1);
        add(&mut self.by_status, status_name(payment.status()), 1);
        if payment.revision <= 1 {
            self.payments += 1;
            if let Some(label) = &payment.scenario {
                self.laundering += 1;
                let name = label.typology().as_str_name();
                add(
                    &mut self.by_typology,
                    name.strip_prefix("TYPOLOGY_").unwrap_or(name),
                    1,
                );
            }
        }
        if let Some(amount) = &payment.amount {
            if !self.amounts.contains_key(&amount.currency) {
                self.amounts.insert(
                    amount.currency.clone(),
                    AmountStats {
                        count: 0,
                        sum: 0,
                        min: i64::MAX,
                        max: i64::MIN,
                    },
                );
            }
            let Some(stats) = self.amounts.get_mut(&amount.currency) else {
                return;
            };
            stats.count += 1;
            stats.sum += i128::from(amount.minor_units);
            stats.min = stats.min.min(amount.minor_units);
            stats.max = stats.max.max(amount.minor_units);
        }
    }

    /// Sets the configured share of laundering payments, reported beside the achieved one.
    pub fn set_target(&mut self, share: f64) {
        self.target = Some(share);
    }

    /// Adds `later`'s counts, as if its records had been observed after this summary's.
    pub fn merge(&mut self, later: GenerationSummary) {
        self.payments += later.payments;
        self.laundering += later.laundering;
        for (name, count) in later.by_typology {
            add(&mut self.by_typology, name, count);
        }
        for (name, count) in later.by_type {
            add(&mut self.by_type, name, count);
        }
        for (name, count) in later.by_status {
            add(&mut self.by_status, name, count);
        }
        for (currency, stats) in later.amounts {
            match self.amounts.get_mut(&currency) {
                Some(mine) => {
                    mine.count += stats.count;
                    mine.sum += stats.sum;
                    mine.min = mine.min.min(stats.min);
                    mine.max = mine.max.max(stats.max);
                }
                None => {
                    self.amounts.insert(currency, stats);
                }
            }
        }
    }

    /// Writes the summary, one section a blank line apart.
    pub fn write(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "Transactions per payment type:")?;
        for (name, count) in &self.by_type {
            writeln!(out, "{name}: {count}")?;
        }
        writeln!(out, "\nTransaction status distribution:")?;
        for (name, count) in &self.by_status {
            writeln!(out, "{name}: {count}")?;
        }
        writeln!(out, "\nAmount statistics:")?;
        for (currency, stats) in &self.amounts {
            // The average, rounded half up to the currency's minor unit (amounts are never
            // negative).
            let count = i128::from(stats.count);
            let average = (2 * stats.sum + count) / (2 * count);
            let average = i64::try_from(average).unwrap_or(i64::MAX);
            writeln!(
                out,
                "{currency}: average {}, min {}, max {} ({} {})",
                format_minor_units(average, currency),
                format_minor_units(stats.min, currency),
                format_minor_units(stats.max, currency),
                stats.count,
                if stats.count == 1 {
                    "payment"
                } else {
                    "payments"
                }
            )?;
        }
        self.write_laundering(out)
    }

    /// The achieved share of laundering payments, against the target, and the typologies.
    fn write_laundering(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let one_in = |share: f64| {
            if share > 0.0 {
                format!("1 in {:.0}", 1.0 / share)
            } else {
                "none".to_owned()
            }
        };
        let achieved = if self.payments > 0 {
            self.laundering as f64 / self.payments as f64
        } else {
            0.0
        };
        writeln!(out, "\nAML scenarios:")?;
        write!(
            out,
            "laundering payments: {} of {} ({:.4}%, {})",
            self.laundering,
            self.payments,
            achieved * 100.0,
            one_in(achieved)
        )?;
        match self.target {
            Some(target) => writeln!(out, "; target {:.4}%, {}", target * 100.0, one_in(target))?,
            None => writeln!(out)?,
        }
        for (name, count) in &self.by_typology {
            writeln!(out, "{name}: {count}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_exact_amounts_per_currency() {
        let mut summary = GenerationSummary::default();
        for (id, minor, currency, rail) in [
            ("A1", 1_000, "USD", pb::PaymentType::Ach),
            ("A2", 2_001, "USD", pb::PaymentType::Ach),
            ("S1", 500, "EUR", pb::PaymentType::Sepa),
        ] {
            let mut p = payments_core::sample::ach_payment(id, 0);
            p.payment_type = rail as i32;
            p.amount = Some(pb::Money {
                minor_units: minor,
                currency: currency.into(),
            });
            if id == "A2" {
                p.scenario = Some(pb::ScenarioLabel {
                    typology: pb::Typology::Stack as i32,
                    ..Default::default()
                });
            }
            summary.observe(&p);
        }
        summary.set_target(0.25);
        let mut out = Vec::new();
        summary.write(&mut out).unwrap_or_default();
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains("ACH: 2\nSEPA_CREDIT_TRANSFER: 1\n"), "{text}");
        assert!(
            text.contains("USD: average 15.01, min 10.00, max 20.01 (2 payments)"),
            "{text}"
        );
        assert!(
            text.contains("EUR: average 5.00, min 5.00, max 5.00 (1 payment)"),
            "{text}"
        );
        assert!(
            text.contains(
                "laundering payments: 1 of 3 (33.3333%, 1 in 3); target 25.0000%, 1 in 4\nSTACK: 1\n"
            ),
            "{text}"
        );
    }
}
