use super::*;
use payments_bus::Bus;
use payments_core::sample::ach_payment;
use payments_store::Store;
use prost::Message;

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
    let processor = Processor::new(
        bus.consumer(payments_bus::PAYMENTS_TOPIC, "processor")?,
        vec![store.clone()],
        bus.producer(),
        ProcessorConfig::default(),
    );
    let counters = processor.counters();
    let drain = Shutdown::new();
    drain.cancel();
    processor.run(drain, Shutdown::new()).await?;
    assert!(store.get("GOOD-1").await?.is_some());
    assert!(store.get("GOOD-2").await?.is_some());
    assert!(store.get("BAD-1").await?.is_none());
    assert_eq!(counters.stored.load(Ordering::Relaxed), 2);
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
    let processor = Processor::new(
        bus.consumer(payments_bus::PAYMENTS_TOPIC, "p")?,
        vec![store.clone()],
        bus.producer(),
        ProcessorConfig::default(),
    );
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
        bus.consumer(payments_bus::PAYMENTS_TOPIC, "processor")?,
        vec![store.clone()],
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
    assert_eq!(counters.dead_lettered.load(Ordering::Relaxed), 1);
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
    async fn upsert_batch(&self, payments: &[pb::Payment]) -> payments_store::Result<u64> {
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
            None => self.inner.upsert_batch(payments).await,
        }
    }

    async fn ping(&self) -> payments_store::Result<()> {
        Ok(())
    }

    fn describe(&self) -> String {
        "picky://test".into()
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
    let processor = Processor::new(
        bus.consumer(payments_bus::PAYMENTS_TOPIC, "processor")?,
        vec![first.clone(), picky.clone()],
        bus.producer(),
        ProcessorConfig::default(),
    );
    let counters = processor.counters();
    let drain = Shutdown::new();
    drain.cancel();
    let started = std::time::Instant::now();
    processor.run(drain, Shutdown::new()).await?;
    let took = started.elapsed();
    assert!(behind.get("P-016").await?.is_some());
    assert!(behind.get("P-199").await?.is_some());
    assert!(behind.get("P-017").await?.is_none());
    assert_eq!(counters.stored.load(Ordering::Relaxed), 198);
    assert_eq!(counters.dead_lettered.load(Ordering::Relaxed), 2);
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
        Box::new(consumer),
        vec![store.clone()],
        bus.producer(),
        ProcessorConfig::default(),
    );
    let counters = processor.counters();
    let drain = Shutdown::new();
    drain.cancel();
    processor.run(drain, Shutdown::new()).await?;
    assert_eq!(counters.stored.load(Ordering::Relaxed), 10);
    assert!(store.get("AWAY-9").await?.is_some());
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
