//! The processor: consumes the bus, decodes (protobuf, or the seed's JSON from legacy
//! producers), validates, normalizes and batch-upserts payments into each sink through a
//! pipeline of the sink's own (its own consumer group, batching, retries and lag), sending
//! what it cannot process to the dead-letter topic. A sink's offsets are committed only
//! after it has written the batch (at-least-once; upserts make replays harmless).

#[cfg(test)]
mod arbitrary_input_tests;
mod batch_span;
pub mod config;
mod counters;
mod dead_letter;
mod decode;
mod metrics;
mod pipeline;
mod prepare;
mod processor;
mod role;
mod sink_name;
mod sink_writer;

pub use counters::{ProcessorCounters, SinkCounters};
pub use decode::{DecodeError, decode_payment};
pub use metrics::publish_metrics;
pub use pipeline::SinkPipeline;
pub use prepare::TRACE_ID_ATTRIBUTE;
pub use processor::{DEFAULT_MAX_BATCH_SIZE, Processor, ProcessorConfig, ProcessorError};
pub use role::{ProcessorRole, ProcessorRoleError};
pub use sink_name::{NamedSink, SinkNameError, name_sinks};
