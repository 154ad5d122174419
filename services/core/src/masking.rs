//! Account numbers and IBANs cut to their last four characters, for callers who may not see
//! them in full.

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

/// Masks the account number and IBAN of both parties, and a routing value that is an IBAN.
pub fn mask_accounts(payment: &mut pb::Payment) {
    for party in [payment.originator.as_mut(), payment.beneficiary.as_mut()]
        .into_iter()
        .flatten()
    {
        if let Some(account) = party.account.as_mut() {
            account.account_id = mask_last4(&account.account_id);
            account.iban = mask_last4(&account.iban);
            if let Some(routing) = account.routing_info.as_mut()
                && routing.r#type == pb::RoutingType::Iban as i32
            {
                routing.value = mask_last4(&routing.value);
            }
        }
    }
}

/// Shortest run of digits taken for an account number in free text.
const ACCOUNT_DIGITS: usize = 8;

/// `text` with every run of 8 or more digits cut to its last four (`********6789`): account
/// numbers and the digits of IBANs in text that is not a payment (a dead letter's raw bytes,
/// an error message), where no field says which value is an account.
pub fn mask_digit_runs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= ACCOUNT_DIGITS {
            out.push_str(&mask_last4(run));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_digit_runs_in_text_are_cut_to_their_last_four() {
        assert_eq!(
            mask_digit_runs(r#"{"account_id":"000123456789","amount":1250}"#),
            r#"{"account_id":"********6789","amount":1250}"#
        );
        assert_eq!(
            mask_digit_runs("iban DE89370400440532013000."),
            "iban DE****************3000."
        );
        assert_eq!(
            mask_digit_runs("routing 1234567 id ACH-1"),
            "routing 1234567 id ACH-1"
        );
        assert_eq!(mask_digit_runs(""), "");
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
}
