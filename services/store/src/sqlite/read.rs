//! Reads: by id, filtered pages, aggregates.

use crate::sql_where::push_where;
use crate::{PaymentFilter, Result, Stats};
use payments_core::pb;
use sqlx::{QueryBuilder, Row, SqlitePool};

crate::sql_read::sql_reads!(sqlx::SqlitePool);

/// The aggregate, before its filter: summed in two halves so that no group can overflow
/// SQLite's 64-bit SUM.
pub(super) const STATS_SELECT: &str = "SELECT payment_type, status, currency, COUNT(*), \
     SUM(amount_minor / 1000000000), SUM(amount_minor % 1000000000) FROM payments";

/// The aggregate's grouping, after its filter.
pub(super) const STATS_GROUP_BY: &str = " GROUP BY payment_type, status, currency";

/// Counts and totals by rail, currency and status.
pub async fn stats(pool: &SqlitePool, filter: &PaymentFilter) -> Result<Stats> {
    let mut query = QueryBuilder::new(STATS_SELECT);
    push_where(&mut query, filter, None);
    query.push(STATS_GROUP_BY);
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
