//! [`Interrupt`]: Ctrl-C or SIGTERM, noticed by a synchronous loop that then stops at the end
//! of a record, where the signal's default action would have ended the process mid-write.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether Ctrl-C (SIGINT) or SIGTERM has arrived since [`Interrupt::watch`]. A second signal
/// ends the process at once (exit status 130), for a run that no longer answers.
#[derive(Clone, Default)]
pub struct Interrupt {
    requested: Arc<AtomicBool>,
}

impl Interrupt {
    /// Starts watching for the signals on the current Tokio runtime; outside one, nothing is
    /// watched and the signals keep their default action.
    pub fn watch() -> Self {
        let interrupt = Self::default();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let requested = interrupt.requested.clone();
            runtime.spawn(async move {
                let signal = payments_runtime::shutdown::wait_for_signal().await;
                requested.store(true, Ordering::Relaxed);
                eprintln!(
                    "{signal}: stopping after the record being written (again to stop at once)"
                );
                payments_runtime::shutdown::wait_for_signal().await;
                std::process::exit(130);
            });
        }
        interrupt
    }

    /// Whether a signal asked the run to stop.
    pub fn requested(&self) -> bool {
        self.requested.load(Ordering::Relaxed)
    }
}
