//! Batched, revision-guarded upserts: the batch travels as one array per column and is
//! expanded by UNNEST, so a batch of thousands is one statement and one round trip. The
//! JSONB document is written only when asked for (`json_doc=true`); otherwise it is NULL.

use crate::Result;
use crate::columns::{PaymentColumns, encoded_at};
use crate::latest::latest_of;
use bytes::Bytes;
use payments_core::pb;
use sqlx::PgPool;

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

/// Payments per statement below which a batch is not split between connections.
const SPLIT_FROM: usize = 1_000;

/// Upserts `payments`; a row is replaced only by a higher revision. With `json_doc`, each
/// row's `doc` holds the payment as proto3 JSON; without, NULL. A large batch is written as
/// two statements on two connections at once (each payment in one of them), so that
/// PostgreSQL works on it with two backends: each half is all-or-nothing, and a failed
/// batch written again changes nothing the first attempt stored. `encoded` are the payments'
/// encodings where the caller holds them (see [`crate::Sink::upsert_encoded`]).
pub async fn upsert_batch(
    pool: &PgPool,
    payments: &[pb::Payment],
    encoded: &[Option<Bytes>],
    json_doc: bool,
) -> Result<u64> {
    if payments.is_empty() {
        return Ok(0);
    }
    let rows: Vec<Row<'_>> = payments
        .iter()
        .enumerate()
        .map(|(index, payment)| (payment, encoded_at(encoded, index)))
        .collect();
    let latest = latest_of(&rows, |(payment, _)| payment);
    if latest.len() < SPLIT_FROM {
        return upsert_statement(pool, &latest, json_doc).await;
    }
    let (first, second) = latest.split_at(latest.len() / 2);
    let (a, b) = futures::future::try_join(
        upsert_statement(pool, first, json_doc),
        upsert_statement(pool, second, json_doc),
    )
    .await?;
    Ok(a + b)
}

/// A payment to write, with its encoding when the caller gave it.
type Row<'a> = (&'a pb::Payment, Option<&'a Bytes>);

/// Upserts `latest` (one revision per payment) in one statement.
async fn upsert_statement(pool: &PgPool, latest: &[&Row<'_>], json_doc: bool) -> Result<u64> {
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
    let mut docs: Vec<Option<String>> = Vec::with_capacity(n);
    for &&(payment, encoded) in latest {
        let c = PaymentColumns::with_encoding(payment, encoded);
        let doc = if json_doc {
            Some(serde_json::to_string(payment).map_err(|e| {
                crate::Error::refused(format!("encoding {} as JSON", c.payment_id), e)
            })?)
        } else {
            None
        };
        docs.push(doc);
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
        bodies.push(Vec::from(c.body));
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
        .await
        .map_err(|e| crate::Error::from_sql("postgres upsert", e))?;
    Ok(done.rows_affected())
}
