//! Reading the Prometheus text format the services export: sums of samples by metric name,
//! and histogram buckets.

use std::collections::BTreeMap;

/// One scrape: every sample, by metric name, as (labels, value).
#[derive(Debug, Default, Clone)]
pub struct Scrape {
    samples: BTreeMap<String, Vec<(String, f64)>>,
}

impl Scrape {
    /// Parses exposition text; comment lines and lines that are not `name[{labels}] value`
    /// are skipped. Several texts (one per service) may be parsed into one scrape.
    pub fn parse_into(&mut self, text: &str) {
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (series, value) = match line.rsplit_once(' ') {
                Some(parts) => parts,
                None => continue,
            };
            let Ok(value) = value.parse::<f64>() else {
                continue;
            };
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            self.samples
                .entry(name.to_owned())
                .or_default()
                .push((labels.to_owned(), value));
        }
    }

    /// A scrape of this process's own series, read from its recorder directly.
    pub fn from_samples(samples: Vec<payments_runtime::metrics::MetricSample>) -> Self {
        let mut scrape = Self::default();
        for sample in samples {
            let labels: Vec<String> = sample
                .labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{v}\""))
                .collect();
            scrape
                .samples
                .entry(sample.name)
                .or_default()
                .push((labels.join(","), sample.value));
        }
        scrape
    }

    /// A scrape of `text`.
    pub fn parse(text: &str) -> Self {
        let mut scrape = Self::default();
        scrape.parse_into(text);
        scrape
    }

    /// The sum of every sample of `name` (0 when there is none).
    pub fn sum(&self, name: &str) -> f64 {
        self.samples
            .get(name)
            .map_or(0.0, |s| s.iter().map(|(_, v)| v).sum())
    }

    /// The sum of the samples of `name` by the value of `label`.
    pub fn sum_by(&self, name: &str, label: &str) -> BTreeMap<String, f64> {
        let mut sums = BTreeMap::new();
        for (labels, value) in self.samples.get(name).into_iter().flatten() {
            let key = label_value(labels, label).unwrap_or_default();
            *sums.entry(key).or_insert(0.0) += value;
        }
        sums
    }

    /// The cumulative buckets of histogram `name` summed over its series, as (upper bound,
    /// count) sorted by bound; `+Inf` is `f64::INFINITY`.
    pub fn buckets(&self, name: &str) -> Vec<(f64, f64)> {
        let by_bound = self.sum_by(&format!("{name}_bucket"), "le");
        let mut buckets: Vec<(f64, f64)> = by_bound
            .into_iter()
            .filter_map(|(le, count)| {
                let bound = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().ok()?
                };
                Some((bound, count))
            })
            .collect();
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        buckets
    }
}

/// The value of `label` in a `a="x",b="y"` label set.
fn label_value(labels: &str, label: &str) -> Option<String> {
    let start = labels
        .match_indices(&format!("{label}=\""))
        .find(|(i, _)| *i == 0 || labels.as_bytes()[i - 1] == b',')?
        .0
        + label.len()
        + 2;
    let end = labels[start..].find('"')? + start;
    Some(labels[start..end].to_owned())
}

/// The `q` quantile (0 to 1) of the observations between two cumulative bucket readings
/// (`before` may be empty), interpolated within the bucket as Prometheus does; `None` when
/// nothing was observed in between.
pub fn quantile(q: f64, before: &[(f64, f64)], after: &[(f64, f64)]) -> Option<f64> {
    let delta: Vec<(f64, f64)> = after
        .iter()
        .map(|&(bound, count)| {
            let earlier = before
                .iter()
                .find(|(b, _)| *b == bound)
                .map_or(0.0, |(_, c)| *c);
            (bound, (count - earlier).max(0.0))
        })
        .collect();
    let total = delta.last()?.1;
    if total <= 0.0 {
        return None;
    }
    let rank = q * total;
    let mut lower = (0.0, 0.0);
    for &(bound, count) in &delta {
        if count >= rank {
            if bound.is_infinite() {
                return Some(lower.0);
            }
            let within = count - lower.1;
            let share = if within > 0.0 {
                (rank - lower.1) / within
            } else {
                1.0
            };
            return Some(lower.0 + (bound - lower.0) * share);
        }
        lower = (bound, count);
    }
    Some(lower.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# HELP payments_ingest_rejected_total rejected
# TYPE payments_ingest_rejected_total counter
payments_ingest_rejected_total{field="amount"} 3
payments_ingest_rejected_total{field="payment_id"} 2
payments_ingest_accepted_total 1200
payments_end_to_end_latency_seconds_bucket{le="0.1"} 10
payments_end_to_end_latency_seconds_bucket{le="1"} 90
payments_end_to_end_latency_seconds_bucket{le="+Inf"} 100
payments_store_written_total{system="sqlite",x_system="no"} 7
"#;

    #[test]
    fn sums_and_labels_are_read() {
        let scrape = Scrape::parse(TEXT);
        assert_eq!(scrape.sum("payments_ingest_rejected_total"), 5.0);
        assert_eq!(scrape.sum("payments_ingest_accepted_total"), 1200.0);
        assert_eq!(scrape.sum("absent_total"), 0.0);
        let by_field = scrape.sum_by("payments_ingest_rejected_total", "field");
        assert_eq!(by_field.get("amount"), Some(&3.0));
        let by_system = scrape.sum_by("payments_store_written_total", "system");
        assert_eq!(by_system.get("sqlite"), Some(&7.0));
    }

    #[test]
    fn quantiles_interpolate_within_the_bucket() {
        let buckets = Scrape::parse(TEXT).buckets("payments_end_to_end_latency_seconds");
        assert_eq!(buckets.len(), 3);
        // 50th of 100: in (0.1, 1], 40 of its 80 observations in.
        let p50 = quantile(0.5, &[], &buckets).unwrap();
        assert!((p50 - 0.55).abs() < 1e-9, "{p50}");
        // Past the last finite bound: that bound.
        assert_eq!(quantile(0.99, &[], &buckets), Some(1.0));
        // Nothing new between two equal readings.
        assert_eq!(quantile(0.5, &buckets, &buckets), None);
    }
}
