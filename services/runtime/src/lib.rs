//! Plumbing every service shares: logging, gRPC health and reflection, mapping domain
//! errors to gRPC statuses, HTTP probes and graceful shutdown.

pub mod grpc;
pub mod http;
pub mod shutdown;
pub mod status;
pub mod telemetry;

pub use grpc::{GrpcRoutes, HealthRegistry};
pub use shutdown::{Shutdown, wait_for_signal};
