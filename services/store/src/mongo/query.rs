//! Filters, keyset pages and aggregates as MongoDB queries.

use super::{backend, body_of, lenient_i64};
use crate::{Cursor, MAX_PAGE_SIZE, Page, PageRequest, PaymentFilter, Result, Stats};
use futures::TryStreamExt;
use mongodb::Collection;
use mongodb::bson::{Document, doc};
use payments_core::pb;
use std::collections::BTreeMap;

/// The query document for `filter` (and the cursor).
fn to_query(filter: &PaymentFilter, after: Option<&Cursor>) -> Document {
    let mut and: Vec<Document> = Vec::new();
    let mut created = Document::new();
    if let Some(from) = filter.created_from_micros {
        created.insert("$gte", from);
    }
    if let Some(to) = filter.created_to_micros {
        created.insert("$lt", to);
    }
    if !created.is_empty() {
        and.push(doc! { "createdAt": created });
    }
    if !filter.payment_types.is_empty() {
        let types: Vec<i32> = filter.payment_types.iter().map(|t| *t as i32).collect();
        and.push(doc! { "paymentType": { "$in": types } });
    }
    if !filter.statuses.is_empty() {
        let statuses: Vec<i32> = filter.statuses.iter().map(|s| *s as i32).collect();
        and.push(doc! { "status": { "$in": statuses } });
    }
    if let Some(id) = &filter.originator_id {
        and.push(doc! { "originatorId": id });
    }
    if let Some(id) = &filter.beneficiary_id {
        and.push(doc! { "beneficiaryId": id });
    }
    let mut amount = Document::new();
    if let Some(min) = filter.min_amount_minor_units {
        amount.insert("$gte", min);
    }
    if let Some(max) = filter.max_amount_minor_units {
        amount.insert("$lte", max);
    }
    if !amount.is_empty() {
        and.push(doc! { "amountMinor": amount });
    }
    if let Some(currency) = &filter.currency {
        and.push(doc! { "currency": currency });
    }
    if let Some(cursor) = after {
        and.push(doc! { "$or": [
            { "createdAt": { "$gt": cursor.created_micros } },
            { "createdAt": cursor.created_micros, "_id": { "$gt": &cursor.payment_id } },
        ] });
    }
    if and.is_empty() {
        Document::new()
    } else {
        doc! { "$and": and }
    }
}

/// One page in (`createdAt`, `_id`) order.
pub async fn list(
    payments: &Collection<Document>,
    filter: &PaymentFilter,
    page: &PageRequest,
) -> Result<Page> {
    let size = page.size.clamp(1, MAX_PAGE_SIZE);
    let documents: Vec<Document> = payments
        .find(to_query(filter, page.after.as_ref()))
        .sort(doc! { "createdAt": 1, "_id": 1 })
        .limit(i64::from(size) + 1)
        .projection(doc! { "createdAt": 1, "body": 1 })
        .await
        .map_err(|e| backend("find", e))?
        .try_collect()
        .await
        .map_err(|e| backend("find", e))?;
    let has_more = documents.len() > size as usize;
    let mut out = Vec::with_capacity(documents.len().min(size as usize));
    let mut next = None;
    for document in documents.iter().take(size as usize) {
        let id = document.get_str("_id").unwrap_or_default().to_owned();
        out.push(body_of(&id, document)?);
        next = Some(Cursor {
            created_micros: lenient_i64(document.get("createdAt")),
            payment_id: id,
        });
    }
    Ok(Page {
        payments: out,
        next: if has_more { next } else { None },
    })
}

/// Counts and totals by rail, currency and status: `$group` aggregations on the compound
/// key (rail, status, currency).
///
/// Two aggregations of one accumulator each rather than one of two: FerretDB 1.24 computes
/// only the first accumulator of a `$group` and answers 0 for the others (its group stage
/// hands every accumulator the same, already consumed, iterator).
pub async fn stats(payments: &Collection<Document>, filter: &PaymentFilter) -> Result<Stats> {
    let counts = group_by_kind(payments, filter, doc! { "$sum": 1 }).await?;
    let sums = group_by_kind(payments, filter, doc! { "$sum": "$amountMinor" }).await?;
    Ok(Stats::from_groups(counts.into_iter().map(
        |(key, count)| {
            let sum = sums.get(&key).copied().unwrap_or_default();
            let (rail, status, currency) = key;
            (
                pb::PaymentType::try_from(rail)
                    .unwrap_or_default()
                    .as_str_name()
                    .to_owned(),
                pb::PaymentStatus::try_from(status)
                    .unwrap_or_default()
                    .as_str_name()
                    .to_owned(),
                currency,
                count,
                i128::from(sum),
            )
        },
    )))
}

/// (rail, status, currency) of a stats group.
type GroupKey = (i32, i32, String);

/// `accumulator` over the payments matching `filter`, per (rail, status, currency).
async fn group_by_kind(
    payments: &Collection<Document>,
    filter: &PaymentFilter,
    accumulator: Document,
) -> Result<BTreeMap<GroupKey, i64>> {
    let pipeline = vec![
        doc! { "$match": to_query(filter, None) },
        doc! { "$group": {
            "_id": { "rail": "$paymentType", "status": "$status", "currency": "$currency" },
            "value": accumulator,
        } },
    ];
    let groups: Vec<Document> = payments
        .aggregate(pipeline)
        .await
        .map_err(|e| backend("aggregate", e))?
        .try_collect()
        .await
        .map_err(|e| backend("aggregate", e))?;
    Ok(groups
        .iter()
        .map(|g| {
            let id = g.get_document("_id").ok();
            let number = |field: &str| {
                i32::try_from(lenient_i64(id.and_then(|id| id.get(field)))).unwrap_or_default()
            };
            let currency = id
                .and_then(|id| id.get_str("currency").ok())
                .unwrap_or_default()
                .to_owned();
            (
                (number("rail"), number("status"), currency),
                lenient_i64(g.get("value")),
            )
        })
        .collect())
}
