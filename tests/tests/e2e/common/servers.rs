//! The shared data servers the tests write to (`scripts/start-test-servers` starts them), each
//! test in a space of its own: fresh PostgreSQL databases (`PAYMENTS_TEST_POSTGRES`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`), Redis key prefixes (`PAYMENTS_TEST_REDIS`),
//! MongoDB databases on FerretDB (`PAYMENTS_TEST_MONGODB`) and HBase tables behind its Thrift
//! gateway (`PAYMENTS_TEST_HBASE`). Unreachable servers skip a test, except in CI where they
//! fail it. Each name carries the test's process id: the next `scripts/start-test-servers`
//! deletes what a test left once its process has ended (`scripts/servers/sweep.py`).

use super::in_ci;
use sqlx::Connection;

/// Creates an empty database named after `name` and returns its URL, or `None` (after
/// saying so) when the server is unreachable outside CI; in CI that fails the test.
pub async fn fresh_database(name: &str) -> Option<String> {
    let admin_url = std::env::var("PAYMENTS_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut admin = match sqlx::PgConnection::connect(&admin_url).await {
        Ok(admin) => admin,
        Err(e) => {
            assert!(!in_ci(), "PostgreSQL at {admin_url} is unreachable: {e}");
            eprintln!("skipping: PostgreSQL at {admin_url} is unreachable: {e}");
            return None;
        }
    };
    let database = format!("payments_e2e_{name}_{}", std::process::id());
    sqlx::query(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .expect("dropping an old test database");
    sqlx::query(&format!("CREATE DATABASE {database}"))
        .execute(&mut admin)
        .await
        .expect("creating a test database");
    let base = admin_url
        .rsplit_once('/')
        .map(|(b, _)| b)
        .unwrap_or_default();
    Some(format!("{base}/{database}"))
}

/// Runs one SQL statement against the database at `url`.
pub async fn execute(url: &str, sql: &str) -> u64 {
    let mut connection = sqlx::PgConnection::connect(url).await.expect("connecting");
    sqlx::query(sql)
        .execute(&mut connection)
        .await
        .expect("running SQL")
        .rows_affected()
}

/// The first column of the first row of `sql`, as text.
pub async fn scalar(url: &str, sql: &str) -> String {
    use sqlx::Row;
    let mut connection = sqlx::PgConnection::connect(url).await.expect("connecting");
    sqlx::query(sql)
        .fetch_one(&mut connection)
        .await
        .expect("running SQL")
        .get::<String, _>(0)
}

/// A `redis://` URL with a key prefix of this test's own on the local Redis
/// (`PAYMENTS_TEST_REDIS`, default `redis://127.0.0.1:6379`), or `None` (after saying so)
/// when Redis is unreachable outside CI; in CI that fails the test.
pub async fn redis_url(name: &str) -> Option<String> {
    let server =
        std::env::var("PAYMENTS_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let address = server.trim_start_matches("redis://").trim_end_matches('/');
    if let Err(e) = std::net::TcpStream::connect(address) {
        assert!(!in_ci(), "Redis at {server} is unreachable: {e}");
        eprintln!("skipping: Redis at {server} is unreachable: {e}");
        return None;
    }
    Some(format!(
        "{server}?prefix=e2e:{name}:{}:",
        std::process::id()
    ))
}

/// A `mongodb://` URL of a database of this test's own on FerretDB (`PAYMENTS_TEST_MONGODB`,
/// default `mongodb://127.0.0.1:27017`), or `None` (after saying so) when it is unreachable
/// outside CI; in CI that fails the test.
pub async fn mongodb_url(name: &str) -> Option<String> {
    let server = std::env::var("PAYMENTS_TEST_MONGODB")
        .unwrap_or_else(|_| "mongodb://127.0.0.1:27017".into());
    let address = server
        .trim_start_matches("mongodb://")
        .trim_end_matches('/');
    if let Err(e) = std::net::TcpStream::connect(address) {
        assert!(
            !in_ci(),
            "MongoDB (FerretDB) at {server} is unreachable: {e}"
        );
        eprintln!("skipping: MongoDB (FerretDB) at {server} is unreachable: {e}");
        return None;
    }
    Some(format!(
        "{server}/payments_e2e_{name}_{}",
        std::process::id()
    ))
}

/// An `hbase://` URL of a table of this test's own (created with `paymentsctl hbase init`'s
/// code) behind the HBase Thrift gateway (`PAYMENTS_TEST_HBASE`, default
/// `hbase://127.0.0.1:9090`), or `None` (after saying so) when HBase does not answer outside
/// CI; in CI that fails the test.
pub async fn hbase_url(name: &str) -> Option<String> {
    let server =
        std::env::var("PAYMENTS_TEST_HBASE").unwrap_or_else(|_| "hbase://127.0.0.1:9090".into());
    let url = format!(
        "{}?table=e2e_{name}_{}",
        server.trim_end_matches('/'),
        std::process::id()
    );
    if let Err(e) = payments_store::hbase::init(&url).await {
        assert!(!in_ci(), "HBase at {server} does not answer: {e}");
        eprintln!("skipping: HBase at {server} does not answer: {e}");
        return None;
    }
    Some(url)
}
