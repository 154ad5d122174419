//! One write per payment per batch: backends whose batch statement may touch a row only
//! once (PostgreSQL's ON CONFLICT, MongoDB's upserts) keep each payment's latest revision.

use payments_core::pb;
use std::collections::HashMap;

/// The latest revision of each payment in `payments` (one statement may touch a row once),
/// in first-seen order.
pub fn latest_revisions(payments: &[pb::Payment]) -> Vec<&pb::Payment> {
    latest_of(payments, |payment| payment)
}

/// [`latest_revisions`] of `items`, each holding the payment `payment_of` gives.
pub fn latest_of<T>(items: &[T], payment_of: impl Fn(&T) -> &pb::Payment) -> Vec<&T> {
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(items.len());
    let mut out: Vec<&T> = Vec::with_capacity(items.len());
    for item in items {
        let payment = payment_of(item);
        match index.get(payment.payment_id.as_str()) {
            Some(&i) if payment_of(out[i]).revision >= payment.revision => {}
            Some(&i) => out[i] = item,
            None => {
                index.insert(&payment.payment_id, out.len());
                out.push(item);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use payments_core::sample::ach_payment;

    #[test]
    fn keeps_the_highest_revision_of_each_payment_in_order() {
        let mut a2 = ach_payment("A", 0);
        a2.revision = 2;
        let mut a1 = a2.clone();
        a1.revision = 1;
        let b = ach_payment("B", 1);
        let got: Vec<(String, u32)> = latest_revisions(&[a1, b, a2])
            .iter()
            .map(|p| (p.payment_id.clone(), p.revision))
            .collect();
        assert_eq!(got, vec![("A".to_owned(), 2), ("B".to_owned(), b_rev())]);
    }

    fn b_rev() -> u32 {
        ach_payment("B", 1).revision
    }
}
