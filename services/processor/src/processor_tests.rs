use super::*;
use bytes::Bytes;
use payments_bus::{Bus, BusRecord, headers};
use payments_core::pb;
use payments_core::sample::ach_payment;
use payments_store::Sink;
use payments_store::Store;
use prost::Message;
use std::collections::HashMap;
use std::sync::atomic::Ordering;

async fn setup(dir: &std::path::Path) -> anyhow::Result<(Bus, Arc<dyn Store>)> {
    let bus = Bus::connect("memory://?capacity=1000").await?;
    let store = payments_store::open(&format!("sqlite://{}/p.db", dir.display())).await?;
    Ok((bus, store))
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("payments-processor-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// One pipeline per sink, each named after its scheme, in groups `processor.<scheme>`.
fn processor_of(bus: &Bus, sinks: Vec<Arc<dyn Sink>>) -> anyhow::Result<Processor> {
    let sinks = sinks.into_iter().map(NamedSink::by_scheme).collect();
    let topic = payments_bus::PAYMENTS_TOPIC;
    let config = ProcessorConfig::default();
    Ok(Processor::on_bus(
        bus,
        topic,
        "processor",
        None,
        sinks,
        config,
    )?)
}

fn proto_record(p: &pb::Payment) -> BusRecord {
    BusRecord {
        key: Bytes::from(p.payment_id.clone()),
        value: Bytes::from(p.encode_to_vec()),
        headers: vec![(
            headers::CONTENT_TYPE.into(),
            Bytes::from_static(headers::PROTOBUF.as_bytes()),
        )],
    }
}

#[tokio::test]
async fn bad_records_go_to_the_dlq_and_good_ones_around_them_are_stored() -> anyhow::Result<()> {
    let dir = temp_dir("dlq");
    let (bus, store) = setup(&dir).await?;
    let producer = bus.producer();
    let mut invalid = ach_payment("BAD-1", 5);
    invalid.amount = Some(pb::Money {
        minor_units: -1,
        currency: "USD".into(),
    });
    let mut truncated = ach_payment("BAD-2", 6).encode_to_vec();
    truncated.truncate(20);
    let records = vec![
        proto_record(&ach_payment("GOOD-1", 1)),
        BusRecord {
            value: Bytes::from_static(b"\xff\xfe garbage"),
            ..Default::default()
        },
        proto_record(&invalid),
        BusRecord {
            value: Bytes::from(truncated),
            ..Default::default()
        },
        proto_record(&ach_payment("GOOD-2", 2)),
    ];
    producer
        .send_batch(payments_bus::PAYMENTS_TOPIC, records)
        .await?;
    let mut dlq = bus.consumer(payments_bus::DEAD_LETTER_TOPIC, "test")?;
    let processor = processor_of(&bus, vec![store.clone()])?;
    let counters = processor.counters();
    let drain = Shutdown::new();
    drain.cancel();
    processor.run(drain, Shutdown::new()).await?;
    assert!(store.get("GOOD-1").await?.is_some());
    assert!(store.get("GOOD-2").await?.is_some());
    assert!(store.get("BAD-1").await?.is_none());
    assert_eq!(counters.stored(), 2);
    let dead = dlq.poll(10, Duration::from_millis(50)).await?;
    assert_eq!(dead.len(), 3);
    let stages: Vec<_> = dead
        .iter()
        .map(|d| {
            d.record
                .header(headers::DLQ_STAGE)
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(stages, vec!["decode", "validate", "decode"]);
    assert_eq!(
        dead[0].record.header(headers::DLQ_SOURCE),
        Some("payment-transactions/0/1")
    );
    assert!(
        dead[1]
            .record
            .header(headers::DLQ_REASON)
            .unwrap_or_default()
            .contains("amount.minor_units")
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[tokio::test]
async fn strict_processor_honours_ingest_lenient_header_and_legacy_seed_json() -> anyhow::Result<()>
{
    let dir = temp_dir("lenient");
    let (bus, store) = setup(&dir).await?;
    let mut p = ach_payment("LEN-1", 0);
    if let Some(r) = p
        .originator
        .as_mut()
        .and_then(|o| o.account.as_mut())
        .and_then(|a| a.routing_info.as_mut())
    {
        r.value = "123456789".into();
    }
    let mut lenient = proto_record(&p);
    lenient.headers.push((
        headers::VALIDATION_MODE.into(),
        Bytes::from_static(b"lenient"),
    ));
    let mut legacy_payment = ach_payment("LEGACY-1", 1);
    legacy_payment.payment_id = "LEGACY-1".into();
    let legacy = BusRecord {
        value: Bytes::from(serde_json::to_vec(&payments_core::seed_json::to_seed(
            &legacy_payment,
        ))?),
        ..Default::default()
    };
    bus.producer()
        .send_batch(payments_bus::PAYMENTS_TOPIC, vec![lenient, legacy])
        .await?;
    let processor = processor_of(&bus, vec![store.clone()])?;
    let drain = Shutdown::new();
    drain.cancel();
    processor.run(drain, Shutdown::new()).await?;
    let stored = store.get("LEN-1").await?;
    assert_eq!(stored.map(|s| s.warnings.len()), Some(1));
    assert!(store.get("LEGACY-1").await?.is_some());
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// A producer that fails its first `failures` sends, then passes them on.
struct FlakyProducer {
    inner: Arc<dyn Producer>,
    failures: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl Producer for FlakyProducer {
    async fn enqueue(
        &self,
        topic: &str,
        records: Vec<BusRecord>,
    ) -> payments_bus::Result<payments_bus::Receipt> {
        let left = self.failures.load(Ordering::Relaxed);
        if left > 0 {
            self.failures.store(left - 1, Ordering::Relaxed);
            return Err(payments_bus::Error::Unreachable {
                brokers: "flaky".into(),
                reason: "the test's bus is away".into(),
            });
        }
        self.inner.enqueue(topic, records).await
    }

    fn system(&self) -> &'static str {
        "memory"
    }

    fn max_record_bytes(&self) -> usize {
        self.inner.max_record_bytes()
    }
}

#[tokio::test]
async fn a_dead_letter_send_that_fails_is_retried_and_the_processor_goes_on() -> anyhow::Result<()>
{
    let dir = temp_dir("dlq-retry");
    let (bus, store) = setup(&dir).await?;
    let records = vec![
        proto_record(&ach_payment("GOOD-1", 1)),
        BusRecord {
            value: Bytes::from_static(b"\xff\xfe garbage"),
            ..Default::default()
        },
        proto_record(&ach_payment("GOOD-2", 2)),
    ];
    bus.producer()
        .send_batch(payments_bus::PAYMENTS_TOPIC, records)
        .await?;
    let flaky = Arc::new(FlakyProducer {
        inner: bus.producer(),
        failures: std::sync::atomic::AtomicUsize::new(2),
    });
    let processor = Processor::new(
        vec![(
            bus.consumer(payments_bus::PAYMENTS_TOPIC, "processor")?,
            NamedSink::by_scheme(store.clone()),
        )],
        flaky.clone(),
        ProcessorConfig::default(),
    );
    let counters = processor.counters();
    let drain = Shutdown::new();
    drain.cancel();
    processor.run(drain, Shutdown::new()).await?;
    assert_eq!(flaky.failures.load(Ordering::Relaxed), 0);
    assert!(store.get("GOOD-1").await?.is_some());
    assert!(store.get("GOOD-2").await?.is_some());
    assert_eq!(counters.dead_lettered(), 1);
    let mut dlq = bus.consumer(payments_bus::DEAD_LETTER_TOPIC, "test")?;
    assert_eq!(dlq.poll(10, Duration::from_millis(50)).await?.len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// A sink over a real store that refuses any batch holding a payment whose originator is
/// named `POISON…`: as the record's fault (`Refused`), or, with `blames_records` off, as an
/// error that says nothing of its cause while the sink still answers pings.
struct PickySink {
    inner: Arc<dyn Store>,
    blames_records: bool,
    writes: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl Sink for PickySink {
    async fn upsert_encoded(
        &self,
        payments: &[pb::Payment],
        encoded: &[Option<Bytes>],
    ) -> payments_store::Result<u64> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        let poisoned = payments.iter().find(|p| {
            p.originator
                .as_ref()
                .is_some_and(|o| o.name.starts_with("POISON"))
        });
        match poisoned {
            Some(p) if self.blames_records => Err(payments_store::Error::refused(
                "picky upsert",
                format!("value too long for {}", p.payment_id),
            )),
            Some(_) => Err(payments_store::Error::backend(
                "picky upsert",
                "something went wrong",
            )),
            None => self.inner.upsert_encoded(payments, encoded).await,
        }
    }

    async fn ping(&self) -> payments_store::Result<()> {
        Ok(())
    }

    fn describe(&self) -> String {
        "picky://test".into()
    }

    async fn close(&self) -> payments_store::Result<()> {
        self.inner.close().await
    }
}

/// Two poisoned payments among 200, refused by the second of two sinks: the other 198 are
/// stored in both sinks, each poisoned one goes to the dead-letter topic with stage
/// `sink:picky` and the sink's message, and nothing waits for a backoff cycle per record.
async fn poisoned_records_are_isolated(blames_records: bool) -> anyhow::Result<()> {
    let dir = temp_dir(&format!("poison-{blames_records}"));
    let (bus, first) = setup(&dir).await?;
    let behind = payments_store::open(&format!("sqlite://{}/behind.db", dir.display())).await?;
    let picky = Arc::new(PickySink {
        inner: behind.clone(),
        blames_records,
        writes: Default::default(),
    });
    let mut records = Vec::new();
    for i in 0..200 {
        let mut p = ach_payment(&format!("P-{i:03}"), i);
        if (i == 17 || i == 150)
            && let Some(o) = p.originator.as_mut()
        {
            o.name = format!("POISON {i}");
        }
        records.push(proto_record(&p));
    }
    bus.producer()
        .send_batch(payments_bus::PAYMENTS_TOPIC, records)
        .await?;
    let processor = processor_of(&bus, vec![first.clone(), picky.clone()])?;
    let counters = processor.counters();
    let drain = Shutdown::new();
    drain.cancel();
    let started = std::time::Instant::now();
    processor.run(drain, Shutdown::new()).await?;
    let took = started.elapsed();
    assert!(behind.get("P-016").await?.is_some());
    assert!(behind.get("P-199").await?.is_some());
    assert!(behind.get("P-017").await?.is_none());
    assert_eq!(counters.stored(), 198);
    assert_eq!(counters.dead_lettered(), 2);
    let mut dlq = bus.consumer(payments_bus::DEAD_LETTER_TOPIC, "test")?;
    let dead = dlq.poll(10, Duration::from_millis(50)).await?;
    let keys: Vec<_> = dead.iter().map(|d| d.record.key.clone()).collect();
    assert_eq!(keys, vec![Bytes::from("P-017"), Bytes::from("P-150")]);
    for letter in &dead {
        assert_eq!(letter.record.header(headers::DLQ_STAGE), Some("sink:picky"));
        let reason = letter
            .record
            .header(headers::DLQ_REASON)
            .unwrap_or_default();
        let expected = if blames_records {
            "value too long"
        } else {
            "something went wrong"
        };
        assert!(reason.contains(expected), "{reason}");
    }
    // Splitting 200 records down to two costs a few dozen writes, not one per record.
    let writes = picky.writes.load(Ordering::Relaxed);
    assert!(writes < 60, "{writes} writes in {took:?}");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[tokio::test]
async fn records_a_sink_refuses_are_dead_lettered_alone_and_the_rest_stored() -> anyhow::Result<()>
{
    poisoned_records_are_isolated(true).await
}

#[tokio::test]
async fn records_a_sink_keeps_failing_while_it_answers_are_dead_lettered_alone()
-> anyhow::Result<()> {
    poisoned_records_are_isolated(false).await
}

/// A consumer over the in-process bus whose first polls and commits fail as a broker that
/// is away would make them.
struct AwayConsumer {
    inner: Box<dyn payments_bus::Consumer>,
    failing_polls: usize,
    failing_commits: usize,
}

fn away() -> payments_bus::Error {
    payments_bus::Error::Unreachable {
        brokers: "away".into(),
        reason: "the test's broker is away".into(),
    }
}

#[async_trait::async_trait]
impl payments_bus::Consumer for AwayConsumer {
    async fn poll(
        &mut self,
        max: usize,
        wait: Duration,
    ) -> payments_bus::Result<Vec<payments_bus::Delivery>> {
        if self.failing_polls > 0 {
            self.failing_polls -= 1;
            return Err(away());
        }
        self.inner.poll(max, wait).await
    }

    async fn commit(&mut self, batch: &[payments_bus::Delivery]) -> payments_bus::Result<()> {
        if self.failing_commits > 0 {
            self.failing_commits -= 1;
            return Err(away());
        }
        self.inner.commit(batch).await
    }

    fn lag(&self) -> u64 {
        self.inner.lag()
    }

    async fn caught_up(&mut self) -> payments_bus::Result<bool> {
        self.inner.caught_up().await
    }

    fn durable(&self) -> bool {
        self.inner.durable()
    }

    fn system(&self) -> &'static str {
        "memory"
    }
}

#[tokio::test]
async fn a_bus_that_is_away_for_a_while_stalls_the_processor_without_stopping_it()
-> anyhow::Result<()> {
    let dir = temp_dir("bus-away");
    let (bus, store) = setup(&dir).await?;
    let records = (0..10)
        .map(|i| proto_record(&ach_payment(&format!("AWAY-{i}"), i)))
        .collect();
    bus.producer()
        .send_batch(payments_bus::PAYMENTS_TOPIC, records)
        .await?;
    let consumer = AwayConsumer {
        inner: bus.consumer(payments_bus::PAYMENTS_TOPIC, "processor")?,
        failing_polls: 3,
        failing_commits: 2,
    };
    let processor = Processor::new(
        vec![(Box::new(consumer), NamedSink::by_scheme(store.clone()))],
        bus.producer(),
        ProcessorConfig::default(),
    );
    let counters = processor.counters();
    let drain = Shutdown::new();
    drain.cancel();
    processor.run(drain, Shutdown::new()).await?;
    assert_eq!(counters.stored(), 10);
    assert!(store.get("AWAY-9").await?.is_some());
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// A sink over a real store that can be taken away: while away, writes fail as a backend
/// that does not answer, and so do pings.
struct SwitchableSink {
    inner: Arc<dyn Store>,
    away: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl Sink for SwitchableSink {
    async fn upsert_encoded(
        &self,
        payments: &[pb::Payment],
        encoded: &[Option<Bytes>],
    ) -> payments_store::Result<u64> {
        if self.away.load(Ordering::Relaxed) {
            return Err(payments_store::Error::backend(
                "switchable upsert",
                "connection refused",
            ));
        }
        self.inner.upsert_encoded(payments, encoded).await
    }

    async fn ping(&self) -> payments_store::Result<()> {
        if self.away.load(Ordering::Relaxed) {
            return Err(payments_store::Error::backend("switchable ping", "away"));
        }
        Ok(())
    }

    fn describe(&self) -> String {
        "switchable://test".into()
    }

    async fn close(&self) -> payments_store::Result<()> {
        self.inner.close().await
    }
}

/// How many payments `store` holds.
async fn stored_count(store: &dyn Store) -> anyhow::Result<i64> {
    let filter = payments_store::PaymentFilter::default();
    Ok(store.stats(&filter).await?.total_count)
}

/// Waits up to 20 s for `done`.
async fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A segment file of the file bus, damaged by `damage` (the layout `PATH/topics/<topic>/`
/// is the file bus's documented one).
fn damage_the_file_bus_log(bus_dir: &std::path::Path, damage: impl Fn(&mut Vec<u8>)) {
    let topic_dir = bus_dir.join("topics").join(payments_bus::PAYMENTS_TOPIC);
    let segment = std::fs::read_dir(&topic_dir)
        .expect("the topic's directory")
        .filter_map(|e| Some(e.ok()?.path()))
        .find(|p| p.extension().is_some_and(|x| x == "log"))
        .expect("a segment");
    let mut bytes = std::fs::read(&segment).expect("the segment");
    damage(&mut bytes);
    std::fs::write(&segment, bytes).expect("writing it back");
}

#[tokio::test]
async fn records_whose_bytes_the_file_bus_finds_damaged_are_dead_lettered_and_the_rest_stored()
-> anyhow::Result<()> {
    let dir = temp_dir("damaged-log");
    let bus_dir = dir.join("bus.db");
    let store = payments_store::open(&format!("sqlite://{}/store.db", dir.display())).await?;
    {
        let bus = Bus::connect(&format!("file://{}", bus_dir.display())).await?;
        let producer = bus.producer();
        for batch in 0..3 {
            let records = (0..10)
                .map(|i| proto_record(&ach_payment(&format!("LOG-{batch}-{i}"), i)))
                .collect();
            producer
                .send_batch(payments_bus::PAYMENTS_TOPIC, records)
                .await?;
        }
        bus.close().await?;
    }
    // One byte in the middle of the log: inside the second append, of three of equal size.
    damage_the_file_bus_log(&bus_dir, |bytes| {
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x55;
    });
    let bus = Bus::connect(&format!("file://{}", bus_dir.display())).await?;
    let mut dlq = bus.consumer(payments_bus::DEAD_LETTER_TOPIC, "test")?;
    let processor = processor_of(&bus, vec![store.clone()])?;
    let counters = processor.counters();
    let drain = Shutdown::new();
    // A durable bus's consumer does not drain its topic when stopped: wait for the records.
    let running = tokio::spawn(processor.run(drain.clone(), Shutdown::new()));
    eventually("the records are stored or dead-lettered", || {
        counters.stored() + counters.dead_lettered() >= 30
    })
    .await;
    drain.cancel();
    running.await??;
    for good in ["LOG-0-0", "LOG-0-9", "LOG-2-0", "LOG-2-9"] {
        assert!(store.get(good).await?.is_some(), "{good}");
    }
    assert!(store.get("LOG-1-0").await?.is_none());
    assert_eq!(stored_count(store.as_ref()).await?, 20);
    let dead = dlq.poll(100, Duration::from_millis(50)).await?;
    let sources: Vec<_> = dead
        .iter()
        .map(|d| {
            d.record
                .header(headers::DLQ_SOURCE)
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    let expected: Vec<_> = (10..20)
        .map(|offset| format!("payment-transactions/0/{offset}"))
        .collect();
    assert_eq!(sources, expected);
    for letter in &dead {
        assert_eq!(letter.record.header(headers::DLQ_STAGE), Some("read"));
        let reason = letter
            .record
            .header(headers::DLQ_REASON)
            .unwrap_or_default();
        assert!(reason.contains("damaged"), "{reason}");
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sink_that_is_away_never_holds_back_the_others_and_catches_up_from_its_own_offsets()
-> anyhow::Result<()> {
    let dir = temp_dir("independent");
    let bus = Bus::connect(&format!("file://{}/bus.db", dir.display())).await?;
    let steady = payments_store::open(&format!("sqlite://{}/steady.db", dir.display())).await?;
    let behind = payments_store::open(&format!("sqlite://{}/behind.db", dir.display())).await?;
    let switchable = Arc::new(SwitchableSink {
        inner: behind.clone(),
        away: true.into(),
    });
    let processor = processor_of(&bus, vec![steady.clone(), switchable.clone()])?;
    let counters = processor.counters();
    let sink = |name: &str| {
        let (_, c) = counters.sinks.iter().find(|(n, _)| n == name).unwrap();
        c.clone()
    };
    let (steady_counters, away_counters) = (sink("sqlite"), sink("switchable"));
    let (drain, abort) = (Shutdown::new(), Shutdown::new());
    let running = tokio::spawn(processor.run(drain.clone(), abort.clone()));
    let records = |from: u32| {
        (from..from + 500)
            .map(|i| proto_record(&ach_payment(&format!("IND-{i:04}"), i64::from(i))))
            .collect::<Vec<_>>()
    };
    let producer = bus.producer();
    producer
        .send_batch(payments_bus::PAYMENTS_TOPIC, records(0))
        .await?;
    eventually("the steady sink stores the first 500", || {
        SinkCounters::get(&steady_counters.stored) == 500
    })
    .await;
    // More arrives while the other sink is still away: the steady one takes it too.
    producer
        .send_batch(payments_bus::PAYMENTS_TOPIC, records(500))
        .await?;
    eventually("the steady sink stores all 1,000", || {
        SinkCounters::get(&steady_counters.stored) == 1_000
    })
    .await;
    assert_eq!(SinkCounters::get(&away_counters.stored), 0);
    assert_eq!(SinkCounters::get(&away_counters.ready), 0);
    assert!(SinkCounters::get(&away_counters.sink_failures) > 0);
    assert_eq!(counters.stored(), 0, "no payment is in every sink yet");
    assert_eq!(stored_count(behind.as_ref()).await?, 0);

    switchable.away.store(false, Ordering::Relaxed);
    eventually("the sink that was away catches up", || {
        SinkCounters::get(&away_counters.stored) == 1_000
    })
    .await;
    drain.cancel();
    running.await??;
    assert_eq!(stored_count(steady.as_ref()).await?, 1_000);
    assert_eq!(stored_count(behind.as_ref()).await?, 1_000);
    assert_eq!(SinkCounters::get(&away_counters.ready), 1);
    assert_eq!(counters.stored(), 1_000);
    assert_eq!(
        counters.unchanged(),
        0,
        "the steady sink wrote each payment once"
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// A sink that takes its time and remembers every write: its size and the payments in it.
#[derive(Default)]
struct SlowSink {
    writes: std::sync::Mutex<Vec<Vec<(String, u32)>>>,
}

#[async_trait::async_trait]
impl Sink for SlowSink {
    async fn upsert_encoded(
        &self,
        payments: &[pb::Payment],
        _encoded: &[Option<Bytes>],
    ) -> payments_store::Result<u64> {
        tokio::time::sleep(Duration::from_millis(30)).await;
        let write = payments
            .iter()
            .map(|p| (p.payment_id.clone(), p.revision))
            .collect();
        self.writes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(write);
        Ok(payments.len() as u64)
    }

    async fn ping(&self) -> payments_store::Result<()> {
        Ok(())
    }

    fn describe(&self) -> String {
        "slow://test".into()
    }

    async fn close(&self) -> payments_store::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_busy_sink_gets_larger_batches_up_to_the_most_and_each_payment_keeps_its_order()
-> anyhow::Result<()> {
    let bus = Bus::connect("memory://?capacity=1000").await?;
    let mut records = Vec::new();
    for revision in 1..=3 {
        for i in 0..200 {
            let mut p = ach_payment(&format!("P-{i:03}"), i);
            p.revision = revision;
            records.push(proto_record(&p));
        }
    }
    bus.producer()
        .send_batch(payments_bus::PAYMENTS_TOPIC, records)
        .await?;
    let sink = Arc::new(SlowSink::default());
    let config = ProcessorConfig {
        batch_size: 10,
        max_batch_size: 100,
        linger: Duration::from_millis(1),
        ..Default::default()
    };
    let sinks = vec![NamedSink::by_scheme(sink.clone() as Arc<dyn Sink>)];
    let processor = Processor::on_bus(
        &bus,
        payments_bus::PAYMENTS_TOPIC,
        "processor",
        None,
        sinks,
        config,
    )?;
    let drain = Shutdown::new();
    drain.cancel();
    processor.run(drain, Shutdown::new()).await?;

    let writes = sink
        .writes
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone();
    let sizes: Vec<usize> = writes.iter().map(Vec::len).collect();
    assert_eq!(sizes.iter().sum::<usize>(), 600, "{sizes:?}");
    assert!(sizes[0] <= 10, "nothing was being written yet: {sizes:?}");
    assert!(sizes.iter().all(|&n| n <= 100), "{sizes:?}");
    assert!(
        sizes.iter().any(|&n| n > 10),
        "batches grew while the sink wrote: {sizes:?}"
    );
    let mut last_revision: HashMap<String, u32> = HashMap::new();
    for (id, revision) in writes.into_iter().flatten() {
        let before = last_revision.insert(id.clone(), revision).unwrap_or(0);
        assert_eq!(revision, before + 1, "{id} arrived out of order");
    }
    Ok(())
}
