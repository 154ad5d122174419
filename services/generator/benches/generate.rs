//! Generator throughput on one core: `cargo bench -p payments-generator --bench generate`.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

/// The allocator the service binaries use, so the figure is the one they see.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
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
    group.bench_function("payment+encode", |b| {
        b.iter(|| {
            i += 1;
            black_box(generator.payment(i).encode_to_vec())
        })
    });
    group.finish();
}

criterion_group!(benches, generate);
criterion_main!(benches);
