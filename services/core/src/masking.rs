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

#[cfg(test)]
mod tests {
    use super::*;

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
