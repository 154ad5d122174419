//! End-to-end tests of the payments system, as one test binary: each module drives real
//! processes (the services, `paymentsctl`, Apache Kafka brokers, and the shared PostgreSQL,
//! Redis, FerretDB and HBase that `scripts/start-test-servers` starts) over gRPC, HTTP, Kafka
//! and the CLI.
//!
//! One binary rather than one per file: every file links the whole system, and linking it
//! nine times cost minutes and gigabytes of `target/` for nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod adversarial;
mod bad_input;
mod bank_messages;
mod cli;
mod console;
mod deadlines;
mod drain;
mod durable_up;
mod fan_out;
mod filters;
mod graceful_shutdown;
mod grpc_surface;
mod kafka_bus;
mod kafka_dead_letters;
mod kafka_delivery;
mod kafka_tools;
mod metrics;
mod openapi;
mod poison;
mod runs;
mod security;
mod seed_compat;
mod seed_hbase;
mod seed_history;
mod tls;
mod traces;
