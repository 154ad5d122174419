//! Graceful shutdown: one token that every task watches, triggered by SIGINT or SIGTERM.

use tokio_util::sync::CancellationToken;

/// A shared shutdown trigger; clones observe the same state.
pub type Shutdown = CancellationToken;

/// Waits for Ctrl-C (SIGINT) or SIGTERM and returns which one arrived.
pub async fn wait_for_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = tokio::signal::ctrl_c() => "SIGINT",
                _ = term.recv() => "SIGTERM",
            },
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT"
    }
}

/// A new shutdown token that SIGINT or SIGTERM cancels.
pub fn on_signal() -> Shutdown {
    let shutdown = Shutdown::new();
    cancel_on_signal(shutdown.clone());
    shutdown
}

/// Cancels `shutdown` when a signal arrives (spawned; returns at once).
pub fn cancel_on_signal(shutdown: Shutdown) {
    tokio::spawn(async move {
        tokio::select! {
            signal = wait_for_signal() => {
                tracing::info!(signal, "shutdown requested; draining");
                shutdown.cancel();
            }
            () = shutdown.cancelled() => {}
        }
    });
}
