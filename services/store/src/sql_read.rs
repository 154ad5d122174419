//! Reads both SQL backends share: by id and keyset pages. Their tables agree on the columns
//! read here and the query builder writes each dialect's placeholders, so one body serves
//! both; it is a macro because sqlx's executor and argument traits do not generalize over
//! the database without lifetime bounds that its own types cannot meet.

/// Defines `get` and `list` for the SQL backend whose pool type is `$pool`.
macro_rules! sql_reads {
    ($pool:ty) => {
        /// The stored payment with this id.
        pub async fn get(
            pool: &$pool,
            payment_id: &str,
        ) -> $crate::Result<Option<payments_core::pb::Payment>> {
            use sqlx::Row;
            let mut query =
                sqlx::QueryBuilder::new("SELECT body FROM payments WHERE payment_id = ");
            query.push_bind(payment_id);
            let row = query.build().fetch_optional(pool).await?;
            row.map(|r| $crate::columns::decode_body(payment_id, r.get::<&[u8], _>(0)))
                .transpose()
        }

        /// One page in (`created_at`, `payment_id`) order.
        pub async fn list(
            pool: &$pool,
            filter: &$crate::PaymentFilter,
            page: &$crate::PageRequest,
        ) -> $crate::Result<$crate::Page> {
            use sqlx::Row;
            let size = page.size.clamp(1, $crate::MAX_PAGE_SIZE);
            let mut query =
                sqlx::QueryBuilder::new("SELECT payment_id, created_at, body FROM payments");
            $crate::sql_where::push_where(&mut query, filter, page.after.as_ref());
            query
                .push(" ORDER BY created_at, payment_id LIMIT ")
                .push_bind(i64::from(size) + 1);
            let rows = query.build().fetch_all(pool).await?;
            let has_more = rows.len() > size as usize;
            let mut payments = Vec::with_capacity(rows.len().min(size as usize));
            let mut next = None;
            for row in rows.iter().take(size as usize) {
                let id: String = row.get(0);
                payments.push($crate::columns::decode_body(&id, row.get::<&[u8], _>(2))?);
                next = Some($crate::Cursor {
                    created_micros: row.get(1),
                    payment_id: id,
                });
            }
            Ok($crate::Page {
                payments,
                next: if has_more { next } else { None },
            })
        }
    };
}

pub(crate) use sql_reads;
