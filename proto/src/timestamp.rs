//! [`Timestamp`]: `google.protobuf.Timestamp`, whose proto3 JSON form is written without
//! allocating.
//!
//! pbjson's own `Timestamp` writes its JSON through chrono's `to_rfc3339`: a new `String` and
//! `core::fmt` for every field. A payment holds six to ten timestamps, and in a `perf` profile of
//! `paymentsctl generate --format jsonl` they took 12% of the time. Here an instant in the years
//! 0000–9999 (every one a payment holds) is written from its digits on the stack; any other
//! value, and every value read, goes through pbjson's type, so the JSON (and each error) is
//! the same byte for byte.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time: seconds and nanoseconds since the Unix epoch, UTC (the protobuf
/// well-known type, field for field and tag for tag). Its JSON is RFC 3339, as chrono's
/// `to_rfc3339` writes it: `2025-01-06T09:00:01.585+00:00`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, ::prost::Message)]
pub struct Timestamp {
    /// Seconds since 1970-01-01T00:00:00Z.
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    /// Nanoseconds into the second, 0 to 999,999,999.
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

impl From<pbjson_types::Timestamp> for Timestamp {
    fn from(value: pbjson_types::Timestamp) -> Self {
        Self {
            seconds: value.seconds,
            nanos: value.nanos,
        }
    }
}

impl From<Timestamp> for pbjson_types::Timestamp {
    fn from(value: Timestamp) -> Self {
        Self {
            seconds: value.seconds,
            nanos: value.nanos,
        }
    }
}

/// Seconds from the Unix epoch to 0000-01-01T00:00:00Z.
const FIRST_SECOND: i64 = -62_167_219_200;

/// Seconds from the Unix epoch to 9999-12-31T23:59:59Z.
const LAST_SECOND: i64 = 253_402_300_799;

/// The longest text [`Timestamp::write_rfc3339`] writes:
/// `9999-12-31T23:59:59.999999999+00:00`.
const RFC3339_MAX_BYTES: usize = 35;

impl Timestamp {
    /// Writes the instant as chrono's `to_rfc3339` does, into `out`, and returns the bytes
    /// written; `None` for an instant outside the years 0000–9999 or nanoseconds outside
    /// 0–999,999,999 (leap seconds included), which chrono writes or refuses in its own way.
    fn write_rfc3339(self, out: &mut [u8; RFC3339_MAX_BYTES]) -> Option<usize> {
        if !(FIRST_SECOND..=LAST_SECOND).contains(&self.seconds)
            || !(0..1_000_000_000).contains(&self.nanos)
        {
            return None;
        }
        let days = self.seconds.div_euclid(86_400);
        let second_of_day = self.seconds.rem_euclid(86_400) as u32;
        let (year, month, day) = civil_from_days(days);
        put_digits(&mut out[0..4], year);
        out[4] = b'-';
        put_digits(&mut out[5..7], month);
        out[7] = b'-';
        put_digits(&mut out[8..10], day);
        out[10] = b'T';
        put_digits(&mut out[11..13], second_of_day / 3_600);
        out[13] = b':';
        put_digits(&mut out[14..16], second_of_day / 60 % 60);
        out[16] = b':';
        put_digits(&mut out[17..19], second_of_day % 60);
        let nanos = self.nanos as u32;
        // chrono's `SecondsFormat::AutoSi`: none, milli-, micro- or nanoseconds, the fewest
        // digits that hold the value exactly.
        let mut end = 19;
        let (fraction, digits) = if nanos == 0 {
            (0, 0)
        } else if nanos.is_multiple_of(1_000_000) {
            (nanos / 1_000_000, 3)
        } else if nanos.is_multiple_of(1_000) {
            (nanos / 1_000, 6)
        } else {
            (nanos, 9)
        };
        if digits > 0 {
            out[end] = b'.';
            put_digits(&mut out[end + 1..end + 1 + digits], fraction);
            end += 1 + digits;
        }
        out[end..end + 6].copy_from_slice(b"+00:00");
        Some(end + 6)
    }
}

/// Writes `value` in decimal into all of `out`, zero-padded on the left (digits beyond
/// `out`'s length are dropped; callers give room for every digit). Two digits at a time, from
/// a table: a payment's timestamps are some two hundred digits, and a payment's JSON took
/// 2–5% less time so than one digit at a time (`cargo bench -p payments-generator --bench
/// generate -- json`).
fn put_digits(out: &mut [u8], mut value: u32) {
    let mut end = out.len();
    while end >= 2 {
        let pair = (value % 100) as usize;
        out[end - 2..end].copy_from_slice(&DIGIT_PAIRS[pair]);
        value /= 100;
        end -= 2;
    }
    if end == 1 {
        out[0] = b'0' + (value % 10) as u8;
    }
}

/// `00` to `99`, as text.
const DIGIT_PAIRS: [[u8; 2]; 100] = {
    let mut pairs = [[0; 2]; 100];
    let mut i = 0;
    while i < 100 {
        pairs[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        i += 1;
    }
    pairs
};

/// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard Hinnant's
/// `civil_from_days`): year, month 1–12, day 1–31. Exact for every day of the years 0000–9999.
fn civil_from_days(days: i64) -> (u32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // Within the years 0000–9999 every part is small and not negative.
    (year as u32, month as u32, day as u32)
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut text = [0; RFC3339_MAX_BYTES];
        match self.write_rfc3339(&mut text) {
            Some(len) => serializer.serialize_str(
                // Only ASCII digits and punctuation were written.
                std::str::from_utf8(&text[..len]).map_err(serde::ser::Error::custom)?,
            ),
            None => pbjson_types::Timestamp::from(*self).serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        pbjson_types::Timestamp::deserialize(deserializer).map(Self::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The JSON pbjson's own type writes for the same instant, or its error.
    fn pbjson_json(seconds: i64, nanos: i32) -> Result<String, String> {
        serde_json::to_string(&pbjson_types::Timestamp { seconds, nanos })
            .map_err(|e| e.to_string())
    }

    fn our_json(seconds: i64, nanos: i32) -> Result<String, String> {
        serde_json::to_string(&Timestamp { seconds, nanos }).map_err(|e| e.to_string())
    }

    #[test]
    fn every_instant_is_written_as_pbjson_writes_it() {
        let mut rng = fastrand::Rng::with_seed(7);
        let seconds_edges = [
            i64::MIN,
            FIRST_SECOND - 1,
            FIRST_SECOND,
            -62_135_596_800, // 0001-01-01
            -1,
            0,
            1,
            951_782_400,   // 2000-02-29
            4_107_542_400, // 2100-02-28
            LAST_SECOND,
            LAST_SECOND + 1,
            i64::MAX,
        ];
        let nanos_edges = [
            i32::MIN,
            -1,
            0,
            1,
            1_000,
            1_000_000,
            585_000_000,
            999_999_999,
            1_000_000_000,
            1_999_999_999,
            i32::MAX,
        ];
        for &seconds in &seconds_edges {
            for &nanos in &nanos_edges {
                assert_eq!(
                    our_json(seconds, nanos),
                    pbjson_json(seconds, nanos),
                    "{seconds}s {nanos}ns"
                );
            }
        }
        for _ in 0..200_000 {
            let seconds = match rng.u8(0..4) {
                0 => rng.i64(..),
                1 => rng.i64(FIRST_SECOND - 86_400..=LAST_SECOND + 86_400),
                _ => rng.i64(0..4_102_444_800), // 1970–2100
            };
            let nanos = match rng.u8(0..5) {
                0 => rng.i32(..),
                1 => rng.i32(0..1_000) * 1_000_000,
                2 => rng.i32(0..1_000_000) * 1_000,
                3 => 0,
                _ => rng.i32(0..1_000_000_000),
            };
            assert_eq!(
                our_json(seconds, nanos),
                pbjson_json(seconds, nanos),
                "{seconds}s {nanos}ns"
            );
        }
    }

    #[test]
    fn every_day_of_the_years_0000_to_9999_has_its_date() {
        // The calendar walked day by day, so every month length and leap year is crossed.
        let mut days = FIRST_SECOND / 86_400;
        for year in 0..=9999u32 {
            let leap =
                year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
            for (month, length) in (1..).zip([
                31,
                28 + u32::from(leap),
                31,
                30,
                31,
                30,
                31,
                31,
                30,
                31,
                30,
                31,
            ]) {
                for day in 1..=length {
                    assert_eq!(civil_from_days(days), (year, month, day), "day {days}");
                    days += 1;
                }
            }
        }
        assert_eq!(days * 86_400 - 1, LAST_SECOND);
    }

    #[test]
    fn json_is_read_as_pbjson_reads_it() {
        for text in [
            "\"2025-01-06T09:00:01.585+00:00\"",
            "\"2025-01-06T09:00:01Z\"",
            "\"2025-01-06T11:00:01.123456789+02:00\"",
            "\"1969-12-31T23:59:59.999999999Z\"",
            "\"2025-01-06\"",
            "\"not a time\"",
            "17",
        ] {
            let ours = serde_json::from_str::<Timestamp>(text).map_err(|e| e.to_string());
            let theirs = serde_json::from_str::<pbjson_types::Timestamp>(text)
                .map(Timestamp::from)
                .map_err(|e| e.to_string());
            assert_eq!(ours, theirs, "{text}");
        }
    }

    #[test]
    fn protobuf_bytes_are_those_of_the_well_known_type() {
        use prost::Message;
        let ours = Timestamp {
            seconds: 1_736_154_001,
            nanos: 585_000_000,
        };
        let theirs = pbjson_types::Timestamp::from(ours);
        assert_eq!(ours.encode_to_vec(), theirs.encode_to_vec());
        assert_eq!(
            Timestamp::decode(theirs.encode_to_vec().as_slice()).expect("decodes"),
            ours
        );
    }
}
