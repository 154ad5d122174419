//! `paymentsctl bench-kafka`: the Kafka legs of the pipeline, measured one at a time on
//! the same broker with the same records.
//!
//! 1. **produce**: protobuf records straight to a fresh topic through rdkafka (the
//!    ceiling for ingest), with receipts pipelined as ingest pipelines them.
//! 2. **ingest**: the same payments over gRPC `SubmitPayments` into an IngestService in
//!    this process, which validates them and produces them to another fresh topic;
//!    counted when ingest acknowledges (after Kafka's delivery reports).
//! 3. **process**: a processor with a new consumer group reads that topic into a fresh
//!    store (`--sink`, default a temporary SQLite file) until every payment is stored.
//!
//! The first two legs run in turn for `--rounds` rounds, and each figure printed is the
//! median of its rounds: on a shared host one pair of sub-second legs moved the ratio
//! between them by a fifth from one run to the next.
//!
//! The topics are deleted afterwards, whatever the outcome (Ctrl-C included), unless
//! `--keep-topics`.

use super::pre_encoded::{joined, strict_request, submit_pre_encoded};
use crate::cli::{BenchKafkaArgs, ServerArg};
use crate::client;
use crate::commands::query::describe_status;
use crate::interrupt::Interrupted;
use anyhow::Context;
use bytes::Bytes;
use payments_bus::{Bus, BusRecord};
use payments_core::{ValidationMode, pb};
use payments_ingest::{Ingestor, LocalIngest, RecordKey, TraceHeader};
use payments_processor::{NamedSink, Processor, ProcessorConfig};
use payments_runtime::Shutdown;
use prost::Message;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Records handed to the producer per call in the produce leg (as ingest batches them).
const PRODUCE_BATCH: usize = 512;
/// Receipts outstanding at once in the produce leg (as ingest allows per stream).
const PRODUCE_IN_FLIGHT: usize = 64;

/// How long an interrupted run waits for the records in flight before deleting its topics.
const INTERRUPTED_RECORDS_LAND: Duration = Duration::from_secs(2);

/// Runs the three legs and prints their figures.
pub async fn run(args: BenchKafkaArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.count > 0, "--count must be at least 1");
    anyhow::ensure!(
        args.streams > 0 && args.chunk > 0 && args.per_message > 0,
        "--streams, --chunk and --per-message must be at least 1"
    );
    let run_id = super::clock_seed();
    let produce_topic = format!("bench-{run_id}-produce");
    let ingest_topic = format!("bench-{run_id}-ingest");
    // Where the rounds after the first ingest, so that the process leg reads one round.
    let again_topic = format!("bench-{run_id}-ingest-again");
    let topics = [
        produce_topic.as_str(),
        ingest_topic.as_str(),
        again_topic.as_str(),
    ];
    let named = topics.join(", ");
    let bus = Bus::connect_networked(&args.bus, "paymentsctl bench-kafka", &topics)
        .await
        .with_context(|| format!("connecting to bus {}", args.bus))?;

    // A fresh store for the process leg unless --sink names one, deleted at the end.
    let temp_dir = std::env::temp_dir().join(format!("paymentsctl-bench-kafka-{run_id}"));
    // Ctrl-C stops the legs; the topics and the temporary store still go. Listened for
    // first, so that a Ctrl-C while the payments are made is caught too.
    let legs = tokio::select! {
        biased;
        _ = tokio::signal::ctrl_c() => {
            // Records already handed to the producer still land, and on a broker that
            // creates topics on use they would bring a deleted topic back.
            tokio::time::sleep(INTERRUPTED_RECORDS_LAND).await;
            Err(Interrupted::default().into())
        }
        legs = run_legs(&bus, &topics, &args, run_id, &temp_dir) => legs,
    };
    let _ = std::fs::remove_dir_all(&temp_dir);
    if args.keep_topics {
        eprintln!("kept topics {named}");
    } else {
        match bus.delete_topics(&topics).await {
            Ok(()) => eprintln!("deleted topics {named} (--keep-topics keeps them)"),
            // The figures stand; only the clean-up failed.
            Err(error) => eprintln!("could not delete topics {named}: {error}"),
        }
    }
    legs
}

/// The legs, each printing its figure: produce and ingest in turn for `--rounds` rounds,
/// then process.
async fn run_legs(
    bus: &Bus,
    [produce_topic, ingest_topic, again_topic]: &[&str; 3],
    args: &BenchKafkaArgs,
    run_id: u64,
    temp_dir: &std::path::Path,
) -> anyhow::Result<()> {
    let payments = super::bench::generated_now(args.count, run_id);
    // Both legs' inputs are built once, before any clock starts, and shared by the rounds.
    let records = produce_records(bus, produce_topic, &payments)?;
    let chunks = ingest_chunks(payments.as_ref(), args);
    drop(payments);
    let mut rounds = Vec::with_capacity(usize::from(args.rounds));
    for round in 1..=args.rounds {
        let produce = produce_leg(bus, produce_topic, records.clone()).await?;
        let topic = if round == 1 {
            ingest_topic
        } else {
            again_topic
        };
        let ingest = ingest_leg(bus, topic, chunks.clone(), args).await?;
        let ratio = produce.as_secs_f64() / ingest.as_secs_f64();
        eprintln!(
            "  round {round}/{}: produce {:.0}/s, ingest {:.0}/s, ratio {ratio:.2}",
            args.rounds,
            rate(args.count, produce),
            rate(args.count, ingest)
        );
        rounds.push((produce, ingest, ratio));
    }
    let median_of =
        |leg: fn(&(Duration, Duration, f64)) -> f64| median(rounds.iter().map(leg).collect());
    let of_rounds = format!("median of {} rounds", args.rounds);
    let produce = Duration::from_secs_f64(median_of(|r| r.0.as_secs_f64()));
    report(
        "produce (rdkafka, no gRPC)",
        args.count,
        produce,
        &of_rounds,
    );
    let ingest = Duration::from_secs_f64(median_of(|r| r.1.as_secs_f64()));
    report(
        "ingest (gRPC -> Kafka, acked)",
        args.count,
        ingest,
        &of_rounds,
    );
    println!(
        "  ingest / produce ratio: {:.2} ({of_rounds}, each taken from its own round's two legs)",
        median_of(|r| r.2)
    );
    let process = process_leg(bus, ingest_topic, args, run_id, temp_dir).await?;
    report("process (Kafka -> store)", args.count, process, "one run");
    Ok(())
}

/// The middle value of `values` (the mean of the middle two for an even count).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[middle],
        _ => (values[middle - 1] + values[middle]) / 2.0,
    }
}

fn rate(count: u64, took: Duration) -> f64 {
    count as f64 / took.as_secs_f64()
}

fn report(leg: &str, count: u64, took: Duration, what: &str) {
    println!(
        "  {leg:<32} {count} payments in {:>6.2}s  ({:.0} payments/s, {what})",
        took.as_secs_f64(),
        rate(count, took)
    );
}

/// The records ingest would produce for `payments`, as the produce leg sends them.
fn produce_records(
    bus: &Bus,
    topic: &str,
    payments: &[pb::Payment],
) -> anyhow::Result<Vec<BusRecord>> {
    let ingestor = Ingestor::new(bus.producer(), topic, RecordKey::PaymentId);
    let trace = TraceHeader::new_root();
    let records = payments
        .iter()
        .map(|p| {
            ingestor
                .prepare(p.clone(), ValidationMode::Strict, &trace)
                .map(|(_, r)| r)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(records)
}

/// Produces `records` straight to `topic`, in batches pipelined as ingest pipelines them.
async fn produce_leg(bus: &Bus, topic: &str, records: Vec<BusRecord>) -> anyhow::Result<Duration> {
    let producer = bus.producer();
    let started = Instant::now();
    let mut in_flight = VecDeque::new();
    let mut records = records.into_iter().peekable();
    while records.peek().is_some() {
        let batch: Vec<_> = records.by_ref().take(PRODUCE_BATCH).collect();
        if in_flight.len() >= PRODUCE_IN_FLIGHT
            && let Some(oldest) = in_flight.pop_front()
        {
            oldest.await?;
        }
        in_flight.push_back(producer.enqueue(topic, batch).await?);
    }
    for receipt in in_flight {
        receipt.await?;
    }
    Ok(started.elapsed())
}

/// One stream call of the ingest leg: how many payments it carries, and its messages.
type IngestChunk = (u64, Vec<Bytes>);

/// The ingest leg's stream calls, `--chunk` payments each, encoded as our clients send them
/// ([`joined`]).
fn ingest_chunks(payments: &[pb::Payment], args: &BenchKafkaArgs) -> Vec<IngestChunk> {
    payments
        .chunks(args.chunk)
        .map(|chunk| {
            let requests = chunk
                .iter()
                .map(|payment| Bytes::from(strict_request(payment.clone()).encode_to_vec()))
                .collect();
            (chunk.len() as u64, joined(requests, args.per_message))
        })
        .collect()
}

/// Serves IngestService on a free port in this process and submits `chunks` to it on
/// `--streams` streams. The requests were encoded before the clock starts, as the produce
/// leg's records were ([`PreEncodedCodec`](super::pre_encoded::PreEncodedCodec)): what is
/// timed is gRPC, and ingest's decoding, validation and producing.
async fn ingest_leg(
    bus: &Bus,
    topic: &str,
    chunks: Vec<IngestChunk>,
    args: &BenchKafkaArgs,
) -> anyhow::Result<Duration> {
    let ingest = LocalIngest::start(bus, topic).await?;
    // A connection each: streams sharing one HTTP/2 connection take turns at its one reader
    // and writer (gRPC's performance guide advises a pool of connections under high load).
    // Four interleaved pairs: 202k–220k/s against 163k–195k/s on one.
    let mut channels = Vec::with_capacity(args.streams);
    for _ in 0..args.streams {
        channels.push(client::connect(&ServerArg::plain(&ingest.addr().to_string())).await?);
    }
    let chunks = Arc::new(std::sync::Mutex::new(chunks.into_iter()));
    let started = Instant::now();
    // Dropped with the leg (Ctrl-C), the set stops every stream.
    let mut workers = tokio::task::JoinSet::new();
    for channel in channels {
        let chunks = chunks.clone();
        workers.spawn(async move {
            loop {
                let next = chunks.lock().ok().and_then(|mut c| c.next());
                let Some((sent, messages)) = next else {
                    return anyhow::Ok(());
                };
                let summary = submit_pre_encoded(channel.clone(), tokio_stream::iter(messages))
                    .await
                    .map_err(|s| anyhow::anyhow!("submission failed: {}", describe_status(&s)))?;
                anyhow::ensure!(
                    summary.rejected == 0 && summary.accepted == sent,
                    "{} of {sent} payments accepted, {} rejected",
                    summary.accepted,
                    summary.rejected
                );
            }
        });
    }
    while let Some(worker) = workers.join_next().await {
        worker.context("submission worker")??;
    }
    let took = started.elapsed();
    ingest.stop().await.context("ingest server")?;
    Ok(took)
}

/// Reads `topic` with a new group into a fresh store until every payment is stored.
async fn process_leg(
    bus: &Bus,
    topic: &str,
    args: &BenchKafkaArgs,
    run_id: u64,
    temp_dir: &std::path::Path,
) -> anyhow::Result<Duration> {
    let sink_url = match &args.sink {
        Some(url) => url.clone(),
        None => {
            std::fs::create_dir_all(temp_dir)?;
            format!("sqlite://{}/bench.db", temp_dir.display())
        }
    };
    let sink = payments_store::open_sink(&sink_url)
        .await
        .with_context(|| format!("opening sink {sink_url}"))?;
    let processor = Processor::on_bus(
        bus,
        topic,
        &format!("bench-{run_id}"),
        None,
        vec![NamedSink::by_scheme(sink)],
        ProcessorConfig {
            batch_size: args.batch_size,
            max_batch_size: args.max_batch_size,
            ..Default::default()
        },
    )?;
    let counters = processor.counters();
    let (drain, abort) = (Shutdown::new(), Shutdown::new());
    let task = tokio::spawn(processor.run(drain.clone(), abort));
    let started = Instant::now();
    let mut last_report = Instant::now();
    while counters.stored() < args.count {
        anyhow::ensure!(!task.is_finished(), "the processor stopped early");
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(600),
            "only {} of {} stored after 10 minutes",
            counters.stored(),
            args.count
        );
        if last_report.elapsed() >= Duration::from_secs(1) {
            eprintln!(
                "  {:>6.1}s stored {:>8} / {}",
                started.elapsed().as_secs_f64(),
                counters.stored(),
                args.count
            );
            last_report = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let took = started.elapsed();
    drain.cancel();
    task.await.context("processor task")??;
    Ok(took)
}
