//! Reads: by id, filtered pages, aggregates.

use crate::columns::decode_body;
use crate::sql_where::push_where;
use crate::{Cursor, MAX_PAGE_SIZE, Page, PageRequest, PaymentFilter, Result, Stats};
use payments_core::pb;
use sqlx::{QueryBuilder, Row, SqlitePool};

/// The stored payment with this id.
pub async fn get(pool: &SqlitePool, payment_id: &str) -> Result<Option<pb::Payment>> {
    let row = sqlx::query("SELECT body FROM payments WHERE payment_id = ?")
        .bind(payment_id)
        .fetch_optional(pool)
        .await?;
    row.map(|r| decode_body(payment_id, r.get::<&[u8], _>(0)))
        .transpose()
}

/// One page in (`created_at`, `payment_id`) order.
pub async fn list(pool: &SqlitePool, filter: &PaymentFilter, page: &PageRequest) -> Result<Page> {
    let size = page.size.clamp(1, MAX_PAGE_SIZE);
    let mut query = QueryBuilder::new("SELECT payment_id, created_at, body FROM payments");
    push_where(&mut query, filter, page.after.as_ref());
    query
        .push(" ORDER BY created_at, payment_id LIMIT ")
        .push_bind(i64::from(size) + 1);
    let rows = query.build().fetch_all(pool).await?;
    let has_more = rows.len() > size as usize;
    let mut payments = Vec::with_capacity(rows.len().min(size as usize));
    let mut next = None;
    for row in rows.iter().take(size as usize) {
        let id: String = row.get(0);
        payments.push(decode_body(&id, row.get::<&[u8], _>(2))?);
        next = Some(Cursor {
            created_micros: row.get(1),
            payment_id: id,
        });
    }
    Ok(Page {
        payments,
        next: if has_more { next } else { None },
    })
}

/// Counts and totals by rail, currency and status.
pub async fn stats(pool: &SqlitePool, filter: &PaymentFilter) -> Result<Stats> {
    let mut query = QueryBuilder::new(
        // Summed in two halves so that no group can overflow SQLite's 64-bit SUM.
        "SELECT payment_type, status, currency, COUNT(*), \
         SUM(amount_minor / 1000000000), SUM(amount_minor % 1000000000) FROM payments",
    );
    push_where(&mut query, filter, None);
    query.push(" GROUP BY payment_type, status, currency");
    let rows = query.build().fetch_all(pool).await?;
    Ok(Stats::from_groups(rows.iter().map(|r| {
        let rail = pb::PaymentType::try_from(r.get::<i32, _>(0))
            .unwrap_or_default()
            .as_str_name()
            .to_owned();
        let status = pb::PaymentStatus::try_from(r.get::<i32, _>(1))
            .unwrap_or_default()
            .as_str_name()
            .to_owned();
        (
            rail,
            status,
            r.get::<String, _>(2),
            r.get::<i64, _>(3),
            i128::from(r.get::<i64, _>(4)) * 1_000_000_000 + i128::from(r.get::<i64, _>(5)),
        )
    })))
}
