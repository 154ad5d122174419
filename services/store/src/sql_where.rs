//! The WHERE clause of the SQL backends, from a [`PaymentFilter`] and a page cursor.

use crate::{Cursor, PaymentFilter};
use sqlx::{Database, Encode, QueryBuilder, Type};

/// Appends ` WHERE …` for `filter` (and the cursor) to `query`.
pub(crate) fn push_where<'a, DB: Database>(
    query: &mut QueryBuilder<'a, DB>,
    filter: &'a PaymentFilter,
    after: Option<&'a Cursor>,
) where
    i64: Encode<'a, DB> + Type<DB>,
    i32: Encode<'a, DB> + Type<DB>,
    &'a String: Encode<'a, DB> + Type<DB>,
{
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
