//! Filters, keyset pages and aggregates as MongoDB queries.

use super::{backend, body_of, lenient_i64};
use crate::{Cursor, MAX_PAGE_SIZE, Page, PageRequest, PaymentFilter, Result, Stats};
use futures::TryStreamExt;
use mongodb::Collection;
use mongodb::bson::{Bson, Document, doc};
use payments_core::pb;

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

/// Counts and totals by rail, currency and status (a `$group` aggregation).
pub async fn stats(payments: &Collection<Document>, filter: &PaymentFilter) -> Result<Stats> {
    let pipeline = vec![
        doc! { "$match": to_query(filter, None) },
        // One string key per group ("rail|status|currency"), which every MongoDB-compatible
        // server evaluates alike.
        doc! { "$group": {
            "_id": { "$concat": [
                { "$toString": "$paymentType" }, "|", { "$toString": "$status" }, "|", "$currency",
            ] },
            "count": { "$sum": 1 },
            "sum": { "$sum": "$amountMinor" },
        } },
    ];
    let groups: Vec<Document> = payments
        .aggregate(pipeline)
        .await
        .map_err(|e| backend("aggregate", e))?
        .try_collect()
        .await
        .map_err(|e| backend("aggregate", e))?;
    Ok(Stats::from_groups(groups.iter().map(|g| {
        let key = match g.get("_id") {
            Some(Bson::String(key)) => key.as_str(),
            _ => "",
        };
        let mut parts = key.splitn(3, '|');
        let mut number = || {
            parts
                .next()
                .and_then(|n| n.parse::<i32>().ok())
                .unwrap_or_default()
        };
        let rail = pb::PaymentType::try_from(number())
            .unwrap_or_default()
            .as_str_name()
            .to_owned();
        let status = pb::PaymentStatus::try_from(number())
            .unwrap_or_default()
            .as_str_name()
            .to_owned();
        let currency = parts.next().unwrap_or_default().to_owned();
        (
            rail,
            status,
            currency,
            lenient_i64(g.get("count")),
            i128::from(lenient_i64(g.get("sum"))),
        )
    })))
}
