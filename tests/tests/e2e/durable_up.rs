//! `paymentsctl up` keeps what it acknowledged: its default bus is a log file in its working
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
        "up's default bus is a file in its working directory"
    );

    let _second = up("up-2.log").await;
    assert_eq!(
        wait_stored(store.as_ref(), 30_000, Duration::from_secs(180)).await,
        30_000
    );
    assert_stored_once(store.as_ref(), &acknowledged).await;
}
