//! The processor: consumes the bus, decodes (protobuf, or the seed's JSON from legacy
//! producers), validates, normalizes and batch-upserts payments into every sink, sending
//! what it cannot process to the dead-letter topic. Offsets are committed only after every
//! sink has written the batch (at-least-once; upserts make replays harmless).

#[cfg(test)]
mod arbitrary_input_tests;
mod batch_span;
pub mod config;
mod decode;
mod metrics;
mod processor;
mod role;

pub use decode::{DecodeError, decode_payment};
pub use metrics::publish_metrics;
pub use processor::{
    Processor, ProcessorConfig, ProcessorCounters, ProcessorError, TRACE_ID_ATTRIBUTE,
};
pub use role::{ProcessorRole, ProcessorRoleError};
