//! Timestamps: conversion between protobuf `Timestamp` and `chrono`, and parsing of the
//! seed's zone-less ISO 8601 strings as UTC.

use crate::pb::Timestamp;
use chrono::{
    DateTime, Datelike, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Timelike, Utc,
};

/// A protobuf timestamp for a UTC instant.
pub fn to_timestamp(at: DateTime<Utc>) -> Timestamp {
    Timestamp {
        seconds: at.timestamp(),
        nanos: at.timestamp_subsec_nanos() as i32,
    }
}

/// The UTC instant of a protobuf timestamp, or `None` when it is out of range.
pub fn from_timestamp(ts: &Timestamp) -> Option<DateTime<Utc>> {
    if !(0..1_000_000_000).contains(&ts.nanos) {
        return None;
    }
    Utc.timestamp_opt(ts.seconds, ts.nanos as u32).single()
}

/// Microseconds since the Unix epoch (the unit stores index by).
pub fn timestamp_micros(ts: &Timestamp) -> i64 {
    ts.seconds
        .saturating_mul(1_000_000)
        .saturating_add(i64::from(ts.nanos) / 1_000)
}

/// The timestamp for microseconds since the Unix epoch.
pub fn timestamp_from_micros(micros: i64) -> Timestamp {
    Timestamp {
        seconds: micros.div_euclid(1_000_000),
        nanos: (micros.rem_euclid(1_000_000) * 1_000) as i32,
    }
}

/// Parses an ISO 8601 instant. A value without a zone (as the seed writes them,
/// `2024-12-21T19:42:17.520914`) is UTC; a bare date is its midnight UTC.
pub fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            return Some(naive.and_utc());
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()?
        .and_hms_opt(0, 0, 0)
        .map(|n| n.and_utc())
}

/// Formats an instant as the seed does: ISO 8601 with microseconds and no zone (UTC).
pub fn format_seed_instant(ts: &Timestamp) -> String {
    from_timestamp(ts)
        .map(|at| {
            let at = at.naive_utc();
            let mut out = String::with_capacity(26);
            if !push_compact(&mut out, &at, Compact::SeedInstant) {
                out = at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string();
            }
            out
        })
        .unwrap_or_default()
}

/// The fixed-width shapes [`push_compact`] writes without parsing a format string (chrono's
/// `format` parses its pattern on every call, which dominated writing seed JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compact {
    /// `2024-12-21T19:42:17.520914`, as `%Y-%m-%dT%H:%M:%S%.6f`.
    SeedInstant,
    /// `20241221194217`, as `%Y%m%d%H%M%S`.
    Seconds,
    /// `20241221`, as `%Y%m%d`.
    Date,
}

/// Appends `at` in `shape` to `out` and returns true; for a year outside 0–9999 or a leap
/// second, where the fixed width does not hold, it appends nothing and returns false (the
/// caller then formats with chrono).
pub fn push_compact(out: &mut String, at: &NaiveDateTime, shape: Compact) -> bool {
    let nanos = at.nanosecond();
    let Ok(year) = u32::try_from(at.year()) else {
        return false;
    };
    if year > 9999 || nanos >= 1_000_000_000 {
        return false;
    }
    let fields: &[(u32, usize, &str)] = match shape {
        Compact::SeedInstant => &[
            (year, 4, "-"),
            (at.month(), 2, "-"),
            (at.day(), 2, "T"),
            (at.hour(), 2, ":"),
            (at.minute(), 2, ":"),
            (at.second(), 2, "."),
            (nanos / 1_000, 6, ""),
        ],
        Compact::Seconds => &[
            (year, 4, ""),
            (at.month(), 2, ""),
            (at.day(), 2, ""),
            (at.hour(), 2, ""),
            (at.minute(), 2, ""),
            (at.second(), 2, ""),
        ],
        Compact::Date => &[(year, 4, ""), (at.month(), 2, ""), (at.day(), 2, "")],
    };
    for &(value, width, then) in fields {
        push_zero_padded(out, value, width);
        out.push_str(then);
    }
    true
}

/// Appends the last `width` decimal digits of `value` (at most 10), zero-padded.
fn push_zero_padded(out: &mut String, mut value: u32, width: usize) {
    let mut digits = [b'0'; 10];
    let width = width.min(digits.len());
    for slot in digits[..width].iter_mut().rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
    // ASCII digits only, so always text; one copy, where pushing char by char re-checked
    // the capacity and encoded UTF-8 for each.
    out.push_str(std::str::from_utf8(&digits[..width]).unwrap_or_default());
}

/// Formats an instant as RFC 3339 UTC with microseconds.
pub fn format_rfc3339(ts: &Timestamp) -> String {
    from_timestamp(ts)
        .map(|at| at.to_rfc3339_opts(SecondsFormat::Micros, true))
        .unwrap_or_default()
}

/// Formats an instant as RFC 3339 UTC to the second (`2026-11-25T14:56:00Z`), for people
/// (the console, Kubernetes status).
pub fn format_rfc3339_seconds(ts: &Timestamp) -> String {
    from_timestamp(ts)
        .map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_shapes_are_what_chrono_writes_for_their_patterns() {
        let shapes = [
            (Compact::SeedInstant, "%Y-%m-%dT%H:%M:%S%.6f"),
            (Compact::Seconds, "%Y%m%d%H%M%S"),
            (Compact::Date, "%Y%m%d"),
        ];
        let mut micros = -62_135_596_800_000_000i64; // 0001-01-01
        while micros < 253_402_300_799_000_000 {
            // 9999-12-31T23:59:59
            let at = from_timestamp(&timestamp_from_micros(micros))
                .unwrap()
                .naive_utc();
            for (shape, pattern) in shapes {
                let mut out = String::new();
                assert!(push_compact(&mut out, &at, shape));
                assert_eq!(out, at.format(pattern).to_string(), "{micros}");
            }
            micros += 3_331_333_777_123;
        }
        let far = from_timestamp(&timestamp_from_micros(300_000_000_000_000_000)).unwrap();
        assert!(!push_compact(
            &mut String::new(),
            &far.naive_utc(),
            Compact::Date
        ));
        assert_eq!(
            format_seed_instant(&timestamp_from_micros(300_000_000_000_000_000)),
            far.naive_utc().format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
        );
    }

    #[test]
    fn rfc3339_to_the_second() {
        let ts = timestamp_from_micros(1_795_618_560_123_456);
        assert_eq!(format_rfc3339_seconds(&ts), "2026-11-25T14:56:00Z");
    }

    #[test]
    fn zone_less_is_utc() {
        let at = parse_instant("2024-12-21T19:42:17.520914").map(to_timestamp);
        assert_eq!(
            at.as_ref().map(format_rfc3339).as_deref(),
            Some("2024-12-21T19:42:17.520914Z")
        );
        assert_eq!(
            at.as_ref().map(format_seed_instant).as_deref(),
            Some("2024-12-21T19:42:17.520914")
        );
    }

    #[test]
    fn zoned_and_dates() {
        let at = parse_instant("2024-12-21T20:42:17+01:00").map(to_timestamp);
        assert_eq!(
            at.map(|t| t.seconds),
            parse_instant("2024-12-21T19:42:17").map(|t| t.timestamp())
        );
        assert!(parse_instant("2024-12-21").is_some());
        assert!(parse_instant("yesterday").is_none());
    }

    #[test]
    fn micros_round_trip() {
        let ts = Timestamp {
            seconds: -5,
            nanos: 250_000_000,
        };
        assert_eq!(timestamp_from_micros(timestamp_micros(&ts)), ts);
    }
}
