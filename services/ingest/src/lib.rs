//! Ingest: validates payments and acknowledges each only once the bus holds it.
//! [`Ingestor`] is the logic; [`IngestGrpc`] serves it as `payments.v1.IngestService`
//! ([`IngestServer`] its gRPC server);
//! [`Ingest`] is how callers submit, in-process or remote, packing payments into messages
//! as [`MessageGroups`] says; [`IngestRole`] mounts it on an app.

mod allowed_targets;
pub mod config;
pub mod counters;
mod ingest;
mod ingestor;
mod local;
mod message_groups;
mod remote;
mod role;
mod server;
mod service;
mod submission;

pub use allowed_targets::{AllowedTargets, TargetNotAllowed};
pub use counters::IngestMetrics;
pub use ingest::Ingest;
pub use ingestor::{IngestError, Ingestor, RecordKey, Submitted, TraceHeader};
pub use local::LocalIngest;
pub use message_groups::{BYTES_PER_MESSAGE, MessageGroups, PAYMENTS_PER_MESSAGE};
pub use remote::{IngestConnection, InvalidTarget, RemoteIngest};
pub use role::{IngestRole, bus_readiness};
pub use server::IngestServer;
pub use service::IngestGrpc;
