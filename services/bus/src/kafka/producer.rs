//! The idempotent, `acks=all` producer.

use super::{client_config, kafka_error};
use crate::{BusRecord, Error, KafkaOptions, Producer, Receipt, Result};
use async_trait::async_trait;
use futures::FutureExt;
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::future_producer::OwnedDeliveryResult;
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use rdkafka::types::RDKafkaErrorCode;
use std::collections::VecDeque;
use std::time::Duration;

/// Produces records with their key and headers; see [`Producer`].
pub struct KafkaProducer {
    producer: FutureProducer,
    max_record_bytes: usize,
}

impl KafkaProducer {
    /// A producer configured from the URL's options.
    pub fn new(options: &KafkaOptions) -> Result<Self> {
        let mut config = client_config(options);
        config
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("compression.type", &options.compression)
            .set("linger.ms", options.linger.as_millis().to_string())
            .set(
                "message.timeout.ms",
                options.delivery_timeout.as_millis().to_string(),
            )
            .set(
                "queue.buffering.max.messages",
                options.queue_max.to_string(),
            );
        let producer = config
            .create()
            .map_err(|e| kafka_error("create producer", e))?;
        // `librdkafka.message.max.bytes` in the URL raises or lowers the limit.
        let max_record_bytes = options
            .extra
            .iter()
            .rev()
            .find(|(name, _)| name == "message.max.bytes")
            .and_then(|(_, value)| value.parse().ok())
            .unwrap_or(crate::DEFAULT_MAX_RECORD_BYTES);
        Ok(Self {
            producer,
            max_record_bytes,
        })
    }
}

/// What one delivery report means for the caller.
fn settle<Canceled>(report: std::result::Result<OwnedDeliveryResult, Canceled>) -> Result<()> {
    match report {
        Ok(Ok(_)) => Ok(()),
        Ok(Err((error, _))) => Err(kafka_error("deliver", error)),
        Err(_) => Err(Error::Closed),
    }
}

#[async_trait]
impl Producer for KafkaProducer {
    fn system(&self) -> &'static str {
        "kafka"
    }

    fn max_record_bytes(&self) -> usize {
        self.max_record_bytes
    }

    async fn enqueue(&self, topic: &str, records: Vec<BusRecord>) -> Result<Receipt> {
        let mut pending: VecDeque<DeliveryFuture> = VecDeque::with_capacity(records.len());
        let mut failed: Option<Error> = None;
        for record in &records {
            let mut headers = OwnedHeaders::new_with_capacity(record.headers.len());
            for (key, value) in &record.headers {
                headers = headers.insert(Header {
                    key,
                    value: Some(value.as_ref()),
                });
            }
            let mut next = FutureRecord::to(topic)
                .key(record.key.as_ref())
                .payload(record.value.as_ref())
                .headers(headers);
            loop {
                match self.producer.send_result(next) {
                    Ok(delivery) => {
                        pending.push_back(delivery);
                        break;
                    }
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                        // Back-pressure: the local queue is full; wait for our oldest
                        // record to be delivered (or for others' records to leave).
                        next = back;
                        match pending.pop_front() {
                            Some(oldest) => {
                                if let Err(e) = settle(oldest.await) {
                                    failed.get_or_insert(e);
                                }
                            }
                            None => tokio::time::sleep(Duration::from_millis(2)).await,
                        }
                    }
                    Err((error, _)) => return Err(kafka_error("produce", error)),
                }
            }
        }
        Ok(async move {
            if let Some(error) = failed {
                return Err(error);
            }
            for delivery in pending {
                settle(delivery.await)?;
            }
            Ok(())
        }
        .boxed())
    }
}
