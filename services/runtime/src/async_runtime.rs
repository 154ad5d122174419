//! [`block_on`]: the Tokio runtime every binary runs on, with one async worker fewer than the
//! cores it may use.
//!
//! The pipeline's heaviest work runs outside the async workers: the SQLite sink writes each
//! batch on a blocking thread of its own, and the file bus reads and writes on others. Tokio's
//! default, a worker a core, lets the workers (ingest's gRPC, the processor's decoding and
//! checks, and their searching for work to steal when idle) take turns with that writer on
//! every core, so the store, the pipeline's slowest stage, waits for a core it needs all of.
//! With one core left to it, `paymentsctl bench --count 200000` on 2 cores stored 76.9k
//! payments a second on average over twelve runs, against 70.8k with a worker a core, each
//! pair run one after the other (eleven of the twelve gained).
//!
//! `TOKIO_WORKER_THREADS`, Tokio's own setting, still chooses the number when it is set.

use std::future::Future;
use std::process::ExitCode;

/// The environment variable Tokio reads for its number of async workers.
pub const WORKER_THREADS_VARIABLE: &str = "TOKIO_WORKER_THREADS";

/// The async workers for a process that may use `cores` cores: one fewer, and at least one.
pub fn async_workers(cores: usize) -> usize {
    cores.saturating_sub(1).max(1)
}

/// A multi-threaded runtime with every driver enabled, and [`async_workers`] of the cores this
/// process may use (its CPU quota included) unless `TOKIO_WORKER_THREADS` says otherwise.
pub fn build() -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    if std::env::var_os(WORKER_THREADS_VARIABLE).is_none() {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        builder.worker_threads(async_workers(cores));
    }
    builder.build()
}

/// Runs `main` to its end on a runtime from [`build`], and returns its exit code; a runtime
/// that cannot start is one `error:` line and a failing exit code.
pub fn block_on(main: impl Future<Output = ExitCode>) -> ExitCode {
    match build() {
        Ok(runtime) => runtime.block_on(main),
        Err(error) => {
            eprintln!("error: starting the async runtime: {error}");
            ExitCode::FAILURE
        }
    }
}

/// [`block_on`] for a binary whose `main` returns a result: its error is printed as
/// [`crate::exit_code`] prints it.
pub fn block_on_result<E: std::fmt::Display>(
    main: impl Future<Output = Result<(), E>>,
) -> ExitCode {
    block_on(async { crate::exit_code(main.await) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_core_is_left_to_the_blocking_threads_and_one_worker_always_runs() {
        assert_eq!(async_workers(0), 1);
        assert_eq!(async_workers(1), 1);
        assert_eq!(async_workers(2), 1);
        assert_eq!(async_workers(8), 7);
    }

    #[test]
    fn the_runtime_built_has_the_workers_the_cores_call_for_and_runs_futures() -> std::io::Result<()>
    {
        let runtime = build()?;
        if std::env::var_os(WORKER_THREADS_VARIABLE).is_none() {
            let cores = std::thread::available_parallelism().map_or(1, usize::from);
            assert_eq!(runtime.metrics().num_workers(), async_workers(cores));
        }
        let joined = runtime.block_on(async { tokio::spawn(async { 6 * 7 }).await })?;
        assert_eq!(joined, 42);
        Ok(())
    }
}
