//! Batched, revision-guarded upserts: the batch travels as one array per column and is
//! expanded by UNNEST, so a batch of thousands is one statement and one round trip.

use crate::Result;
use crate::columns::PaymentColumns;
use payments_core::pb;
use sqlx::PgPool;
use std::collections::HashMap;

const UPSERT: &str = "INSERT INTO payments (payment_id, revision, payment_type, status, created_at, \
     originator_id, beneficiary_id, amount_minor, currency, row_key, body, doc) \
     SELECT id, rev, rail, st, created, orig, benef, amount, cur, rk, body, doc::jsonb \
     FROM UNNEST($1::text[], $2::bigint[], $3::int[], $4::int[], $5::bigint[], $6::text[], \
                 $7::text[], $8::bigint[], $9::text[], $10::text[], $11::bytea[], $12::text[]) \
          AS u(id, rev, rail, st, created, orig, benef, amount, cur, rk, body, doc) \
     ON CONFLICT (payment_id) DO UPDATE SET revision = excluded.revision, \
         payment_type = excluded.payment_type, status = excluded.status, \
         created_at = excluded.created_at, originator_id = excluded.originator_id, \
         beneficiary_id = excluded.beneficiary_id, amount_minor = excluded.amount_minor, \
         currency = excluded.currency, row_key = excluded.row_key, body = excluded.body, \
         doc = excluded.doc, stored_at = now() \
     WHERE excluded.revision > payments.revision";

/// The latest revision of each payment in `payments` (one statement may touch a row once),
/// in first-seen order.
fn latest_revisions(payments: &[pb::Payment]) -> Vec<&pb::Payment> {
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(payments.len());
    let mut out: Vec<&pb::Payment> = Vec::with_capacity(payments.len());
    for payment in payments {
        match index.get(payment.payment_id.as_str()) {
            Some(&i) if out[i].revision >= payment.revision => {}
            Some(&i) => out[i] = payment,
            None => {
                index.insert(&payment.payment_id, out.len());
                out.push(payment);
            }
        }
    }
    out
}

/// Upserts `payments` in one statement; a row is replaced only by a higher revision.
pub async fn upsert_batch(pool: &PgPool, payments: &[pb::Payment]) -> Result<u64> {
    if payments.is_empty() {
        return Ok(0);
    }
    let latest = latest_revisions(payments);
    let n = latest.len();
    let mut ids = Vec::with_capacity(n);
    let mut revisions = Vec::with_capacity(n);
    let mut rails = Vec::with_capacity(n);
    let mut statuses = Vec::with_capacity(n);
    let mut created = Vec::with_capacity(n);
    let mut originators = Vec::with_capacity(n);
    let mut beneficiaries = Vec::with_capacity(n);
    let mut amounts = Vec::with_capacity(n);
    let mut currencies = Vec::with_capacity(n);
    let mut row_keys = Vec::with_capacity(n);
    let mut bodies = Vec::with_capacity(n);
    let mut docs = Vec::with_capacity(n);
    for payment in latest {
        let c = PaymentColumns::new(payment);
        docs.push(serde_json::to_string(payment).map_err(|e| {
            crate::Error::Backend(format!("encoding {} as JSON: {e}", c.payment_id))
        })?);
        ids.push(c.payment_id);
        revisions.push(c.revision);
        rails.push(c.payment_type);
        statuses.push(c.status);
        created.push(c.created_micros);
        originators.push(c.originator_id);
        beneficiaries.push(c.beneficiary_id);
        amounts.push(c.amount_minor);
        currencies.push(c.currency);
        row_keys.push(c.row_key);
        bodies.push(c.body);
    }
    let done = sqlx::query(UPSERT)
        .bind(ids)
        .bind(revisions)
        .bind(rails)
        .bind(statuses)
        .bind(created)
        .bind(originators)
        .bind(beneficiaries)
        .bind(amounts)
        .bind(currencies)
        .bind(row_keys)
        .bind(bodies)
        .bind(docs)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
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
