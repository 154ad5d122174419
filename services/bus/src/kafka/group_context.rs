//! [`GroupContext`]: the callbacks librdkafka makes while a group member is polled, for its
//! statistics (lag) and its rebalances.

use rdkafka::ClientContext;
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer as _, ConsumerContext, RebalanceProtocol,
};
use rdkafka::error::KafkaError;
use rdkafka::statistics::Statistics;
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use rdkafka::types::{RDKafkaErrorCode, RDKafkaRespErr};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Longest a rebalance waits for the group's committed offsets of the partitions it assigns.
const COMMITTED_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a rebalance keeps asking for the group's committed offsets before it leaves the
/// lookup to librdkafka. Right after a broker comes back, the group's coordinator answers "not
/// coordinator" for a moment; librdkafka's own lookup, failing then, was never tried again,
/// and the member held its partitions without reading them (a processor stored nothing for
/// minutes after a 10 s pause of the broker).
const COMMITTED_PATIENCE: Duration = Duration::from_secs(10);

/// Wait between two asks for the committed offsets.
const COMMITTED_RETRY: Duration = Duration::from_millis(500);

/// Where a partition the group has never committed starts: the consumer's
/// `auto.offset.reset` (`earliest`), given explicitly.
const START_OF_A_NEW_PARTITION: Offset = Offset::Beginning;

/// Reports a group member's lag and assigned partitions, commits what it processed before its
/// partitions move, and assigns the partitions the group has never committed at their start.
///
/// That last part saves every new group a tenth of a second: left to itself, librdkafka
/// fetches the group's committed offsets after the assignment, and for a partition with none
/// it waits a fixed 100 ms before it asks where the partition starts, as if after an error.
/// Given a start, it asks at once. Partitions that have a commit keep librdkafka's own
/// lookup, which also feeds its lag statistics.
pub(super) struct GroupContext {
    /// The topic the member reads.
    pub topic: String,
    /// The member's lag in records, summed over its partitions (librdkafka's statistics).
    pub lag: Arc<AtomicI64>,
    /// Partitions the member holds.
    pub assigned: Arc<AtomicUsize>,
}

impl ClientContext for GroupContext {
    fn stats(&self, statistics: Statistics) {
        if let Some(topic) = statistics.topics.get(&self.topic) {
            let assigned = topic
                .partitions
                .values()
                .filter(|p| p.partition >= 0 && p.consumer_lag >= 0);
            let mut lag = 0;
            for partition in assigned {
                lag += partition.consumer_lag;
                metrics::gauge!(
                    "payments_consumer_lag",
                    "topic" => self.topic.clone(),
                    "partition" => partition.partition.to_string(),
                )
                .set(partition.consumer_lag as f64);
            }
            self.lag.store(lag, Ordering::Relaxed);
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        tracing::warn!(%error, reason, "kafka consumer error");
    }
}

impl ConsumerContext for GroupContext {
    /// Replaces rdkafka's default, which assigns the partitions as librdkafka hands them over;
    /// this one first gives a start to those the group never committed.
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        partitions: &mut TopicPartitionList,
    ) {
        // Asking for the committed offsets, and committing, wait on the broker: seconds, when
        // its coordinator is moving.
        off_the_worker(|| match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                self.assign(consumer, partitions)
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                self.revoke(consumer, partitions)
            }
            other => {
                let error = RDKafkaErrorCode::from(other);
                tracing::warn!(%error, topic = %self.topic, "kafka rebalance failed; giving up the partitions");
                self.unassign(consumer, partitions);
            }
        })
    }
}

/// Runs `work`, which blocks its thread, so that it holds up no other task: on a worker of a
/// multi-threaded runtime (where a stream consumer's callbacks run, as the stream is polled),
/// the worker's other tasks are first handed to another thread. Anywhere else (a blocking
/// thread, a single-threaded test runtime, no runtime) it simply runs.
fn off_the_worker<T>(work: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}

impl GroupContext {
    /// Takes `partitions`, each where the group left it (the start of a partition it never
    /// committed), and logs where that is.
    fn assign(&self, consumer: &BaseConsumer<Self>, partitions: &mut TopicPartitionList) {
        // Without an answer, librdkafka looks the commits up itself, as it would by default.
        let committed = self.committed_offsets(consumer, partitions);
        for element in committed.iter().flat_map(|list| list.elements()) {
            if element.error().is_ok() && element.offset() == Offset::Invalid {
                let (topic, partition) = (element.topic(), element.partition());
                if let Err(error) =
                    partitions.set_partition_offset(topic, partition, START_OF_A_NEW_PARTITION)
                {
                    tracing::warn!(%error, topic, partition, "setting a new partition's start failed");
                }
            }
        }
        let assigned = match consumer.rebalance_protocol() {
            RebalanceProtocol::Cooperative => consumer.incremental_assign(partitions),
            _ => consumer.assign(partitions),
        };
        if let Err(error) = assigned {
            tracing::warn!(%error, topic = %self.topic, "kafka assignment failed");
        }
        self.count_assigned(consumer);
        let ids: Vec<i32> = partitions
            .elements()
            .iter()
            .map(|e| e.partition())
            .collect();
        // Where the group resumes each partition, for whoever reads the log after a restart.
        let committed: Vec<String> = committed
            .iter()
            .flat_map(|list| list.elements())
            .map(|e| format!("{}@{:?}", e.partition(), e.offset()))
            .collect();
        tracing::info!(topic = %self.topic, partitions = ?ids, ?committed, "partitions assigned");
    }

    /// The group's committed offsets of `partitions`, asked again for up to
    /// [`COMMITTED_PATIENCE`]; `None` when no ask was answered.
    fn committed_offsets(
        &self,
        consumer: &BaseConsumer<Self>,
        partitions: &TopicPartitionList,
    ) -> Option<TopicPartitionList> {
        let deadline = Instant::now() + COMMITTED_PATIENCE;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let timeout = deadline
                .saturating_duration_since(Instant::now())
                .min(COMMITTED_TIMEOUT);
            let error = match consumer.committed_offsets(partitions.clone(), timeout) {
                Ok(committed) => return Some(committed),
                Err(error) => error,
            };
            if Instant::now() + COMMITTED_RETRY >= deadline {
                tracing::warn!(%error, topic = %self.topic, attempt, "reading the group's committed offsets failed; librdkafka looks them up");
                return None;
            }
            tracing::warn!(%error, topic = %self.topic, attempt, "reading the group's committed offsets failed; asking again");
            std::thread::sleep(COMMITTED_RETRY);
        }
    }

    /// Commits what was processed on `partitions` before another member takes them, so that
    /// it does not process them again, then gives them up.
    fn revoke(&self, consumer: &BaseConsumer<Self>, partitions: &TopicPartitionList) {
        match consumer.commit_consumer_state(CommitMode::Sync) {
            Ok(()) | Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => {}
            Err(error) => tracing::warn!(%error, "commit on partition revoke failed"),
        }
        self.unassign(consumer, partitions);
        self.count_assigned(consumer);
        tracing::info!(
            topic = %self.topic,
            partitions = partitions.count(),
            "partitions revoked"
        );
    }

    /// Gives up `partitions` (all of them, under the eager protocol).
    fn unassign(&self, consumer: &BaseConsumer<Self>, partitions: &TopicPartitionList) {
        let unassigned = match consumer.rebalance_protocol() {
            RebalanceProtocol::Cooperative => consumer.incremental_unassign(partitions),
            _ => consumer.unassign(),
        };
        if let Err(error) = unassigned {
            tracing::warn!(%error, topic = %self.topic, "giving up partitions failed");
        }
    }

    /// Records how many partitions the member holds now (under the cooperative protocol, a
    /// rebalance adds or removes some of them).
    fn count_assigned(&self, consumer: &BaseConsumer<Self>) {
        let held = consumer.assignment().map(|list| list.count()).unwrap_or(0);
        self.assigned.store(held, Ordering::Relaxed);
    }
}
