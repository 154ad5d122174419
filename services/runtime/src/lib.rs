//! Plumbing every service shares: logging, gRPC health and reflection, mapping domain
//! errors to gRPC statuses, HTTP probes and graceful shutdown.

pub mod app;
pub mod async_runtime;
pub mod auth;
pub mod deadline;
pub mod drain;
pub mod grpc;
pub mod grpc_gate;
pub mod grpc_observe;
pub mod http;
pub mod http_auth;
pub mod http_tls;
pub mod load_shed;
pub mod metrics;
pub mod retry;
pub mod shutdown;
pub mod status;
pub mod telemetry;
pub mod tls;
pub mod trace_context;

pub use app::{App, AppBuilder, AppConfig, AppError, Mount, Role, RunningApp, ServeFlags};
pub use deadline::CallDeadline;
pub use drain::{Drain, Stage};
pub use grpc::{GrpcRoutes, HealthRegistry};
pub use shutdown::{Shutdown, wait_for_signal};
pub use trace_context::TraceParent;

/// Turns a binary's result into its exit code, printing an error as one line with its whole
/// cause chain (`error: opening store …: …`) rather than a debug dump or backtrace.
pub fn exit_code<E: std::fmt::Display>(result: Result<(), E>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
