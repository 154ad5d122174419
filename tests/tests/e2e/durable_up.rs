//! `paymentsctl up` keeps what it acknowledged: its default bus is a log in its working
//! directory, so a `kill -9` straight after `SubmitPayments` returns loses nothing, and the
//! next `up` in that directory stores every acknowledged payment, each once.

use crate::common;

use common::pipeline::*;
use common::services::ServiceProcess;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_of_up_straight_after_submit_then_a_new_up_in_the_directory_stores_every_acknowledged_payment()
 {
    let dir = common::temp_dir("up-kill-9");
    let up = |log: &'static str| {
        let dir = dir.to_path_buf();
        async move {
            ServiceProcess::start_in("paymentsctl", &["up"], &[], Some(&dir), &dir.join(log)).await
        }
    };
    let first = up("up-1.log").await;
    let payments = generated(30_000, 53);
    let (acknowledged, failed) = submit(first.grpc, &payments, 30_000).await;
    assert_eq!((acknowledged.len(), failed), (30_000, 0));
    first.kill_hard();

    let store = open_store(&dir.join("payments.db")).await;
    let stored_at_kill = wait_stored(store.as_ref(), 0, Duration::ZERO).await;
    eprintln!("stored when up was killed: {stored_at_kill} of 30000");
    assert!(
        dir.join("payments-bus.db").exists(),
        "up's default bus is in its working directory"
    );

    let _second = up("up-2.log").await;
    assert_eq!(
        wait_stored(store.as_ref(), 30_000, Duration::from_secs(180)).await,
        30_000
    );
    assert_stored_once(store.as_ref(), &acknowledged).await;
}

/// A drain that runs out of time says how many acknowledged payments it left unstored and
/// where they are, and the next `up` stores them. The store is held back for the first `up`
/// by a lock on its table, so that its drain cannot finish.
#[tokio::test(flavor = "multi_thread")]
async fn a_drain_out_of_time_says_what_it_left_on_the_bus_and_the_next_up_stores_it() {
    use sqlx::Connection;
    let Some(postgres) = common::servers::fresh_database("up_drain_short").await else {
        return;
    };
    let dir = common::temp_dir("up-drain-short");
    let first = ServiceProcess::start_in(
        "paymentsctl",
        &["up", "--store", &postgres, "--shutdown-grace", "1"],
        &[],
        Some(&dir),
        &dir.join("up-1.log"),
    )
    .await;
    let mut holder = sqlx::PgConnection::connect(&postgres).await.unwrap();
    sqlx::query("BEGIN").execute(&mut holder).await.unwrap();
    sqlx::query("LOCK TABLE payments IN ACCESS EXCLUSIVE MODE")
        .execute(&mut holder)
        .await
        .unwrap();
    let payments = generated(5_000, 54);
    let (acknowledged, failed) = submit(first.grpc, &payments, 5_000).await;
    assert_eq!((acknowledged.len(), failed), (5_000, 0));
    first.terminate();
    let log = std::fs::read_to_string(dir.join("up-1.log")).unwrap_or_default();
    let said = "5000 acknowledged payments are not stored yet: they stay in file://payments-bus.db, \
                and the next `paymentsctl up` on it stores them";
    assert!(log.contains(said), "expected {said:?} in:\n{log}");
    holder.close().await.unwrap();

    let _second = ServiceProcess::start_in(
        "paymentsctl",
        &["up", "--store", &postgres],
        &[],
        Some(&dir),
        &dir.join("up-2.log"),
    )
    .await;
    let store = payments_store::open(&postgres).await.unwrap();
    assert_eq!(
        wait_stored(store.as_ref(), 5_000, Duration::from_secs(120)).await,
        5_000
    );
    assert_stored_once(store.as_ref(), &acknowledged).await;
}
