//! `mongodb://HOST[:PORT]/DB`: one document per payment in collection `payments`, `_id` =
//! payment id; the payment nested as the model has it (proto3 JSON field names) under
//! `payment`, flat fields for every query pattern (with an index each), and the protobuf
//! `body` that reads back exactly. A batch reads the stored revisions, then deletes the
//! older documents and inserts the newer ones (see `write`).

mod query;
mod write;

use crate::columns::{PaymentColumns, decode_body};
use crate::{Error, Page, PageRequest, PaymentFilter, Result, Sink, Stats, Store};
use async_trait::async_trait;
use bytes::Bytes;
use mongodb::bson::{Bson, Document, doc, spec::BinarySubtype};
use mongodb::error::ErrorKind;
use mongodb::options::IndexOptions;
use mongodb::{Client, Collection, Database, IndexModel};
use payments_core::pb;

/// The collection payments live in.
pub const COLLECTION: &str = "payments";

/// A MongoDB database.
pub struct MongoStore {
    database: Database,
    payments: Collection<Document>,
    described: String,
}

fn backend(context: &str, e: impl Into<crate::error::BoxError>) -> Error {
    Error::backend(format!("mongodb {context}"), e)
}

/// A number as MongoDB (or a wire-compatible server) returned it: Int32, Int64 or Double.
pub(crate) fn lenient_i64(value: Option<&Bson>) -> i64 {
    match value {
        Some(Bson::Int32(n)) => i64::from(*n),
        Some(Bson::Int64(n)) => *n,
        Some(Bson::Double(n)) => *n as i64,
        _ => 0,
    }
}

impl MongoStore {
    /// Connects to `url` (database from its path, else `payments`) and creates the
    /// indexes.
    pub async fn open(url: &str) -> Result<Self> {
        let described = crate::redact(url);
        let client = Client::with_uri_str(url)
            .await
            .map_err(|e| Error::InvalidUrl {
                url: described.clone(),
                reason: e.to_string(),
            })?;
        let database = client
            .default_database()
            .unwrap_or_else(|| client.database("payments"));
        database
            .run_command(doc! { "ping": 1 })
            .await
            .map_err(|e| backend(&format!("connecting to {described}"), e))?;
        let payments = database.collection::<Document>(COLLECTION);
        create_missing_indexes(&payments).await?;
        Ok(Self {
            database,
            payments,
            described,
        })
    }
}

/// One index per query pattern; time order is `createdAt`, then `_id`.
const INDEXES: [&[&str]; 5] = [
    &["createdAt", "_id"],
    &["paymentType", "originatorId", "createdAt"],
    &["originatorId", "createdAt"],
    &["beneficiaryId", "createdAt"],
    &["status", "createdAt"],
];

/// Creates the indexes of [`INDEXES`] that the collection lacks, one `createIndexes` each.
/// Asking for existing ones is not left to the server: FerretDB 1.24 drops the connection
/// when one `createIndexes` names several indexes that already exist.
async fn create_missing_indexes(payments: &Collection<Document>) -> Result<()> {
    let existing = match payments.list_index_names().await {
        Ok(names) => names,
        // A collection that does not exist yet has no indexes (NamespaceNotFound).
        Err(e) if matches!(&*e.kind, ErrorKind::Command(c) if c.code == 26) => Vec::new(),
        Err(e) => return Err(backend("listing indexes", e)),
    };
    for fields in INDEXES {
        let name = fields
            .iter()
            .map(|f| format!("{f}_1"))
            .collect::<Vec<_>>()
            .join("_");
        if existing.contains(&name) {
            continue;
        }
        let mut keys = Document::new();
        for field in fields {
            keys.insert(*field, 1);
        }
        let options = IndexOptions::builder().name(name.clone()).build();
        let index = IndexModel::builder().keys(keys).options(options).build();
        payments
            .create_index(index)
            .await
            .map_err(|e| backend(&format!("creating index {name}"), e))?;
    }
    Ok(())
}

/// The stored document of `payment`.
pub(crate) fn document(payment: &pb::Payment) -> Result<Document> {
    let c = PaymentColumns::new(payment);
    // BSON keys are C strings: a map key holding NUL has no BSON form.
    if let Some(key) = payment
        .metadata
        .iter()
        .flat_map(|m| m.attributes.keys())
        .find(|key| key.contains('\0'))
    {
        return Err(Error::refused(
            "mongodb encoding",
            format!(
                "payment {}: metadata.attributes key {key:?} holds NUL, which a BSON key cannot",
                c.payment_id
            ),
        ));
    }
    let nested = serde_json::to_value(payment)
        .ok()
        .and_then(|json| mongodb::bson::to_document(&json).ok())
        .ok_or_else(|| {
            Error::refused(
                "mongodb encoding",
                format!("payment {} has no BSON form", c.payment_id),
            )
        })?;
    Ok(doc! {
        "_id": &c.payment_id,
        "revision": c.revision,
        "paymentType": c.payment_type,
        "status": c.status,
        "createdAt": c.created_micros,
        "originatorId": &c.originator_id,
        "beneficiaryId": &c.beneficiary_id,
        "amountMinor": c.amount_minor,
        "currency": &c.currency,
        "rowKey": &c.row_key,
        "body": Bson::Binary(mongodb::bson::Binary { subtype: BinarySubtype::Generic, bytes: Vec::from(c.body) }),
        "payment": nested,
    })
}

#[async_trait]
impl Sink for MongoStore {
    /// Each document is built from the payment anew (its nested form through JSON), so the
    /// encodings given are not used.
    async fn upsert_encoded(
        &self,
        payments: &[pb::Payment],
        _encoded: &[Option<Bytes>],
    ) -> Result<u64> {
        write::upsert_batch(&self.database, &self.payments, payments).await
    }

    async fn ping(&self) -> Result<()> {
        self.database
            .run_command(doc! { "ping": 1 })
            .await
            .map_err(|e| backend("ping", e))?;
        Ok(())
    }

    fn describe(&self) -> String {
        self.described.clone()
    }

    /// Every write is complete when its call returns; the client's connections close when dropped.
    async fn close(&self) -> Result<()> {
        Ok(())
    }
}

#[async_trait]
impl Store for MongoStore {
    async fn get(&self, payment_id: &str) -> Result<Option<pb::Payment>> {
        let found = self
            .payments
            .find_one(doc! { "_id": payment_id })
            .projection(doc! { "body": 1 })
            .await
            .map_err(|e| backend("find", e))?;
        found.map(|d| body_of(payment_id, &d)).transpose()
    }

    async fn list(&self, filter: &PaymentFilter, page: &PageRequest) -> Result<Page> {
        query::list(&self.payments, filter, page).await
    }

    async fn stats(&self, filter: &PaymentFilter) -> Result<Stats> {
        query::stats(&self.payments, filter).await
    }
}

/// The payment in a document's `body`.
pub(crate) fn body_of(payment_id: &str, document: &Document) -> Result<pb::Payment> {
    match document.get("body") {
        Some(Bson::Binary(binary)) => decode_body(payment_id, &binary.bytes),
        _ => Err(Error::Corrupt {
            payment_id: payment_id.to_owned(),
            reason: "document has no binary body".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use crate::conformance;

    /// Against FerretDB, the MongoDB wire-protocol server `scripts/start-test-servers` starts
    /// (`PAYMENTS_TEST_MONGODB`, default `mongodb://127.0.0.1:27017`), one database per case.
    #[tokio::test]
    async fn mongodb_on_ferretdb_passes_the_store_suite() {
        let server = std::env::var("PAYMENTS_TEST_MONGODB")
            .unwrap_or_else(|_| "mongodb://127.0.0.1:27017".into());
        let address = server
            .trim_start_matches("mongodb://")
            .trim_end_matches('/');
        if let Err(e) = std::net::TcpStream::connect(address) {
            let in_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
            assert!(!in_ci, "MongoDB at {server} is unreachable: {e}");
            eprintln!("skipping: MongoDB at {server} is unreachable: {e}");
            return;
        }
        let mut n = 0;
        conformance::run(|| {
            n += 1;
            let url = format!("{server}/payments_suite_{}_{n}", std::process::id());
            async move { crate::open(&url).await }
        })
        .await;
    }
}
