//! The payment generator: a deterministic model of corporate customers, banks and rails
//! ([`PaymentGenerator`]), the gRPC `GeneratorService`, and rate-controlled traffic runs.

pub mod amounts;
pub mod calendar;
pub mod calibration;
pub mod config;
pub mod generator;
pub mod ingest_client;
pub mod lifecycle;
mod payment_reuse;
pub mod population;
pub mod presets;
pub mod rails;
pub mod rng;
mod role;
pub mod runs;
pub mod scenario_file;
pub mod scenarios;
pub mod series;
pub mod service;
pub mod shard;
pub mod traffic;
#[cfg(feature = "kubernetes")]
pub mod traffic_resource;
pub mod truth;
pub mod typologies;

pub use generator::{GeneratorConfig, PaymentGenerator};
pub use lifecycle::{LifecycleRates, LifecycleStream};
pub use role::GeneratorRole;
pub use service::GeneratorGrpc;
pub use shard::Shard;
pub use traffic::{Burst, TrafficCounters, TrafficRun};
