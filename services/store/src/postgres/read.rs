//! Reads: by id, filtered pages, aggregates.

use crate::sql_where::push_where;
use crate::{Error, PaymentFilter, Result, Stats};
use payments_core::pb;
use sqlx::{PgPool, QueryBuilder, Row};

crate::sql_read::sql_reads!(sqlx::PgPool);

/// Counts and totals by rail, currency and status; sums are exact (NUMERIC, read as text).
pub async fn stats(pool: &PgPool, filter: &PaymentFilter) -> Result<Stats> {
    let mut query = QueryBuilder::new(
        "SELECT payment_type, status, currency, COUNT(*), SUM(amount_minor)::TEXT FROM payments",
    );
    push_where(&mut query, filter, None);
    query.push(" GROUP BY payment_type, status, currency");
    let rows = query.build().fetch_all(pool).await?;
    let mut groups = Vec::with_capacity(rows.len());
    for r in &rows {
        let sum: String = r.get(4);
        let sum: i128 = sum
            .parse()
            .map_err(|e| Error::backend(format!("sum {sum:?} is not an integer"), e))?;
        groups.push((
            pb::PaymentType::try_from(r.get::<i32, _>(0))
                .unwrap_or_default()
                .as_str_name()
                .to_owned(),
            pb::PaymentStatus::try_from(r.get::<i32, _>(1))
                .unwrap_or_default()
                .as_str_name()
                .to_owned(),
            r.get::<String, _>(2),
            r.get::<i64, _>(3),
            sum,
        ));
    }
    Ok(Stats::from_groups(groups))
}
