//! A batch of payments into the collection: read the stored revisions, delete the documents
//! the batch supersedes, insert the new and newer ones. Three commands per batch whatever its
//! size, and nothing written for a replay.
//!
//! Not one `update` of revision-guarded upserts: FerretDB (over SQLite or PostgreSQL) runs each
//! upsert as a query of its own, about 100 ms apiece over SQLite, where inserting a batch takes
//! about as long as one. MongoDB has no multi-document transactions outside replica sets: a
//! write cut off between the delete and the insert leaves a payment missing until the replay
//! the processor then receives (it commits offsets only after the write) inserts it again. The
//! guard reads then writes, which is safe with one writer per payment, as the processor's
//! partitioning by key gives.

use super::{backend, document, lenient_i64};
use crate::Result;
use crate::latest::latest_revisions;
use futures::TryStreamExt;
use mongodb::bson::{Document, doc};
use mongodb::{Collection, Database};
use payments_core::pb;
use std::collections::HashMap;

/// MongoDB's duplicate-key error code.
const DUPLICATE_KEY: i64 = 11_000;

/// Command error codes by which the server refuses the documents themselves: BadValue,
/// FailedToParse, TypeMismatch, InvalidBSON, DollarPrefixedFieldName, EmptyFieldName,
/// DottedFieldName, BSONObjectTooLarge, KeyTooLong.
const REFUSED_DOCUMENT_CODES: [i32; 9] = [2, 9, 14, 22, 52, 56, 57, 10_334, 17_280];

/// A failed insert command as a refusal of its documents, when the server said so.
fn insert_failed(error: &mongodb::error::Error) -> Option<crate::Error> {
    match error.kind.as_ref() {
        mongodb::error::ErrorKind::Command(command)
            if REFUSED_DOCUMENT_CODES.contains(&command.code) =>
        {
            Some(crate::Error::refused(
                "mongodb insert",
                format!("code {}: {}", command.code, command.message),
            ))
        }
        _ => None,
    }
}

/// Stores the latest revision of each payment of `payments` unless a newer or equal one is
/// stored; returns how many documents it wrote.
pub async fn upsert_batch(
    database: &Database,
    payments: &Collection<Document>,
    batch: &[pb::Payment],
) -> Result<u64> {
    let latest = latest_revisions(batch);
    if latest.is_empty() {
        return Ok(0);
    }
    let ids: Vec<&str> = latest.iter().map(|p| p.payment_id.as_str()).collect();
    let stored = stored_revisions(payments, &ids).await?;
    let mut superseded = Vec::new();
    let mut documents = Vec::new();
    for payment in latest {
        match stored.get(payment.payment_id.as_str()) {
            Some(&revision) if revision >= i64::from(payment.revision) => continue,
            Some(_) => superseded.push(payment.payment_id.as_str()),
            None => {}
        }
        documents.push(document(payment)?);
    }
    if documents.is_empty() {
        return Ok(0);
    }
    if !superseded.is_empty() {
        payments
            .delete_many(doc! { "_id": { "$in": &superseded } })
            .await
            .map_err(|e| backend("delete superseded revisions", e))?;
    }
    let written = documents.len() as u64;
    let reply = database
        .run_command(doc! {
            "insert": payments.name(),
            "documents": documents,
            "ordered": false,
        })
        .await
        .map_err(|e| insert_failed(&e).unwrap_or_else(|| backend("insert", e)))?;
    if let Ok(errors) = reply.get_array("writeErrors") {
        for error in errors {
            let error = error.as_document();
            let code = lenient_i64(error.and_then(|e| e.get("code")));
            // Inserted by another writer since the read: the replay sorts it out.
            if code != DUPLICATE_KEY {
                let message = error
                    .and_then(|e| e.get_str("errmsg").ok())
                    .unwrap_or_default();
                // The server wrote the others: this document is what it refused.
                return Err(crate::Error::refused(
                    "mongodb insert",
                    format!("code {code}: {message}"),
                ));
            }
        }
        return Ok(written.saturating_sub(errors.len() as u64));
    }
    Ok(written)
}

/// The stored revision of each of `ids` that is stored.
async fn stored_revisions(
    payments: &Collection<Document>,
    ids: &[&str],
) -> Result<HashMap<String, i64>> {
    let found: Vec<Document> = payments
        .find(doc! { "_id": { "$in": ids } })
        .projection(doc! { "revision": 1 })
        .await
        .map_err(|e| backend("read stored revisions", e))?
        .try_collect()
        .await
        .map_err(|e| backend("read stored revisions", e))?;
    Ok(found
        .iter()
        .filter_map(|d| {
            let id = d.get_str("_id").ok()?.to_owned();
            Some((id, lenient_i64(d.get("revision"))))
        })
        .collect())
}
