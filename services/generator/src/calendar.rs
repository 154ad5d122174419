//! Business days: value and settlement dates skip weekends.

use chrono::{DateTime, Datelike, Duration, Utc, Weekday};

/// `at` moved forward by `days` business days (Monday to Friday); with `days == 0`, a
/// weekend instant moves to the next Monday.
pub fn add_business_days(at: DateTime<Utc>, days: u32) -> DateTime<Utc> {
    let mut out = at;
    let mut left = days;
    while matches!(out.weekday(), Weekday::Sat | Weekday::Sun) {
        out += Duration::days(1);
    }
    while left > 0 {
        out += Duration::days(1);
        if !matches!(out.weekday(), Weekday::Sat | Weekday::Sun) {
            left -= 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn skips_weekends() {
        let friday = Utc.with_ymd_and_hms(2025, 1, 10, 15, 0, 0).single();
        let monday = Utc.with_ymd_and_hms(2025, 1, 13, 15, 0, 0).single();
        assert_eq!(friday.map(|f| add_business_days(f, 1)), monday);
        let saturday = Utc.with_ymd_and_hms(2025, 1, 11, 15, 0, 0).single();
        assert_eq!(saturday.map(|s| add_business_days(s, 0)), monday);
    }
}
