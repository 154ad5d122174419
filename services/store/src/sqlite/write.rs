//! Batched, revision-guarded upserts.

use crate::Result;
use crate::columns::PaymentColumns;
use payments_core::pb;
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

/// Rows per INSERT statement (12 bound values each, well under SQLite's 32,766).
const ROWS_PER_STATEMENT: usize = 500;

/// Upserts `payments` in one transaction; a row is replaced only by a higher revision.
pub async fn upsert_batch(pool: &SqlitePool, payments: &[pb::Payment]) -> Result<u64> {
    if payments.is_empty() {
        return Ok(0);
    }
    let stored_at = chrono::Utc::now().timestamp_micros();
    let rows: Vec<PaymentColumns> = payments.iter().map(PaymentColumns::new).collect();
    let mut tx = pool.begin().await?;
    let mut written = 0;
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let mut query: QueryBuilder<'_, Sqlite> = QueryBuilder::new(
            "INSERT INTO payments (payment_id, revision, payment_type, status, created_at, originator_id, \
             beneficiary_id, amount_minor, currency, row_key, body, stored_at) ",
        );
        query.push_values(chunk, |mut row, c| {
            row.push_bind(&c.payment_id)
                .push_bind(c.revision)
                .push_bind(c.payment_type)
                .push_bind(c.status)
                .push_bind(c.created_micros)
                .push_bind(&c.originator_id)
                .push_bind(&c.beneficiary_id)
                .push_bind(c.amount_minor)
                .push_bind(&c.currency)
                .push_bind(&c.row_key)
                .push_bind(&c.body)
                .push_bind(stored_at);
        });
        query.push(
            " ON CONFLICT (payment_id) DO UPDATE SET revision = excluded.revision, \
             payment_type = excluded.payment_type, status = excluded.status, created_at = excluded.created_at, \
             originator_id = excluded.originator_id, beneficiary_id = excluded.beneficiary_id, \
             amount_minor = excluded.amount_minor, currency = excluded.currency, row_key = excluded.row_key, \
             body = excluded.body, stored_at = excluded.stored_at \
             WHERE excluded.revision > payments.revision",
        );
        // Only the full-size statement is worth caching: each distinct chunk size is its own
        // prepared statement of thousands of parameters, and caching every size seen would
        // hold on to megabytes per connection.
        let persistent = chunk.len() == ROWS_PER_STATEMENT;
        written += query
            .build()
            .persistent(persistent)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    }
    tx.commit().await?;
    Ok(written)
}
