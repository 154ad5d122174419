//! Ingest: validates payments and acknowledges each only once the bus holds it.
//! [`Ingestor`] is the logic; [`IngestGrpc`] serves it as `payments.v1.IngestService`.

pub mod config;
pub mod counters;
mod ingestor;
mod service;

pub use ingestor::{IngestError, Ingestor, RecordKey, Submitted, TraceHeader};
pub use service::IngestGrpc;
