//! Reading a whole topic as it is now, outside any consumer group (for `paymentsctl dlq`).

use super::consumer::to_delivery;
use super::{client_config, kafka_error};
use crate::{Delivery, KafkaOptions, Result};
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use std::time::{Duration, Instant};

/// How long a read waits for more records once every partition's watermark is reached.
const SETTLED: Duration = Duration::from_millis(1_000);

/// Every record of `topic` from its start up to its end when called, at most `limit`,
/// ordered by partition then offset. Commits nothing.
pub(super) async fn read_topic(
    options: &KafkaOptions,
    topic: &str,
    limit: usize,
) -> Result<Vec<Delivery>> {
    let mut config = client_config(options);
    config
        .set("group.id", "payments-topic-reader")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false");
    let timeout = options.connect_timeout;
    let topic = topic.to_owned();
    tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = config
            .create()
            .map_err(|e| kafka_error("create reader", e))?;
        let metadata = consumer
            .fetch_metadata(Some(&topic), timeout)
            .map_err(|e| kafka_error("read topic metadata", e))?;
        let partitions: Vec<i32> = metadata
            .topics()
            .iter()
            .filter(|t| t.name() == topic && t.error().is_none())
            .flat_map(|t| t.partitions().iter().map(|p| p.id()))
            .collect();
        let mut ends = Vec::new();
        let mut assignment = TopicPartitionList::new();
        for partition in partitions {
            let (low, high) = consumer
                .fetch_watermarks(&topic, partition, timeout)
                .map_err(|e| kafka_error("read watermarks", e))?;
            assignment
                .add_partition_offset(&topic, partition, Offset::Offset(low))
                .map_err(|e| kafka_error("assign", e))?;
            if high > low {
                ends.push((partition, high));
            }
        }
        let mut out: Vec<Delivery> = Vec::new();
        if assignment.count() == 0 {
            return Ok(out);
        }
        consumer
            .assign(&assignment)
            .map_err(|e| kafka_error("assign", e))?;
        // Some Kafka-protocol brokers report a high watermark below the real end of the log,
        // so reaching the watermarks is not the end: the read ends once every watermark
        // is reached and nothing more arrived for a while.
        let mut quiet_since = Instant::now();
        while out.len() < limit && !(ends.is_empty() && quiet_since.elapsed() > SETTLED) {
            match consumer.poll(Duration::from_millis(100)) {
                Some(Ok(message)) => {
                    quiet_since = Instant::now();
                    let delivery = to_delivery(&message);
                    ends.retain(|(p, high)| {
                        !(*p == delivery.partition && delivery.offset + 1 >= *high)
                    });
                    out.push(delivery);
                }
                Some(Err(error)) => return Err(kafka_error("read topic", error)),
                None if !ends.is_empty()
                    && quiet_since.elapsed() > timeout.max(Duration::from_secs(5)) =>
                {
                    return Err(kafka_error(
                        "read topic",
                        format!(
                            "no record arrived for {:?} before the end of {} partition(s)",
                            quiet_since.elapsed(),
                            ends.len()
                        ),
                    ));
                }
                None => {}
            }
        }
        out.sort_by_key(|d| (d.partition, d.offset));
        Ok(out)
    })
    .await
    .map_err(|e| kafka_error("read topic", e))?
}
