//! Aggregates for GetStats.

use std::collections::BTreeMap;

/// Count and per-currency totals for one key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsBucket {
    /// The key: a rail, currency or status name.
    pub key: String,
    /// Payments with this key.
    pub count: i64,
    /// Total minor units per currency.
    pub totals: BTreeMap<String, i64>,
}

/// Counts and totals by rail, currency and status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// All matching payments.
    pub total_count: i64,
    /// By rail (protobuf enum names).
    pub by_type: Vec<StatsBucket>,
    /// By currency.
    pub by_currency: Vec<StatsBucket>,
    /// By status (protobuf enum names).
    pub by_status: Vec<StatsBucket>,
}

impl Stats {
    /// Builds the three breakdowns from rows of (type, status, currency, count, sum).
    /// Totals too large for 64 bits saturate at `i64::MAX`.
    pub fn from_groups(
        rows: impl IntoIterator<Item = (String, String, String, i64, i128)>,
    ) -> Self {
        let mut by_type: BTreeMap<String, StatsBucket> = BTreeMap::new();
        let mut by_currency: BTreeMap<String, StatsBucket> = BTreeMap::new();
        let mut by_status: BTreeMap<String, StatsBucket> = BTreeMap::new();
        let mut total_count = 0;
        for (rail, status, currency, count, sum) in rows {
            total_count = i64::saturating_add(total_count, count);
            for (map, key) in [
                (&mut by_type, &rail),
                (&mut by_currency, &currency),
                (&mut by_status, &status),
            ] {
                let bucket = map.entry(key.clone()).or_insert_with(|| StatsBucket {
                    key: key.clone(),
                    ..Default::default()
                });
                bucket.count += count;
                let total = bucket.totals.entry(currency.clone()).or_default();
                *total = i64::try_from(i128::from(*total) + sum).unwrap_or(i64::MAX);
            }
        }
        Self {
            total_count,
            by_type: by_type.into_values().collect(),
            by_currency: by_currency.into_values().collect(),
            by_status: by_status.into_values().collect(),
        }
    }
}
