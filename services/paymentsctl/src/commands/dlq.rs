//! `paymentsctl dlq list` and `paymentsctl dlq replay`: inspect the dead-letter topic and
//! send payments back to the payments topic once they pass validation.

use crate::cli::{DlqArgs, DlqCommand, DlqListArgs, DlqReplayArgs};
use crate::input::read_payments;
use anyhow::Context;
use payments_bus::{Bus, BusRecord, Delivery};
use payments_core::{ValidationMode, pb};
use payments_ingest::{IngestError, Ingestor, RecordKey, TraceHeader};
use payments_processor::decode_payment;

use serde_json::{Value, json};

/// Runs a `dlq` subcommand.
pub async fn run(args: DlqArgs) -> anyhow::Result<()> {
    match args.command {
        DlqCommand::List(list) => self::list(list).await,
        DlqCommand::Replay(replay) => self::replay(replay).await,
    }
}

async fn connect(url: &str) -> anyhow::Result<Bus> {
    Bus::connect_networked(url, "paymentsctl dlq", &[])
        .await
        .with_context(|| format!("connecting to bus {url}"))
}

/// One dead letter as a JSON object: where it is, why it is there, and its payment
/// (protobuf JSON) when the value still decodes, else its value as text or base64.
fn describe(delivery: &Delivery) -> Value {
    let record = &delivery.record;
    let why = delivery.dead_letter_headers();
    let mut out = json!({
        "partition": delivery.partition,
        "offset": delivery.offset,
        "stage": why.stage.unwrap_or_default(),
        "reason": why.reason.unwrap_or_default(),
        "source": why.source.unwrap_or_default(),
        "time": why.time.unwrap_or_default(),
        "key": String::from_utf8_lossy(&record.key),
    });
    match decode_payment(record) {
        Ok(payment) => out["payment"] = serde_json::to_value(&payment).unwrap_or(Value::Null),
        Err(_) => match std::str::from_utf8(&record.value) {
            Ok(text) => out["value_text"] = Value::from(text),
            Err(_) => out["value_hex"] = Value::from(hex(&record.value)),
        },
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn list(args: DlqListArgs) -> anyhow::Result<()> {
    let bus = connect(&args.bus.bus).await?;
    let letters = bus.read_topic(&args.bus.topic, args.limit).await?;
    if args.json {
        for letter in &letters {
            println!("{}", describe(letter));
        }
        return Ok(());
    }
    if letters.is_empty() {
        println!("{} is empty", args.bus.topic);
        return Ok(());
    }
    println!(
        "PARTITION/OFFSET  STAGE     SOURCE                          KEY                   REASON"
    );
    for letter in &letters {
        let d = describe(letter);
        let text = |k: &str| d[k].as_str().unwrap_or_default().to_owned();
        println!(
            "{:<17} {:<9} {:<31} {:<21} {}",
            format!("{}/{}", letter.partition, letter.offset),
            text("stage"),
            text("source"),
            text("key"),
            text("reason"),
        );
    }
    println!("{} dead letter(s)", letters.len());
    Ok(())
}

/// A payment to send back and where it came from (for messages).
struct Candidate {
    origin: String,
    payment: anyhow::Result<pb::Payment>,
}

async fn replay(args: DlqReplayArgs) -> anyhow::Result<()> {
    let bus = connect(&args.bus.bus).await?;
    let candidates: Vec<Candidate> = match &args.file {
        Some(file) => read_payments(file)?
            .into_iter()
            .map(|r| Candidate {
                origin: r.origin,
                payment: r.payment.map_err(anyhow::Error::from),
            })
            .collect(),
        None => bus
            .read_topic(&args.bus.topic, usize::MAX)
            .await?
            .iter()
            .filter(|d| {
                args.offsets.is_empty()
                    || args
                        .offsets
                        .contains(&format!("{}/{}", d.partition, d.offset))
            })
            .map(|d| Candidate {
                origin: format!("{}/{}", d.partition, d.offset),
                payment: decode_payment(&d.record).map_err(anyhow::Error::from),
            })
            .collect(),
    };
    let mode = if args.lenient {
        ValidationMode::Lenient
    } else {
        ValidationMode::Strict
    };
    let ingestor = Ingestor::new(bus.producer(), args.to.clone(), RecordKey::PaymentId)
        .with_encoding(bus.value_encoding());
    let trace = TraceHeader::new_root();
    let mut records: Vec<BusRecord> = Vec::new();
    let mut still_bad = 0u64;
    for candidate in candidates {
        let payment = match candidate.payment {
            Ok(payment) => payment,
            Err(reason) => {
                still_bad += 1;
                println!("skipped {}: cannot be read: {reason}", candidate.origin);
                continue;
            }
        };
        match ingestor.prepare(payment, mode, &trace) {
            Ok((submitted, record)) => {
                println!("replay {} {}", candidate.origin, submitted.payment_id);
                records.push(record);
            }
            Err(IngestError::Invalid {
                payment_id,
                violations,
            }) => {
                still_bad += 1;
                let fields: Vec<String> = violations
                    .iter()
                    .map(|v| format!("{}: {}", v.field, v.description))
                    .collect();
                println!(
                    "skipped {} {payment_id}: still invalid: {}",
                    candidate.origin,
                    fields.join("; ")
                );
            }
            Err(e) => return Err(e.into()),
        }
    }
    let sent = records.len();
    if args.dry_run {
        println!(
            "{sent} would be replayed to {}, {still_bad} still failing (dry run)",
            args.to
        );
    } else {
        ingestor.enqueue(records).await?.await?;
        println!("{sent} replayed to {}, {still_bad} still failing", args.to);
    }
    if still_bad > 0 {
        anyhow::bail!("{still_bad} dead letter(s) could not be replayed");
    }
    Ok(())
}
