//! Bank identifiers: ABA routing numbers, IBANs and BICs — checks, and builders that compute
//! check digits (the generator uses these so that every identifier it draws is valid).

/// Why an identifier is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentifierError {
    /// Wrong number of characters.
    #[error("must be {expected} characters, got {actual}")]
    Length {
        /// The length required.
        expected: String,
        /// The length given.
        actual: usize,
    },
    /// A character outside the allowed set.
    #[error("{0}")]
    Charset(&'static str),
    /// The check digits do not match.
    #[error("check digit mismatch")]
    CheckDigit,
    /// The country is not one this scheme knows.
    #[error("unknown country code {0:?}")]
    Country(String),
}

const ABA_WEIGHTS: [u32; 9] = [3, 7, 1, 3, 7, 1, 3, 7, 1];

/// Checks a US ABA routing transit number: nine digits whose 3-7-1 weighted sum is a
/// multiple of ten.
pub fn validate_aba(value: &str) -> Result<(), IdentifierError> {
    let bytes = value.as_bytes();
    if bytes.len() != 9 {
        return Err(IdentifierError::Length {
            expected: "9".into(),
            actual: bytes.len(),
        });
    }
    if !bytes.iter().all(u8::is_ascii_digit) {
        return Err(IdentifierError::Charset("must be digits only"));
    }
    let sum: u32 = bytes
        .iter()
        .zip(ABA_WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    if sum.is_multiple_of(10) {
        Ok(())
    } else {
        Err(IdentifierError::CheckDigit)
    }
}

/// Returns the check digit that completes eight ABA digits (`prefix` holds values 0..=9).
pub fn aba_check_digit(prefix: [u8; 8]) -> u8 {
    let sum: u32 = prefix
        .iter()
        .zip(ABA_WEIGHTS)
        .map(|(d, w)| u32::from(*d) * w)
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// IBAN length per country: the countries of the ISO 13616 IBAN registry, sorted.
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BI", 27),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DJ", 27),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FK", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HN", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("LY", 25),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MN", 20),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NI", 28),
    ("NL", 18),
    ("NO", 15),
    ("OM", 23),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("RU", 33),
    ("SA", 24),
    ("SC", 31),
    ("SD", 18),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("SO", 23),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
    ("YE", 30),
];

/// The IBAN length of a country in the ISO 13616 registry, or `None` for a country that
/// has no IBAN.
pub fn iban_length(country: &str) -> Option<usize> {
    IBAN_LENGTHS
        .binary_search_by(|(c, _)| (*c).cmp(country))
        .ok()
        .map(|i| IBAN_LENGTHS[i].1)
}

/// Remainder modulo 97 of an IBAN rearranged as ISO 7064 prescribes (country and check
/// digits moved to the end, letters as 10..35).
fn iban_mod97(country: &str, check: &str, bban: &str) -> Option<u32> {
    let mut rem: u32 = 0;
    for c in bban.chars().chain(country.chars()).chain(check.chars()) {
        let v = c.to_digit(36)?;
        rem = if v < 10 {
            (rem * 10 + v) % 97
        } else {
            (rem * 100 + v) % 97
        };
    }
    Some(rem)
}

/// Checks an IBAN (electronic form, no spaces): known country, that country's length,
/// alphanumeric, and ISO 7064 mod-97 check digits.
pub fn validate_iban(value: &str) -> Result<(), IdentifierError> {
    if !value
        .bytes()
        .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
    {
        return Err(IdentifierError::Charset(
            "must be upper-case letters and digits, no spaces",
        ));
    }
    if value.len() < 4 {
        return Err(IdentifierError::Length {
            expected: "15 to 34".into(),
            actual: value.len(),
        });
    }
    let (country, rest) = value.split_at(2);
    let expected = iban_length(country).ok_or_else(|| IdentifierError::Country(country.into()))?;
    if value.len() != expected {
        return Err(IdentifierError::Length {
            expected: expected.to_string(),
            actual: value.len(),
        });
    }
    let (check, bban) = rest.split_at(2);
    match iban_mod97(country, check, bban) {
        Some(1) => Ok(()),
        _ => Err(IdentifierError::CheckDigit),
    }
}

/// Builds a valid IBAN from a country code and a BBAN of the right length for it.
pub fn iban_from_bban(country: &str, bban: &str) -> Option<String> {
    let rem = iban_mod97(country, "00", bban)?;
    Some(format!("{country}{:02}{bban}", 98 - rem))
}

/// Checks the shape of an ISO 9362 BIC: 4 letters (bank), 2 letters (country), 2
/// alphanumerics (location), optionally 3 alphanumerics (branch).
pub fn validate_bic(value: &str) -> Result<(), IdentifierError> {
    let b = value.as_bytes();
    if b.len() != 8 && b.len() != 11 {
        return Err(IdentifierError::Length {
            expected: "8 or 11".into(),
            actual: b.len(),
        });
    }
    let alnum = |c: &u8| c.is_ascii_uppercase() || c.is_ascii_digit();
    if !b[..6].iter().all(u8::is_ascii_uppercase) {
        return Err(IdentifierError::Charset(
            "bank and country code must be 6 upper-case letters",
        ));
    }
    if !b[6..].iter().all(alnum) {
        return Err(IdentifierError::Charset(
            "location and branch must be upper-case letters or digits",
        ));
    }
    Ok(())
}

/// The country code (characters 5 and 6) of a BIC whose shape is valid.
pub fn bic_country(value: &str) -> Option<&str> {
    value.get(4..6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aba_known_numbers() {
        assert_eq!(validate_aba("021000021"), Ok(())); // JPMorgan Chase
        assert_eq!(validate_aba("011000015"), Ok(())); // Federal Reserve Boston
        assert_eq!(validate_aba("021000022"), Err(IdentifierError::CheckDigit));
        assert!(matches!(
            validate_aba("12345678"),
            Err(IdentifierError::Length { .. })
        ));
        assert!(matches!(
            validate_aba("02100002A"),
            Err(IdentifierError::Charset(_))
        ));
    }

    #[test]
    fn aba_check_digit_completes_prefix() {
        assert_eq!(aba_check_digit([0, 2, 1, 0, 0, 0, 0, 2]), 1);
    }

    #[test]
    fn iban_known_numbers() {
        assert_eq!(validate_iban("DE89370400440532013000"), Ok(()));
        assert_eq!(validate_iban("GB82WEST12345698765432"), Ok(()));
        assert_eq!(
            validate_iban("DE89370400440532013001"),
            Err(IdentifierError::CheckDigit)
        );
        assert!(matches!(
            validate_iban("DE8937040044053201300"),
            Err(IdentifierError::Length { .. })
        ));
        assert!(matches!(
            validate_iban("XX89370400440532013000"),
            Err(IdentifierError::Country(_))
        ));
        assert!(matches!(
            validate_iban("de89370400440532013000"),
            Err(IdentifierError::Charset(_))
        ));
    }

    #[test]
    fn iban_registry_is_sorted_and_covers_non_sepa_countries() {
        assert!(IBAN_LENGTHS.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(validate_iban("SA0380000000608010167519"), Ok(()));
        assert_eq!(validate_iban("AE070331234567890123456"), Ok(()));
        assert_eq!(validate_iban("BR1800360305000010009795493C1"), Ok(()));
        assert_eq!(iban_length("US"), None);
    }

    #[test]
    fn iban_builder_round_trips() {
        assert_eq!(
            iban_from_bban("DE", "370400440532013000").as_deref(),
            Some("DE89370400440532013000")
        );
    }

    #[test]
    fn bic_shapes() {
        assert_eq!(validate_bic("DEUTDEFF"), Ok(()));
        assert_eq!(validate_bic("DEUTDEFF500"), Ok(()));
        assert!(validate_bic("DEUTDEF").is_err());
        assert!(validate_bic("SWIFT123").is_err());
        assert_eq!(bic_country("DEUTDEFF"), Some("DE"));
    }
}
