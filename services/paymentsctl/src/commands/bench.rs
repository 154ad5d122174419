//! `paymentsctl bench`: end-to-end throughput and submit-to-queryable latency.
//!
//! Submits `--count` generated payments through IngestService on `--streams` concurrent
//! client streams, and waits until the query service counts them all. The requests are made
//! and encoded before the clock starts, into a file of the bench's temporary directory
//! ([`RequestSpool`]), and each stream reads its next `--chunk` of them back as it needs
//! them: what is timed is the pipeline, not the client's making of payments, and the bench's
//! memory is the pipeline's. About 500 payments spread over the run are latency samples
//! ([`LATENCY_SAMPLES`]): from the moment its stream sends one to the moment `GetPayment`
//! first finds it (asked again every 5 ms until then).

use crate::cli::{BenchArgs, ServerArg};
use crate::client;
use crate::commands::pre_encoded::submit_pre_encoded;
use crate::commands::query::describe_status;
use crate::commands::request_spool::RequestSpool;
use crate::interrupt::Interrupted;
use crate::stack::{RunningStack, StackConfig};
use anyhow::Context;
use payments_core::pb;
use payments_generator::{GeneratorConfig, PaymentGenerator};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_stream::StreamExt;

/// About how many payments of a run are latency samples, whatever its `--count`. Each is a
/// `GetPayment` (or several, until it is found) served on the cores being measured, and one
/// costs about 0.2 ms of CPU while the store is being written (a reading connection reads
/// its pages again after every commit): one payment in a hundred, 2,000 samples, took 7% of
/// the CPU of a 200,000-payment run. p99 over 500 is the fifth slowest.
const LATENCY_SAMPLES: usize = 500;

/// One payment in this many of a run of `count` is a latency sample.
fn sample_every(count: usize) -> usize {
    (count / LATENCY_SAMPLES).max(1)
}
/// How often the latency sampler asks again for a sample not yet stored: a latency is
/// measured to within this. Every ask is a `GetPayment` that the pipeline being measured
/// serves, on the same cores.
const LATENCY_POLL: Duration = Duration::from_millis(5);
/// How often the bench counts the stored payments (`GetStats`) and reports progress until the
/// last latency sample is found. A count reads a whole index, which grows with the store
/// (30–40 ms at 200,000 payments: counting every [`FINISH_POLL`] throughout took 1.2 s of a
/// 6 s run), and the pipeline being measured serves it.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);
/// How often the bench counts once every payment is submitted and every latency sample found:
/// the end of the run is measured to within this.
const FINISH_POLL: Duration = Duration::from_millis(100);
/// Longest the bench waits for the last payment to become queryable.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(300);

type Samples = Arc<Mutex<VecDeque<(String, Instant)>>>;

/// Runs the benchmark and prints its figures.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.count > 0, "--count must be at least 1");
    anyhow::ensure!(
        args.streams > 0 && args.chunk > 0 && args.per_message > 0,
        "--streams, --chunk and --per-message must be at least 1"
    );
    let temp_dir = std::env::temp_dir().join(format!(
        "paymentsctl-bench-{}-{}",
        std::process::id(),
        super::clock_seed()
    ));
    std::fs::create_dir_all(&temp_dir)
        .with_context(|| format!("creating {}", temp_dir.display()))?;
    let (server, stack) = match &args.server {
        Some(server) => (server.clone(), None),
        None => {
            let config = StackConfig {
                grpc_addr: "127.0.0.1:0".into(),
                http_addr: "127.0.0.1:0".into(),
                store: format!("sqlite://{}/bench.db", temp_dir.display()),
                bus: args
                    .bus
                    .clone()
                    .unwrap_or_else(|| format!("file://{}/bench-bus.db", temp_dir.display())),
                ..Default::default()
            };
            let stack = RunningStack::start(config).await?;
            eprintln!(
                "embedded stack on {} (bus {}, SQLite store in {})",
                stack.grpc_addr,
                stack.bus(),
                temp_dir.display()
            );
            (stack.grpc_addr.to_string(), Some(stack))
        }
    };
    // Ctrl-C stops the measurement; the embedded stack still drains and the files go.
    let result = tokio::select! {
        result = measure(&args, &server, &temp_dir) => result,
        _ = tokio::signal::ctrl_c() => Err(Interrupted::default().into()),
    };
    let stopped = match stack {
        Some(stack) => stack.shutdown().await,
        None => Ok(()),
    };
    let _ = std::fs::remove_dir_all(&temp_dir);
    result.and(stopped)
}

/// The requests of the run, encoded into a file in `dir`, and the ids of its latency
/// samples (every [`sample_every`]th payment's, in order).
async fn spool_requests(
    args: &BenchArgs,
    dir: &std::path::Path,
) -> anyhow::Result<(RequestSpool, Vec<String>)> {
    let seed = args.seed.unwrap_or_else(super::clock_seed);
    let count = usize::try_from(args.count).context("--count")?;
    let path = dir.join("requests.bin");
    eprintln!(
        "encoding {count} payments (seed {seed}) into {} before the clock starts",
        path.display()
    );
    let started = Instant::now();
    let (spool, sample_ids) = tokio::task::spawn_blocking(move || {
        let generator = PaymentGenerator::new(GeneratorConfig {
            seed,
            ..Default::default()
        });
        let every = sample_every(count);
        let mut sample_ids = Vec::with_capacity(count / every + 1);
        // Created now, so that time-range queries find them.
        let now = chrono::Utc::now();
        let spool = RequestSpool::write(&path, &generator, count, now, |i, payment| {
            if i % every == 0 {
                sample_ids.push(payment.payment_id.clone());
            }
        })?;
        anyhow::Ok((spool, sample_ids))
    })
    .await
    .context("encoding the bench's requests")??;
    eprintln!(
        "encoded {} payments ({:.0} MB) in {:.1}s",
        spool.len(),
        spool.bytes() as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    Ok((spool, sample_ids))
}

async fn measure(args: &BenchArgs, server: &str, dir: &std::path::Path) -> anyhow::Result<()> {
    let count = usize::try_from(args.count).context("--count")?;
    let every = sample_every(count);
    let (spool, sample_ids) = spool_requests(args, dir).await?;
    let (spool, sample_ids) = (Arc::new(spool), Arc::new(sample_ids));
    let channel = client::connect(&ServerArg::plain(server)).await?;
    let mut query = client::query(channel.clone());
    let baseline = stats_count(&mut query).await?;

    let samples: Samples = Arc::default();
    let submitted = Arc::new(AtomicU64::new(0));
    let next_chunk = Arc::new(AtomicUsize::new(0));
    let chunks = count.div_ceil(args.chunk);
    let started = Instant::now();
    let done = Arc::new(AtomicBool::new(false));
    let sampler = tokio::spawn(sample_latencies(
        client::query(channel.clone()),
        samples.clone(),
        done.clone(),
    ));
    let mut workers = Vec::new();
    for _ in 0..args.streams {
        // A connection each, as `bench-kafka` submits (see there).
        let channel = client::connect(&ServerArg::plain(server)).await?;
        let (spool, sample_ids, samples, submitted, next_chunk, chunk) = (
            spool.clone(),
            sample_ids.clone(),
            samples.clone(),
            submitted.clone(),
            next_chunk.clone(),
            args.chunk,
        );
        let per_message = args.per_message;
        workers.push(tokio::spawn(async move {
            loop {
                let c = next_chunk.fetch_add(1, Ordering::Relaxed);
                if c >= chunks {
                    return anyhow::Ok(());
                }
                let range = c * chunk..((c + 1) * chunk).min(count);
                let reading = (spool.clone(), range);
                let messages =
                    tokio::task::spawn_blocking(move || reading.0.read(reading.1, per_message))
                        .await
                        .context("reading the bench's requests")??;
                let (sample_ids, samples) = (sample_ids.clone(), samples.clone());
                let requests = tokio_stream::iter(messages).map(move |(carried, message)| {
                    // The sampled payments this message carries, timed from when it is sent.
                    let sampled = carried.start.div_ceil(every)..carried.end.div_ceil(every);
                    if !sampled.is_empty()
                        && let Ok(mut queue) = samples.lock()
                    {
                        let now = Instant::now();
                        queue.extend(sampled.map(|s| (sample_ids[s].clone(), now)));
                    }
                    message
                });
                let summary = submit_pre_encoded(channel.clone(), requests)
                    .await
                    .map_err(|s| anyhow::anyhow!("submission failed: {}", describe_status(&s)))?;
                anyhow::ensure!(
                    summary.rejected == 0,
                    "{} generated payments were rejected",
                    summary.rejected
                );
                submitted.fetch_add(summary.accepted, Ordering::Relaxed);
            }
        }));
    }
    let target = baseline + args.count as i64;
    let mut workers_done = false;
    let mut submit_elapsed = Duration::ZERO;
    let mut next_count = Instant::now() + PROGRESS_EVERY;
    loop {
        if !workers_done && workers.iter().all(|w| w.is_finished()) {
            for w in workers.drain(..) {
                w.await.context("submission worker")??;
            }
            workers_done = true;
            submit_elapsed = started.elapsed();
        }
        // Every sample found means the rest are close behind: count often from then on.
        let finishing = workers_done && samples.lock().is_ok_and(|queue| queue.is_empty());
        if finishing || Instant::now() >= next_count {
            let stored = stats_count(&mut query).await? - baseline;
            if workers_done && stored + baseline >= target {
                break;
            }
            if Instant::now() >= next_count {
                eprintln!(
                    "  {:>6.1}s submitted {:>8}  queryable {:>8} / {}",
                    started.elapsed().as_secs_f64(),
                    submitted.load(Ordering::Relaxed),
                    stored,
                    args.count
                );
                next_count = Instant::now() + PROGRESS_EVERY;
            }
            anyhow::ensure!(
                started.elapsed() < SETTLE_TIMEOUT,
                "only {stored} of {} payments queryable after {SETTLE_TIMEOUT:?}",
                args.count
            );
        }
        tokio::time::sleep(FINISH_POLL).await;
    }
    let total = started.elapsed();
    done.store(true, Ordering::Relaxed);
    let mut latencies = sampler.await.context("latency sampler")??;
    latencies.sort_unstable();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    println!(
        "bench: {} payments, {} streams x {} per call",
        args.count, args.streams, args.chunk
    );
    println!(
        "  submitted in   {:>8.2}s  ({:.0} payments/s)",
        submit_elapsed.as_secs_f64(),
        args.count as f64 / submit_elapsed.as_secs_f64()
    );
    println!(
        "  queryable in   {:>8.2}s  ({:.0} payments/s end to end)",
        total.as_secs_f64(),
        args.count as f64 / total.as_secs_f64()
    );
    println!(
        "  submit-to-queryable latency over {} samples: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        latencies.len(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    Ok(())
}

/// `count` generated payments for seed `seed`, all created now (so that time-range
/// queries find them), shared between submission workers.
pub fn generated_now(count: u64, seed: u64) -> Arc<Vec<pb::Payment>> {
    eprintln!("generating {count} payments (seed {seed})");
    let generator = PaymentGenerator::new(GeneratorConfig {
        seed,
        ..Default::default()
    });
    let now = chrono::Utc::now();
    Arc::new((0..count).map(|i| generator.payment_at(i, now)).collect())
}

async fn stats_count(
    query: &mut pb::query_service_client::QueryServiceClient<client::Connection>,
) -> anyhow::Result<i64> {
    Ok(query
        .get_stats(pb::GetStatsRequest { filter: None })
        .await
        .map_err(|s| anyhow::anyhow!("GetStats failed: {}", describe_status(&s)))?
        .into_inner()
        .total_count)
}

/// Polls `GetPayment` for the oldest pending sample until it is found.
async fn sample_latencies(
    mut query: pb::query_service_client::QueryServiceClient<client::Connection>,
    samples: Samples,
    done: Arc<AtomicBool>,
) -> anyhow::Result<Vec<Duration>> {
    let mut latencies = Vec::new();
    loop {
        let next = samples.lock().ok().and_then(|q| q.front().cloned());
        let Some((id, sent)) = next else {
            if done.load(Ordering::Relaxed) {
                return Ok(latencies);
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        };
        match query
            .get_payment(pb::GetPaymentRequest {
                payment_id: id.clone(),
            })
            .await
        {
            Ok(_) => {
                latencies.push(sent.elapsed());
                if let Ok(mut q) = samples.lock() {
                    q.pop_front();
                }
            }
            Err(status) if status.code() == tonic::Code::NotFound => {
                tokio::time::sleep(LATENCY_POLL).await
            }
            Err(status) => anyhow::bail!("GetPayment {id}: {}", describe_status(&status)),
        }
    }
}
