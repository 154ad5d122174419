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
