//! Reads: by id, filtered pages, aggregates.

use crate::columns::decode_body;
use crate::{Cursor, MAX_PAGE_SIZE, Page, PageRequest, PaymentFilter, Result, Stats};
use payments_core::pb;
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};

/// The stored payment with this id.
pub async fn get(pool: &SqlitePool, payment_id: &str) -> Result<Option<pb::Payment>> {
    let row = sqlx::query("SELECT body FROM payments WHERE payment_id = ?")
        .bind(payment_id)
        .fetch_optional(pool)
        .await?;
    row.map(|r| decode_body(payment_id, r.get::<&[u8], _>(0)))
        .transpose()
}

/// Appends ` WHERE …` for `filter` (and the cursor) to `query`.
fn push_where<'a>(
    query: &mut QueryBuilder<'a, Sqlite>,
    filter: &'a PaymentFilter,
    after: Option<&'a Cursor>,
) {
    query.push(" WHERE 1 = 1");
    if let Some(from) = filter.created_from_micros {
        query.push(" AND created_at >= ").push_bind(from);
    }
    if let Some(to) = filter.created_to_micros {
        query.push(" AND created_at < ").push_bind(to);
    }
    if !filter.payment_types.is_empty() {
        query.push(" AND payment_type IN (");
        let mut list = query.separated(", ");
        for t in &filter.payment_types {
            list.push_bind(*t as i32);
        }
        query.push(")");
    }
    if !filter.statuses.is_empty() {
        query.push(" AND status IN (");
        let mut list = query.separated(", ");
        for s in &filter.statuses {
            list.push_bind(*s as i32);
        }
        query.push(")");
    }
    if let Some(id) = &filter.originator_id {
        query.push(" AND originator_id = ").push_bind(id);
    }
    if let Some(id) = &filter.beneficiary_id {
        query.push(" AND beneficiary_id = ").push_bind(id);
    }
    if let Some(min) = filter.min_amount_minor_units {
        query.push(" AND amount_minor >= ").push_bind(min);
    }
    if let Some(max) = filter.max_amount_minor_units {
        query.push(" AND amount_minor <= ").push_bind(max);
    }
    if let Some(currency) = &filter.currency {
        query.push(" AND currency = ").push_bind(currency);
    }
    if let Some(cursor) = after {
        query
            .push(" AND (created_at, payment_id) > (")
            .push_bind(cursor.created_micros)
            .push(", ")
            .push_bind(&cursor.payment_id)
            .push(")");
    }
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
