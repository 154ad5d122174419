//! `postgres://…`: PostgreSQL through sqlx; migrations embedded and applied at start-up.

mod read;
mod write;

use crate::{Error, Page, PageRequest, PaymentFilter, Result, Sink, Stats, Store};
use async_trait::async_trait;
use payments_core::pb;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// A PostgreSQL database: a pool of connections shared by writes and reads.
pub struct PostgresStore {
    pool: PgPool,
    described: String,
}

impl PostgresStore {
    /// Connects to the database at `url` and applies migrations.
    pub async fn open(url: &str) -> Result<Self> {
        let described = crate::redact(url);
        let options = PgConnectOptions::from_str(url).map_err(|e| Error::InvalidUrl {
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
        Ok(Self { pool, described })
    }
}

#[async_trait]
impl Sink for PostgresStore {
    async fn upsert_batch(&self, payments: &[pb::Payment]) -> Result<u64> {
        write::upsert_batch(&self.pool, payments).await
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn describe(&self) -> String {
        self.described.clone()
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
}
