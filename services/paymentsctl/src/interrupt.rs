//! [`Interrupt`]: Ctrl-C or SIGTERM, noticed by a synchronous loop that then stops at the end
//! of a record, where the signal's default action would have ended the process mid-write; and
//! [`Interrupted`], the error of a command that Ctrl-C stopped, which exits with status 130 as
//! a shell's own commands do.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Exit status of a command stopped by Ctrl-C: 128 + SIGINT, as shells report it.
const INTERRUPTED_STATUS: u8 = 130;

/// A command stopped by Ctrl-C (or SIGTERM) before it finished, after cleaning up; written
/// `interrupted`, then what it leaves behind where it says (`interrupted: the output holds the
/// first 1200 payments, each whole`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interrupted {
    /// What the command leaves behind, for its user to know what they have.
    pub left: Option<String>,
}

impl Interrupted {
    /// Stopped, leaving what `left` says.
    pub fn leaving(left: impl Into<String>) -> Self {
        Self {
            left: Some(left.into()),
        }
    }
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted")?;
        match &self.left {
            Some(left) => write!(f, ": {left}"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for Interrupted {}

/// The process's exit status for a command's outcome: 0, 130 when Ctrl-C stopped it
/// ([`Interrupted`]), 1 for any other error. An error is printed first, as `error: …`.
pub fn exit_code(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Err(error) if error.is::<Interrupted>() => {
            eprintln!("error: {error:#}");
            ExitCode::from(INTERRUPTED_STATUS)
        }
        other => payments_runtime::exit_code(other),
    }
}

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
                std::process::exit(i32::from(INTERRUPTED_STATUS));
            });
        }
        interrupt
    }

    /// Whether a signal asked the run to stop.
    pub fn requested(&self) -> bool {
        self.requested.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn a_command_stopped_by_ctrl_c_exits_130_and_any_other_error_1() {
        let interrupted: anyhow::Result<()> = Err(Interrupted::default().into());
        assert_eq!(exit_code(interrupted), ExitCode::from(130));
        let left = Interrupted::leaving("the output holds the first 12 payments, each whole");
        assert_eq!(
            left.to_string(),
            "interrupted: the output holds the first 12 payments, each whole"
        );
        let wrapped: anyhow::Result<()> = Err(left).context("benchmarking");
        assert_eq!(exit_code(wrapped), ExitCode::from(130));
        let failed: anyhow::Result<()> = Err(anyhow::anyhow!("interrupted"));
        assert_eq!(exit_code(failed), ExitCode::FAILURE);
        assert_eq!(exit_code(Ok(())), ExitCode::SUCCESS);
    }
}
