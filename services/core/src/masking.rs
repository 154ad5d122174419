//! Account numbers, IBANs and card numbers cut to their last four characters, for callers who
//! may not see them in full. What is masked goes by the value's shape, never by the type a
//! sender declared for it:
//!
//! - an IBAN (its country's length and a valid mod-97 check), written compact or in groups
//!   separated by spaces or dashes;
//! - a run of 8 or more digits, groups of at least 3 digits separated by one space or dash
//!   allowed (`4111 1111 1111 1111`, `123-456789-01`): card numbers and account numbers.
//!   Dates (`2025-01-06`) and times are not runs: their inner groups are too short.
//!
//! Separators stay where they were, so a masked value keeps its layout.

use crate::identifiers::{validate_aba, validate_iban};
use crate::pb;

/// `value` with every character but the last four replaced by `*` (all of it when it has
/// four or fewer).
pub fn mask_last4(value: &str) -> String {
    let count = value.chars().count();
    let keep = if count > 4 { 4 } else { 0 };
    value
        .chars()
        .enumerate()
        .map(|(i, c)| if i + keep < count { '*' } else { c })
        .collect()
}

/// Masks both parties' account numbers and IBANs, and, by its shape whatever its declared
/// type, a routing value or BIC that holds an IBAN, a card number or a long digit run. A
/// routing number that is a valid ABA number declared as one is a bank's, and stays. The
/// unmodeled members a producer sent are masked as free text.
pub fn mask_accounts(payment: &mut pb::Payment) {
    for party in [payment.originator.as_mut(), payment.beneficiary.as_mut()]
        .into_iter()
        .flatten()
    {
        if let Some(account) = party.account.as_mut() {
            account.account_id = mask_last4(&account.account_id);
            account.iban = mask_last4(&account.iban);
            account.bic = mask_text(&account.bic);
            if let Some(routing) = account.routing_info.as_mut() {
                let declared_aba = routing.r#type == pb::RoutingType::Aba as i32
                    && validate_aba(&routing.value).is_ok();
                if !declared_aba {
                    routing.value = mask_text(&routing.value);
                }
            }
        }
    }
    // A producer's own members are free text to us: an account number may be anywhere.
    for value in payment.unmodeled.values_mut() {
        *value = mask_text(value);
    }
}

/// Shortest run of digits taken for an account or card number in free text.
const ACCOUNT_DIGITS: usize = 8;

/// Shortest group of digits that a separator may join to the next one.
const JOINED_GROUP_DIGITS: usize = 3;

/// IBANs run 15 to 34 characters.
const IBAN_CHARS: std::ops::RangeInclusive<usize> = 15..=34;

/// `text` with every IBAN and every run of 8 or more digits (see the module) cut to its last
/// four characters: for text that is not a payment (a dead letter's raw bytes, an error
/// message), where no field says which value is an account. Mask the whole text before
/// cutting it for display, so that a cut never splits a number into unmasked halves.
pub fn mask_text(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let starts_word = i == 0 || !chars[i - 1].is_ascii_alphanumeric();
        if starts_word
            && chars[i].is_ascii_alphabetic()
            && let Some(end) = iban_at(&chars, i)
        {
            push_masked(&chars[i..end], &mut out);
            i = end;
            continue;
        }
        if chars[i].is_ascii_digit() && (i == 0 || !chars[i - 1].is_ascii_digit()) {
            let (end, digits) = digit_run_at(&chars, i);
            if digits >= ACCOUNT_DIGITS {
                push_masked(&chars[i..end], &mut out);
            } else {
                out.extend(&chars[i..end]);
            }
            i = end;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// Whether `c` may separate the groups of a number written for people.
fn is_separator(c: char) -> bool {
    c == ' ' || c == '-'
}

/// The end of the IBAN starting at `start` (letters and digits, single separators between
/// them allowed), if one starts there.
fn iban_at(chars: &[char], start: usize) -> Option<usize> {
    let mut compact = String::new();
    let mut ends = Vec::new();
    let mut i = start;
    while i < chars.len() && compact.len() < *IBAN_CHARS.end() {
        let c = chars[i];
        if c.is_ascii_alphanumeric() {
            compact.push(c.to_ascii_uppercase());
            i += 1;
            ends.push((compact.len(), i));
        } else if is_separator(c)
            && !compact.is_empty()
            && chars.get(i + 1).is_some_and(char::is_ascii_alphanumeric)
        {
            i += 1;
        } else {
            break;
        }
    }
    // The IBAN must end a word: the longest prefix that validates, and is not followed by
    // more letters or digits straight away.
    ends.into_iter().rev().find_map(|(len, end)| {
        let whole_word = chars.get(end).is_none_or(|c| !c.is_ascii_alphanumeric());
        (IBAN_CHARS.contains(&len) && whole_word && validate_iban(&compact[..len]).is_ok())
            .then_some(end)
    })
}

/// The end of the digit run starting at `start`, and how many digits it holds.
fn digit_run_at(chars: &[char], start: usize) -> (usize, usize) {
    let (mut i, mut digits, mut group) = (start, 0, 0);
    loop {
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
            digits += 1;
            group += 1;
        }
        let joins = group >= JOINED_GROUP_DIGITS
            && chars.get(i).is_some_and(|c| is_separator(*c))
            && chars.get(i + 1).is_some_and(char::is_ascii_digit);
        if !joins {
            return (i, digits);
        }
        i += 1;
        group = 0;
    }
}

/// `chars` with every letter and digit but the last four replaced by `*`; separators stay.
fn push_masked(chars: &[char], out: &mut String) {
    let total = chars.iter().filter(|c| c.is_ascii_alphanumeric()).count();
    let mut seen = 0;
    for &c in chars {
        if c.is_ascii_alphanumeric() {
            seen += 1;
            out.push(if seen + 4 <= total { '*' } else { c });
        } else {
            out.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_digit_runs_in_text_are_cut_to_their_last_four() {
        assert_eq!(
            mask_text(r#"{"account_id":"000123456789","amount":1250}"#),
            r#"{"account_id":"********6789","amount":1250}"#
        );
        assert_eq!(
            mask_text("routing 1234567 id ACH-1"),
            "routing 1234567 id ACH-1"
        );
        assert_eq!(mask_text(""), "");
    }

    #[test]
    fn card_and_account_numbers_written_in_groups_are_masked() {
        assert_eq!(
            mask_text("card 4111 1111 1111 1111 ok"),
            "card **** **** **** 1111 ok"
        );
        assert_eq!(
            mask_text("pan=4111-1111-1111-1111;"),
            "pan=****-****-****-1111;"
        );
        assert_eq!(mask_text("acct 123-456789-01"), "acct ***-****89-01");
    }

    #[test]
    fn ibans_are_masked_compact_or_in_groups_and_in_any_case() {
        assert_eq!(
            mask_text("iban DE89370400440532013000."),
            "iban ******************3000."
        );
        assert_eq!(
            mask_text("to DE89 3704 0044 0532 0130 00 today"),
            "to **** **** **** **** **30 00 today"
        );
        // Letters in the account part, which a digit run alone would leave in clear.
        assert_eq!(
            mask_text("MT84MALT011000012345MTLCAST001S"),
            "***************************001S"
        );
        assert_eq!(
            mask_text("gb29 nwbk 6016 1331 9268 19"),
            "**** **** **** **** **68 19"
        );
    }

    #[test]
    fn dates_times_and_short_numbers_stay() {
        let text = "created 2025-01-06T10:00:00Z, 2025-01-06 10:00, rev 12, ACH-1234";
        assert_eq!(mask_text(text), text);
        // A word that only looks like an IBAN's start, and a failed check, are not IBANs.
        assert_eq!(mask_text("DE89 ok"), "DE89 ok");
        assert_eq!(mask_text("XX00ABCDEFGHIJKLMNOP"), "XX00ABCDEFGHIJKLMNOP");
    }

    #[test]
    fn only_the_last_four_survive() {
        assert_eq!(mask_last4("000123456789"), "********6789");
        assert_eq!(
            mask_last4("DE89370400440532013000"),
            "******************3000"
        );
        assert_eq!(mask_last4("1234"), "****");
        assert_eq!(mask_last4(""), "");
        let mut p = crate::sample::ach_payment("ACH-MASK-1", 0);
        mask_accounts(&mut p);
        let account = p.originator.and_then(|o| o.account).unwrap_or_default();
        assert_eq!(account.account_id, "********6789");
        let routing = account.routing_info.unwrap_or_default();
        assert!(
            !routing.value.contains('*'),
            "an ABA number is not an account"
        );
    }

    #[test]
    fn a_routing_value_is_masked_by_its_shape_not_its_declared_type() {
        let mut p = crate::sample::ach_payment("ACH-MASK-2", 0);
        let declare = |p: &mut pb::Payment, kind: pb::RoutingType, value: &str| {
            if let Some(routing) = p
                .beneficiary
                .as_mut()
                .and_then(|b| b.account.as_mut())
                .and_then(|a| a.routing_info.as_mut())
            {
                routing.r#type = kind as i32;
                routing.value = value.into();
            }
        };
        let routing_of = |p: &pb::Payment| {
            p.beneficiary
                .as_ref()
                .and_then(|b| b.account.as_ref())
                .and_then(|a| a.routing_info.as_ref())
                .map(|r| r.value.clone())
                .unwrap_or_default()
        };
        declare(
            &mut p,
            pb::RoutingType::Swift,
            "DE89 3704 0044 0532 0130 00",
        );
        mask_accounts(&mut p);
        assert_eq!(routing_of(&p), "**** **** **** **** **30 00");
        declare(&mut p, pb::RoutingType::Aba, "4111111111111111");
        mask_accounts(&mut p);
        assert_eq!(routing_of(&p), "************1111");
        declare(&mut p, pb::RoutingType::Swift, "DEUTDEFF");
        mask_accounts(&mut p);
        assert_eq!(routing_of(&p), "DEUTDEFF", "a BIC is a bank's, and stays");
    }
}
