//! Reachability checks and topic creation through the admin API.

use super::{client_config, kafka_error};
use crate::{Error, KafkaOptions, Result};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;
use std::time::Duration;

/// Asks the cluster for its metadata; an error names the brokers and what failed.
pub(super) async fn check_reachable(options: &KafkaOptions, timeout: Duration) -> Result<()> {
    let config = client_config(options);
    let brokers = options.brokers.clone();
    let unreachable = |reason: String| Error::Unreachable {
        brokers: brokers.clone(),
        reason,
    };
    let answer = tokio::task::spawn_blocking(move || {
        let admin: AdminClient<DefaultClientContext> =
            config.create().map_err(|e| e.to_string())?;
        admin
            .inner()
            .fetch_metadata(None, timeout)
            .map(|metadata| metadata.brokers().len())
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| unreachable(e.to_string()))?;
    match answer {
        Ok(_) => Ok(()),
        Err(reason) => Err(unreachable(reason)),
    }
}

/// Creates the topics that are missing; an existing topic is left as it is.
pub(super) async fn create_missing(options: &KafkaOptions, topics: &[&str]) -> Result<()> {
    if topics.is_empty() {
        return Ok(());
    }
    let (admin, admin_options) = admin_client(options)?;
    let min_isr = options.min_insync_replicas.map(|n| n.to_string());
    let new: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|name| {
            let topic = NewTopic::new(
                name,
                options.partitions,
                TopicReplication::Fixed(options.replication),
            );
            match &min_isr {
                Some(n) => topic.set("min.insync.replicas", n),
                None => topic,
            }
        })
        .collect();
    let results = admin
        .create_topics(&new, &admin_options)
        .await
        .map_err(|e| kafka_error("create topics", e))?;
    for result in results {
        match result {
            Ok(topic) => {
                tracing::info!(%topic, partitions = options.partitions, replication = options.replication, "topic created");
            }
            Err((topic, RDKafkaErrorCode::TopicAlreadyExists)) => {
                tracing::debug!(%topic, "topic exists");
            }
            Err((topic, code)) => {
                return Err(kafka_error("create topic", format!("{topic}: {code}")));
            }
        }
    }
    Ok(())
}

/// Deletes `topics` and every record they hold; a topic that does not exist is no error.
pub(super) async fn delete(options: &KafkaOptions, topics: &[&str]) -> Result<()> {
    if topics.is_empty() {
        return Ok(());
    }
    let (admin, admin_options) = admin_client(options)?;
    let results = admin
        .delete_topics(topics, &admin_options)
        .await
        .map_err(|e| kafka_error("delete topics", e))?;
    for result in results {
        match result {
            Ok(topic) => tracing::info!(%topic, "topic deleted"),
            Err((topic, RDKafkaErrorCode::UnknownTopicOrPartition)) => {
                tracing::debug!(%topic, "topic already gone");
            }
            Err((topic, code)) => {
                return Err(kafka_error("delete topic", format!("{topic}: {code}")));
            }
        }
    }
    Ok(())
}

/// An admin client for the cluster, and options that wait for an answer as long as a
/// connection may take (at least 5 s).
fn admin_client(
    options: &KafkaOptions,
) -> Result<(AdminClient<DefaultClientContext>, AdminOptions)> {
    let admin = client_config(options)
        .create()
        .map_err(|e| kafka_error("create admin client", e))?;
    let timeout = Some(options.connect_timeout.max(Duration::from_secs(5)));
    let admin_options = AdminOptions::new()
        .request_timeout(timeout)
        .operation_timeout(timeout);
    Ok((admin, admin_options))
}
