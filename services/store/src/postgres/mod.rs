//! `postgres://…`: PostgreSQL through sqlx; migrations embedded and applied at start-up.

mod read;
mod write;

use crate::{Error, Page, PageRequest, PaymentFilter, Result, Sink, Stats, Store};
use async_trait::async_trait;
use bytes::Bytes;
use payments_core::pb;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The URL option that keeps a JSONB copy of each payment in column `doc`, for SQL users.
const JSON_DOC_OPTION: &str = "json_doc";

/// A PostgreSQL database: a pool of connections shared by writes and reads.
pub struct PostgresStore {
    pool: PgPool,
    described: String,
    /// Whether writes fill `doc` with the payment as proto3 JSON.
    json_doc: bool,
}

/// `url` without the `json_doc` option, and whether that option asked for the document.
fn take_json_doc_option(url: &str) -> Result<(String, bool)> {
    let (rest, value) = crate::url_option::take_url_option(url, JSON_DOC_OPTION);
    let json_doc = match value.as_deref() {
        None | Some("false" | "0") => false,
        Some("true" | "1") => true,
        Some(other) => {
            return Err(Error::InvalidUrl {
                url: crate::redact(url),
                reason: format!("{JSON_DOC_OPTION}={other:?}: use true or false"),
            });
        }
    };
    Ok((rest, json_doc))
}

impl PostgresStore {
    /// Connects to the database at `url` and applies migrations. `?json_doc=true` keeps a
    /// JSONB copy of each payment in column `doc` (for SQL users; it makes writes about three
    /// times as costly for PostgreSQL); without it `doc` is NULL.
    pub async fn open(url: &str) -> Result<Self> {
        let described = crate::redact(url);
        let (url, json_doc) = take_json_doc_option(url)?;
        let options = PgConnectOptions::from_str(&url).map_err(|e| Error::InvalidUrl {
            url: described.clone(),
            reason: e.to_string(),
        })?;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(|e| Error::backend(format!("connecting to {described}"), e))?;
        MIGRATOR.run(&pool).await.map_err(Error::Migration)?;
        Ok(Self {
            pool,
            described,
            json_doc,
        })
    }
}

#[async_trait]
impl Sink for PostgresStore {
    async fn upsert_encoded(
        &self,
        payments: &[pb::Payment],
        encoded: &[Option<Bytes>],
    ) -> Result<u64> {
        write::upsert_batch(&self.pool, payments, encoded, self.json_doc).await
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn describe(&self) -> String {
        self.described.clone()
    }

    /// Closes the pool's connections (the server sees them leave, not drop).
    async fn close(&self) -> Result<()> {
        self.pool.close().await;
        Ok(())
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn get(&self, payment_id: &str) -> Result<Option<pb::Payment>> {
        read::get(&self.pool, payment_id).await
    }

    async fn list(&self, filter: &PaymentFilter, page: &PageRequest) -> Result<Page> {
        read::list(&self.pool, filter, page).await
    }

    async fn stats(&self, filter: &PaymentFilter) -> Result<Stats> {
        read::stats(&self.pool, filter).await
    }
}

#[cfg(test)]
mod options {
    use super::take_json_doc_option;

    #[test]
    fn json_doc_is_taken_out_of_the_url_and_a_bad_value_is_named() {
        let (url, on) =
            take_json_doc_option("postgres://u@h/db?sslmode=disable&json_doc=true").unwrap();
        assert_eq!(
            (url.as_str(), on),
            ("postgres://u@h/db?sslmode=disable", true)
        );
        let (url, on) = take_json_doc_option("postgres://u@h/db").unwrap();
        assert_eq!((url.as_str(), on), ("postgres://u@h/db", false));
        let error = take_json_doc_option("postgres://u@h/db?json_doc=yes").unwrap_err();
        assert!(error.to_string().contains("json_doc=\"yes\""), "{error}");
    }
}

#[cfg(test)]
mod suite {
    use crate::conformance;
    use sqlx::Connection;

    /// The server the suite runs against: `PAYMENTS_TEST_POSTGRES`, by default the local
    /// PostgreSQL as the `postgres` user.
    fn server() -> String {
        std::env::var("PAYMENTS_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
    }

    #[tokio::test]
    async fn postgres_passes_the_store_suite() {
        let admin_url = server();
        let mut admin = match sqlx::PgConnection::connect(&admin_url).await {
            Ok(admin) => admin,
            Err(e) => {
                let in_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
                assert!(!in_ci, "PostgreSQL at {admin_url} is unreachable: {e}");
                eprintln!("skipping: PostgreSQL at {admin_url} is unreachable: {e}");
                return;
            }
        };
        let base = admin_url
            .rsplit_once('/')
            .map(|(b, _)| b.to_owned())
            .unwrap_or_default();
        let mut created = Vec::new();
        for n in 0..conformance::CASES {
            let name = format!("payments_suite_{}_{n}", std::process::id());
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
                .execute(&mut admin)
                .await
                .unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .await
                .unwrap();
            created.push(name);
        }
        let mut next = created.clone().into_iter();
        conformance::run(|| {
            let url = format!("{base}/{}", next.next().unwrap_or_default());
            async move { crate::open(&url).await }
        })
        .await;
        for name in created {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)
                .await;
        }
    }

    #[tokio::test]
    async fn json_doc_keeps_each_payment_as_jsonb_and_without_it_doc_is_null() {
        use crate::Sink;
        let admin_url = server();
        let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await else {
            let in_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
            assert!(!in_ci, "PostgreSQL at {admin_url} is unreachable");
            return;
        };
        let name = format!("payments_json_doc_{}", std::process::id());
        for sql in [
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            format!("CREATE DATABASE {name}"),
        ] {
            sqlx::query(&sql).execute(&mut admin).await.unwrap();
        }
        let base = admin_url.rsplit_once('/').map_or("", |(b, _)| b).to_owned();
        let url = format!("{base}/{name}");
        let with_doc = super::PostgresStore::open(&format!("{url}?json_doc=true"))
            .await
            .unwrap();
        with_doc
            .upsert_batch(&[payments_core::sample::ach_payment("DOC-1", 1)])
            .await
            .unwrap();
        let without = super::PostgresStore::open(&url).await.unwrap();
        without
            .upsert_batch(&[payments_core::sample::ach_payment("DOC-2", 2)])
            .await
            .unwrap();
        let docs: Vec<(String, Option<String>)> = sqlx::query_as(
            "SELECT payment_id, doc->>'paymentId' FROM payments ORDER BY payment_id",
        )
        .fetch_all(&without.pool)
        .await
        .unwrap();
        assert_eq!(
            docs,
            vec![
                ("DOC-1".into(), Some("DOC-1".into())),
                ("DOC-2".into(), None)
            ]
        );
        without.pool.close().await;
        with_doc.pool.close().await;
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin)
            .await;
    }
}
