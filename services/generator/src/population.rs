//! The simulated world payments are drawn from: banks with valid identifiers and a pool of
//! corporate customers, each with a stable account at a stable bank.

use crate::rng::DetRng;
use payments_core::identifiers::{aba_check_digit, iban_from_bban, iban_length};
use payments_core::pb;

const NAME_STEMS: &[&str] = &[
    "Northwind",
    "Bluewater",
    "Summit",
    "Ironclad",
    "Evergreen",
    "Redwood",
    "Harborview",
    "Granite",
    "Silverline",
    "Keystone",
    "Meridian",
    "Pinnacle",
    "Riverside",
    "Oakridge",
    "Cascade",
    "Lakeshore",
    "Frontier",
    "Beacon",
    "Crestview",
    "Highland",
    "Sterling",
    "Brightwater",
    "Foxglove",
    "Westbrook",
    "Copperfield",
    "Stonebridge",
    "Maplewood",
    "Clearwater",
    "Eastgate",
    "Ashford",
    "Kingsley",
    "Halvorsen",
];
const NAME_TRADES: &[&str] = &[
    "Logistics",
    "Manufacturing",
    "Foods",
    "Industrial Supply",
    "Healthcare",
    "Software",
    "Construction",
    "Energy",
    "Textiles",
    "Pharmaceuticals",
    "Freight",
    "Packaging",
    "Electronics",
    "Metals",
    "Retail Group",
    "Agriculture",
    "Chemicals",
    "Hospitality",
    "Consulting",
    "Automotive Parts",
];
const US_SUFFIXES: &[&str] = &["Inc", "LLC", "Corp", "Co", "Holdings Inc", "Partners LP"];
const US_PLACES: &[(&str, &str, &str)] = &[
    ("New York", "NY", "100"),
    ("Chicago", "IL", "606"),
    ("Houston", "TX", "770"),
    ("Phoenix", "AZ", "850"),
    ("Philadelphia", "PA", "191"),
    ("San Jose", "CA", "951"),
    ("Columbus", "OH", "432"),
    ("Charlotte", "NC", "282"),
    ("Denver", "CO", "802"),
    ("Seattle", "WA", "981"),
    ("Boston", "MA", "021"),
    ("Atlanta", "GA", "303"),
    ("Minneapolis", "MN", "554"),
    ("Nashville", "TN", "372"),
    ("Portland", "OR", "972"),
    ("Kansas City", "MO", "641"),
];
const STREETS: &[&str] = &[
    "Main St",
    "Market St",
    "Commerce Dr",
    "Industrial Pkwy",
    "Harbor Blvd",
    "Park Ave",
    "Lake St",
    "Oak Ave",
    "Enterprise Way",
    "Corporate Center Dr",
    "Riverside Dr",
    "Elm St",
];
/// Synthetic US banks: (name, Federal Reserve district prefix of the routing number).
const US_BANKS: &[(&str, &str)] = &[
    ("First Harbor Bank", "02"),
    ("Great Plains National Bank", "10"),
    ("Pacific Crest Bank", "12"),
    ("Liberty Trust Bank", "01"),
    ("Lone Star Commerce Bank", "11"),
    ("Heartland Savings Bank", "07"),
    ("Peachtree National Bank", "06"),
    ("Cumberland Valley Bank", "03"),
    ("Lakes Region Bank", "09"),
    ("Gateway Commercial Bank", "08"),
    ("Capitol Federal Trust", "05"),
    ("Buckeye State Bank", "04"),
];
/// European banks: (name, BIC, country, city).
const EU_BANKS: &[(&str, &str, &str, &str)] = &[
    ("Deutsche Bank", "DEUTDEFF", "DE", "Frankfurt am Main"),
    ("Commerzbank", "COBADEFF", "DE", "Frankfurt am Main"),
    ("BNP Paribas", "BNPAFRPP", "FR", "Paris"),
    ("Societe Generale", "SOGEFRPP", "FR", "Paris"),
    ("ING Bank", "INGBNL2A", "NL", "Amsterdam"),
    ("ABN AMRO", "ABNANL2A", "NL", "Amsterdam"),
    ("BBVA", "BBVAESMM", "ES", "Madrid"),
    ("CaixaBank", "CAIXESBB", "ES", "Barcelona"),
    ("UniCredit", "UNCRITMM", "IT", "Milan"),
    ("KBC Bank", "KREDBEBB", "BE", "Brussels"),
    ("Allied Irish Banks", "AIBKIE2D", "IE", "Dublin"),
    ("UniCredit Bank Austria", "BKAUATWW", "AT", "Vienna"),
    ("Nordea Bank", "NDEAFIHH", "FI", "Helsinki"),
];
const EU_SUFFIXES: &[(&str, &str)] = &[
    ("DE", "GmbH"),
    ("FR", "SAS"),
    ("NL", "B.V."),
    ("ES", "S.L."),
    ("IT", "S.p.A."),
    ("BE", "NV"),
    ("IE", "Ltd"),
    ("AT", "GmbH"),
    ("FI", "Oy"),
];
const EU_STREETS: &[&str] = &[
    "Hauptstrasse",
    "Rue de la Paix",
    "Keizersgracht",
    "Calle Mayor",
    "Via Roma",
    "Avenue Louise",
    "Grafton Street",
];

/// A bank a customer holds an account at.
#[derive(Debug, Clone)]
pub struct Bank {
    /// Display name.
    pub name: &'static str,
    /// ABA routing number (US banks) — valid check digit.
    pub aba: String,
    /// BIC; for US banks a synthetic one of valid shape.
    pub bic: String,
    /// ISO country code.
    pub country: &'static str,
}

/// A corporate customer: who it is and its one operating account, as a ready `Party`.
#[derive(Debug, Clone)]
pub struct Customer {
    /// The customer as originator or beneficiary.
    pub party: pb::Party,
    /// Whether it banks in the SEPA area (EUR, IBAN) rather than the US (USD, ABA).
    pub european: bool,
    /// Its regular counterparties (suppliers it pays again and again): positions in the
    /// same region's pool, most frequent first.
    pub counterparties: Vec<u32>,
}

/// Every bank and customer of one seed.
#[derive(Debug, Clone)]
pub struct Population {
    /// US customers.
    pub us: Vec<Customer>,
    /// SEPA-area customers.
    pub eu: Vec<Customer>,
}

impl Population {
    /// Builds `size` customers (about three quarters in the US) deterministically from `seed`.
    pub fn new(seed: u64, size: usize) -> Self {
        let mut rng = DetRng::new(seed ^ 0x5EED_0FC0_FFEE);
        let us_banks: Vec<Bank> = US_BANKS
            .iter()
            .map(|(name, district)| {
                let mut digits = [0u8; 8];
                for (i, c) in district.bytes().enumerate() {
                    digits[i] = c - b'0';
                }
                for d in digits.iter_mut().skip(2) {
                    *d = rng.below(10) as u8;
                }
                let check = aba_check_digit(digits);
                let aba: String = digits
                    .iter()
                    .chain([&check])
                    .map(|d| char::from(b'0' + d))
                    .collect();
                let bic = format!(
                    "{}US{}",
                    bank_code(name),
                    ["33", "3N", "44", "6S"][rng.below(4) as usize]
                );
                Bank {
                    name,
                    aba,
                    bic,
                    country: "US",
                }
            })
            .collect();
        let size = size.max(8);
        let eu_count = size / 4;
        let mut us = Vec::with_capacity(size - eu_count);
        let mut eu = Vec::with_capacity(eu_count);
        for i in 0..size {
            let european = i % 4 == 3;
            let customer = if european {
                eu_customer(&mut rng)
            } else {
                us_customer(&mut rng, &us_banks)
            };
            if european {
                eu.push(customer)
            } else {
                us.push(customer)
            }
        }
        for pool in [&mut us, &mut eu] {
            assign_counterparties(&mut rng, pool);
        }
        Self { us, eu }
    }
}

/// Gives every customer 3 to 24 regular counterparties in its own pool, drawn with a skew
/// towards the pool's front, so a few suppliers are everybody's suppliers (heavy tail).
fn assign_counterparties(rng: &mut DetRng, pool: &mut [Customer]) {
    let n = pool.len() as u64;
    if n < 2 {
        return;
    }
    for (me, customer) in pool.iter_mut().enumerate() {
        let wanted = (3 + rng.below(22)).min(n - 1);
        while (customer.counterparties.len() as u64) < wanted {
            let u = rng.unit();
            let other = ((u * u * u) * n as f64) as u64 % n;
            if other != me as u64 && !customer.counterparties.contains(&(other as u32)) {
                customer.counterparties.push(other as u32);
            }
        }
    }
}

fn bank_code(name: &str) -> String {
    let letters: String = name
        .split_whitespace()
        .filter_map(|w| w.chars().next())
        .collect();
    format!("{:X<4}", letters.to_ascii_uppercase())
        .chars()
        .take(4)
        .collect()
}

fn company_name(rng: &mut DetRng, suffix: &str) -> String {
    format!(
        "{} {} {suffix}",
        rng.pick(NAME_STEMS),
        rng.pick(NAME_TRADES)
    )
}

fn email_domain(name: &str) -> String {
    let stem: String = name
        .split_whitespace()
        .next()
        .unwrap_or("corp")
        .to_ascii_lowercase();
    format!("{stem}.example")
}

fn us_customer(rng: &mut DetRng, banks: &[Bank]) -> Customer {
    let bank = rng.pick(banks);
    let suffix = *rng.pick(US_SUFFIXES);
    let name = company_name(rng, suffix);
    let (city, state, zip) = *rng.pick(US_PLACES);
    let party = pb::Party {
        party_type: pb::PartyType::Corporate as i32,
        party_id: format!("CUST{}", rng.hex(8)),
        email: format!("ap@{}", email_domain(&name)),
        name,
        account: Some(pb::Account {
            account_id: rng.digits(12),
            account_type: if rng.chance(0.85) {
                pb::AccountType::Checking
            } else {
                pb::AccountType::Savings
            } as i32,
            routing_info: Some(pb::RoutingInfo {
                r#type: pb::RoutingType::Aba as i32,
                value: bank.aba.clone(),
            }),
            iban: String::new(),
            bic: bank.bic.clone(),
        }),
        address: Some(pb::Address {
            street: format!("{} {}", 100 + rng.below(9800), rng.pick(STREETS)),
            city: city.into(),
            state: state.into(),
            postal_code: format!("{zip}{:02}", rng.below(100)),
            country: "US".into(),
        }),
        phone: format!("+1-{}-555-{:04}", 200 + rng.below(700), rng.below(10_000)),
    };
    Customer {
        party,
        european: false,
        counterparties: Vec::new(),
    }
}

fn eu_customer(rng: &mut DetRng) -> Customer {
    let (_, bic, country, city) = *rng.pick(EU_BANKS);
    let suffix = EU_SUFFIXES
        .iter()
        .find(|(c, _)| *c == country)
        .map(|(_, s)| *s)
        .unwrap_or("SA");
    let name = company_name(rng, suffix);
    let bban_len = iban_length(country).unwrap_or(22) - 4;
    let bban = rng.digits(bban_len);
    let iban = iban_from_bban(country, &bban).unwrap_or_default();
    let party = pb::Party {
        party_type: pb::PartyType::Corporate as i32,
        party_id: format!("CUST{}", rng.hex(8)),
        email: format!("finance@{}", email_domain(&name)),
        name,
        account: Some(pb::Account {
            account_id: iban.clone(),
            account_type: pb::AccountType::Checking as i32,
            routing_info: Some(pb::RoutingInfo {
                r#type: pb::RoutingType::Iban as i32,
                value: iban.clone(),
            }),
            iban,
            bic: bic.into(),
        }),
        address: Some(pb::Address {
            street: format!("{} {}", rng.pick(EU_STREETS), 1 + rng.below(180)),
            city: city.into(),
            state: String::new(),
            postal_code: rng.digits(5),
            country: country.into(),
        }),
        phone: format!("+{} {}", 30 + rng.below(20), rng.digits(9)),
    };
    Customer {
        party,
        european: true,
        counterparties: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use payments_core::identifiers::{validate_aba, validate_bic, validate_iban};

    #[test]
    fn every_identifier_is_valid() {
        let population = Population::new(1, 400);
        for c in population.us.iter().chain(&population.eu) {
            let account = c.party.account.as_ref();
            let routing = account
                .and_then(|a| a.routing_info.as_ref())
                .map(|r| r.value.as_str())
                .unwrap_or_default();
            if c.european {
                assert_eq!(validate_iban(routing), Ok(()), "{routing}");
            } else {
                assert_eq!(validate_aba(routing), Ok(()), "{routing}");
            }
            assert_eq!(
                validate_bic(account.map(|a| a.bic.as_str()).unwrap_or_default()),
                Ok(())
            );
        }
        assert_eq!(population.us.len() + population.eu.len(), 400);
    }
}
