//! Money: ISO 4217 currencies with their minor units, and exact conversion between decimal
//! amounts and integer minor units.

/// Active ISO 4217 alphabetic codes (list 1, funds codes included), sorted for binary search.
const ISO_4217: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN",
    "BHD", "BIF", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD",
    "CDF", "CHE", "CHF", "CHW", "CLF", "CLP", "CNY", "COP", "COU", "CRC", "CUP", "CVE", "CZK",
    "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS",
    "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD",
    "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD",
    "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT",
    "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK",
    "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD",
    "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP",
    "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS",
    "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS", "VED", "VES", "VND", "VUV", "WST",
    "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWG",
];

/// Currencies with no minor unit.
const EXPONENT_0: &[&str] = &[
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
    "VUV", "XAF", "XOF", "XPF",
];
/// Currencies with three decimal places.
const EXPONENT_3: &[&str] = &["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];
/// Currencies with four decimal places.
const EXPONENT_4: &[&str] = &["CLF", "UYW"];

/// The largest amount accepted, in minor units (10^15: ten trillion dollars). Keeps every
/// amount exact as a JSON number and lets thousands of them be summed in 64 bits.
pub const MAX_MINOR_UNITS: i64 = 1_000_000_000_000_000;

/// Number of minor-unit decimal places of an ISO 4217 currency (USD 2, JPY 0, BHD 3), or
/// `None` when the code is not an active ISO 4217 code.
pub fn minor_unit_exponent(currency: &str) -> Option<u32> {
    ISO_4217.binary_search(&currency).ok()?;
    Some(if EXPONENT_0.contains(&currency) {
        0
    } else if EXPONENT_3.contains(&currency) {
        3
    } else if EXPONENT_4.contains(&currency) {
        4
    } else {
        2
    })
}

/// Why a decimal amount cannot be expressed in minor units.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// The currency is not an ISO 4217 code.
    #[error("unknown ISO 4217 currency {0:?}")]
    UnknownCurrency(String),
    /// More decimal places than the currency has.
    #[error("{value} has more decimal places than {currency} allows ({exponent})")]
    TooPrecise {
        /// The amount as given.
        value: String,
        /// The currency.
        currency: String,
        /// Its minor-unit exponent.
        exponent: u32,
    },
    /// Not a finite number, or too large for 64-bit minor units.
    #[error("{0} is not a representable amount")]
    OutOfRange(String),
    /// Text that is not a plain non-negative decimal (`1000`, `1000.5`).
    #[error("{0:?} is not a non-negative decimal amount")]
    NotADecimal(String),
}

/// Parses a decimal amount written in major units (`1000.50`) into minor units of
/// `currency`, exactly (no floating point): the one parser of amounts people type, in the
/// console, the CLI and the APIs. Extra decimal places must be zeros; amounts above
/// [`MAX_MINOR_UNITS`] are refused.
pub fn parse_major_units(text: &str, currency: &str) -> Result<i64, AmountError> {
    let exponent = minor_unit_exponent(currency)
        .ok_or_else(|| AmountError::UnknownCurrency(currency.into()))?;
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty() || !digits(whole) || !digits(fraction) {
        return Err(AmountError::NotADecimal(text.into()));
    }
    let (kept, extra) = fraction.split_at(fraction.len().min(exponent as usize));
    if extra.bytes().any(|b| b != b'0') {
        return Err(AmountError::TooPrecise {
            value: text.into(),
            currency: currency.into(),
            exponent,
        });
    }
    let padded = format!("{whole}{kept:0<width$}", width = exponent as usize);
    // Leading zeros parse; only overflow fails here, the text being digits.
    let minor: i64 = padded
        .parse()
        .map_err(|_| AmountError::OutOfRange(text.into()))?;
    if minor > MAX_MINOR_UNITS {
        return Err(AmountError::OutOfRange(text.into()));
    }
    Ok(minor)
}

/// Converts a decimal amount given as a JSON number (as the seed writes amounts) into
/// minor units of `currency`, rejecting values with more decimals than the currency has.
pub fn decimal_to_minor_units(value: f64, currency: &str) -> Result<i64, AmountError> {
    let exponent = minor_unit_exponent(currency)
        .ok_or_else(|| AmountError::UnknownCurrency(currency.into()))?;
    let scaled = value * 10f64.powi(exponent as i32);
    if !scaled.is_finite() || scaled.abs() >= 9.0e15 {
        return Err(AmountError::OutOfRange(value.to_string()));
    }
    let rounded = scaled.round();
    // A decimal the sender wrote with no more places than the currency has lands within a
    // few units in the last place of an integer after scaling; a genuine extra decimal
    // (12345.678 USD) lands at least 0.001 away, far outside that.
    let tolerance = (rounded.abs() * 8.0 * f64::EPSILON).max(1e-9);
    if (scaled - rounded).abs() > tolerance {
        return Err(AmountError::TooPrecise {
            value: value.to_string(),
            currency: currency.into(),
            exponent,
        });
    }
    Ok(rounded as i64)
}

/// Formats minor units as a plain decimal string in the currency's exponent
/// (`90089806` USD → `"900898.06"`, `1500` JPY → `"1500"`); unknown currencies use 2.
pub fn format_minor_units(minor_units: i64, currency: &str) -> String {
    let exponent = minor_unit_exponent(currency).unwrap_or(2);
    if exponent == 0 {
        return minor_units.to_string();
    }
    let divisor = 10i64.pow(exponent);
    let sign = if minor_units < 0 { "-" } else { "" };
    let abs = minor_units.unsigned_abs();
    let (whole, frac) = (abs / divisor as u64, abs % divisor as u64);
    format!("{sign}{whole}.{frac:0width$}", width = exponent as usize)
}

/// The amount as a JSON number, for the seed's response shapes (which carry amounts as
/// numbers). Exact for amounts below 2^53 minor units: the float printed is the decimal.
pub fn minor_units_to_json_number(minor_units: i64, currency: &str) -> f64 {
    let exponent = minor_unit_exponent(currency).unwrap_or(2);
    minor_units as f64 / 10f64.powi(exponent as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_amounts_parse_exactly() {
        assert_eq!(parse_major_units("1000.50", "USD"), Ok(100_050));
        assert_eq!(parse_major_units("12.5", "USD"), Ok(1250));
        assert_eq!(parse_major_units("0.07", "USD"), Ok(7));
        assert_eq!(parse_major_units("2500", "JPY"), Ok(2500));
        assert_eq!(parse_major_units("1.234", "BHD"), Ok(1234));
        assert_eq!(parse_major_units("3.10", "USD"), Ok(310));
        assert_eq!(parse_major_units("3.100", "USD"), Ok(310));
        assert_eq!(parse_major_units("0", "USD"), Ok(0));
        assert_eq!(parse_major_units(".5", "USD"), Ok(50));
        for bad in ["", ".", "-3", "1e3", "1.2.3", "ten", "1,000"] {
            assert_eq!(
                parse_major_units(bad, "USD"),
                Err(AmountError::NotADecimal(bad.into())),
                "{bad:?}"
            );
        }
        assert!(matches!(
            parse_major_units("1.001", "USD"),
            Err(AmountError::TooPrecise { .. })
        ));
        assert!(matches!(
            parse_major_units("99999999999999999999", "USD"),
            Err(AmountError::OutOfRange(_))
        ));
        assert!(matches!(
            parse_major_units("1", "ABC"),
            Err(AmountError::UnknownCurrency(_))
        ));
    }

    #[test]
    fn table_is_sorted_for_binary_search() {
        assert!(ISO_4217.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn exponents() {
        assert_eq!(minor_unit_exponent("USD"), Some(2));
        assert_eq!(minor_unit_exponent("JPY"), Some(0));
        assert_eq!(minor_unit_exponent("BHD"), Some(3));
        assert_eq!(minor_unit_exponent("QQQ"), None);
        assert_eq!(minor_unit_exponent("usd"), None);
    }

    #[test]
    fn decimal_conversion_is_exact() {
        assert_eq!(decimal_to_minor_units(900_898.06, "USD"), Ok(90_089_806));
        assert_eq!(decimal_to_minor_units(0.29, "USD"), Ok(29));
        assert_eq!(decimal_to_minor_units(1500.0, "JPY"), Ok(1500));
        assert_eq!(decimal_to_minor_units(1.234, "BHD"), Ok(1234));
        assert!(matches!(
            decimal_to_minor_units(1.5, "JPY"),
            Err(AmountError::TooPrecise { .. })
        ));
        assert!(matches!(
            decimal_to_minor_units(12_345.678, "USD"),
            Err(AmountError::TooPrecise { .. })
        ));
        assert!(matches!(
            decimal_to_minor_units(7_000_000.001, "USD"),
            Err(AmountError::TooPrecise { .. })
        ));
        assert_eq!(
            decimal_to_minor_units(9_999_999_999_999.99, "USD"),
            Ok(999_999_999_999_999)
        );
        assert_eq!(decimal_to_minor_units(0.07, "USD"), Ok(7));
        assert_eq!(decimal_to_minor_units(1_234_567.89, "USD"), Ok(123_456_789));
        assert!(matches!(
            decimal_to_minor_units(1.001, "USD"),
            Err(AmountError::TooPrecise { .. })
        ));
        assert!(matches!(
            decimal_to_minor_units(1.0, "ABC"),
            Err(AmountError::UnknownCurrency(_))
        ));
    }

    #[test]
    fn formatting() {
        assert_eq!(format_minor_units(90_089_806, "USD"), "900898.06");
        assert_eq!(format_minor_units(5, "USD"), "0.05");
        assert_eq!(format_minor_units(-5, "USD"), "-0.05");
        assert_eq!(format_minor_units(1500, "JPY"), "1500");
        assert_eq!(format_minor_units(1234, "BHD"), "1.234");
        assert_eq!(
            minor_units_to_json_number(90_089_806, "USD").to_string(),
            "900898.06"
        );
    }
}
