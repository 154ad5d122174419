//! Validating generated payments on one core: `cargo bench -p payments-generator --bench
//! validate`. Ingest validates every payment it takes, and the processor every one it reads;
//! both decode each from protobuf first. `decode` is prost's own (more than every rule
//! together); `decode filled` is the code `proto/build.rs` writes for each message, into a new
//! payment (`payments_proto::decode`); `decode_into` is the same into a payment decoded
//! before, as ingest and the processor decode (`payments_proto::decode_into`).

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

/// The allocator the service binaries use, so the figure is the one they see.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use payments_core::text_limits::TextLimits;
use payments_core::{PaymentValidator, ValidationMode};
use payments_generator::{GeneratorConfig, PaymentGenerator};
use std::hint::black_box;

fn validate(c: &mut Criterion) {
    let generator = PaymentGenerator::new(GeneratorConfig {
        seed: 42,
        ..Default::default()
    });
    let payments: Vec<_> = (0..1_000).map(|i| generator.payment(i)).collect();
    let mut group = c.benchmark_group("validate");
    group.throughput(Throughput::Elements(1));
    let mut i = 0;
    group.bench_function("text rules", |b| {
        b.iter(|| {
            i += 1;
            black_box(TextLimits::check(&payments[i % payments.len()]))
        })
    });
    group.bench_function("every rule (strict)", |b| {
        let validator = PaymentValidator::new(ValidationMode::Strict);
        b.iter(|| {
            i += 1;
            black_box(validator.validate(&payments[i % payments.len()]))
        })
    });
    let encoded: Vec<Vec<u8>> = payments.iter().map(prost::Message::encode_to_vec).collect();
    group.bench_function("decode", |b| {
        b.iter(|| {
            i += 1;
            black_box(<payments_core::pb::Payment as prost::Message>::decode(
                encoded[i % encoded.len()].as_slice(),
            ))
        })
    });
    // Afresh, by the code written for each message (`payments_proto::decode`).
    group.bench_function("decode filled", |b| {
        b.iter(|| {
            i += 1;
            black_box(payments_proto::decode::<payments_core::pb::Payment>(
                encoded[i % encoded.len()].as_slice(),
            ))
        })
    });
    // Into a payment decoded before, as ingest decodes each payment of a stream and the
    // processor each of a batch (into the payments of a batch written before).
    let mut into = payments_core::pb::Payment::default();
    group.bench_function("decode_into", |b| {
        b.iter(|| {
            i += 1;
            let decoded =
                payments_proto::decode_into(encoded[i % encoded.len()].as_slice(), &mut into);
            black_box((decoded.is_ok(), &into));
        })
    });
    group.finish();
}

criterion_group!(benches, validate);
criterion_main!(benches);
