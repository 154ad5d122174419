//! Generator throughput on one core: `cargo bench -p payments-generator --bench generate`.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

/// The allocator the service binaries use, so the figure is the one they see.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use payments_core::compact_json::write_compact_json;
use payments_generator::{GeneratorConfig, PaymentGenerator};
use prost::Message;
use std::hint::black_box;

fn generate(c: &mut Criterion) {
    let generator = PaymentGenerator::new(GeneratorConfig {
        seed: 42,
        ..Default::default()
    });
    let mut group = c.benchmark_group("generator");
    group.throughput(Throughput::Elements(1));
    let mut i = 0u64;
    group.bench_function("payment", |b| {
        b.iter(|| {
            i += 1;
            black_box(generator.payment(i))
        })
    });
    // Made into the payment before, as `generate` makes what it writes and lets go.
    let mut reused = payments_core::pb::Payment::default();
    group.bench_function("payment_into", |b| {
        b.iter(|| {
            i += 1;
            generator.payment_into(i, &mut reused);
            black_box(&reused);
        })
    });
    group.bench_function("payment+encode", |b| {
        b.iter(|| {
            i += 1;
            black_box(generator.payment(i).encode_to_vec())
        })
    });
    // A payment's compact JSON (a JSON line's body), written into a reused buffer.
    let made: Vec<_> = (0..1_000).map(|i| generator.payment(i)).collect();
    let mut out = Vec::with_capacity(4096);
    group.bench_function("json", |b| {
        b.iter(|| {
            i += 1;
            out.clear();
            let written = write_compact_json(&made[(i % 1_000) as usize], &mut out);
            black_box((written.is_ok(), out.len()))
        })
    });
    group.finish();
}

criterion_group!(benches, generate);
criterion_main!(benches);
