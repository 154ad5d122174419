//! One module per subcommand.

pub mod bench;
pub mod bench_kafka;
pub mod bench_sink;
pub mod dlq;
pub mod filter;
pub mod generate;
pub mod generate_parallel;
pub mod generate_summary;
pub mod hbase;
pub mod pre_encoded;
pub mod query;
pub mod request_spool;
pub mod run;
pub mod submit;
pub mod up;
pub mod verify;

/// Seed from the clock, for runs that should make new payments each time.
pub fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
}
