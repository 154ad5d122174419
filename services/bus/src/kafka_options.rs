//! `kafka://` URL options: brokers, topic layout and client tuning.

use crate::{Error, Result, ValueEncoding};
use std::time::Duration;

/// Compression codecs the producer may use.
pub const COMPRESSION_CODECS: [&str; 4] = ["none", "gzip", "snappy", "lz4"];

/// Everything a `kafka://host:port[,host:port][?option=value&…]` URL says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaOptions {
    /// Bootstrap brokers, `host:port`, comma-separated as in the URL.
    pub brokers: String,
    /// Partitions of a topic created at start-up (`partitions=`, default 3).
    pub partitions: i32,
    /// Replication factor of a topic created at start-up (`replication=`, default 1: a
    /// single development broker; production clusters use 3).
    pub replication: i32,
    /// `min.insync.replicas` of a topic created at start-up (`min_insync_replicas=`; unset,
    /// the broker's default). With `acks=all`, a write is acknowledged only once this many
    /// replicas hold it; production clusters use 2 with a replication factor of 3.
    pub min_insync_replicas: Option<i32>,
    /// Producer compression (`compression=`, default lz4).
    pub compression: String,
    /// How long the producer waits to fill a batch (`linger_ms=`, default 5).
    pub linger: Duration,
    /// How long the producer keeps retrying a record before reporting it failed
    /// (`delivery_timeout_ms=`, default 30000).
    pub delivery_timeout: Duration,
    /// Records the producer queues before `enqueue` waits (`queue_max=`, default 100000).
    pub queue_max: u32,
    /// How long a consumer may stay silent before the group gives its partitions to
    /// others (`session_timeout_ms=`, default 10000).
    pub session_timeout: Duration,
    /// How long start-up waits for a broker to answer (`connect_timeout_ms=`, default 5000).
    pub connect_timeout: Duration,
    /// How producers encode a payment in a record's value (`encoding=`, default protobuf).
    pub encoding: ValueEncoding,
    /// Extra librdkafka settings, passed verbatim: `librdkafka.<name>=<value>`.
    pub extra: Vec<(String, String)>,
}

impl KafkaOptions {
    /// Parses what follows `kafka://`; `url` is the whole URL, for error messages.
    pub fn parse(url: &str, rest: &str) -> Result<Self> {
        let invalid = |reason: String| Error::InvalidUrl {
            url: url.to_owned(),
            reason,
        };
        let (hosts, query) = rest.split_once('?').unwrap_or((rest, ""));
        let hosts = hosts.trim_end_matches('/');
        if hosts.is_empty() {
            return Err(invalid(
                "expected kafka://host:port[,host:port], e.g. kafka://127.0.0.1:9092".into(),
            ));
        }
        for host in hosts.split(',') {
            let port_ok = host
                .rsplit_once(':')
                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0));
            if !port_ok {
                return Err(invalid(format!("broker {host:?} is not host:port")));
            }
        }
        let mut options = Self {
            brokers: hosts.to_owned(),
            partitions: 3,
            replication: 1,
            min_insync_replicas: None,
            compression: "lz4".into(),
            linger: Duration::from_millis(5),
            delivery_timeout: Duration::from_secs(30),
            queue_max: 100_000,
            session_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            encoding: ValueEncoding::Protobuf,
            extra: Vec::new(),
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair
                .split_once('=')
                .ok_or_else(|| invalid(format!("option {pair:?} has no value")))?;
            let positive = |what: &str| -> Result<u64> {
                value.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                    invalid(format!("{what} must be a positive integer, got {value:?}"))
                })
            };
            let small = |what: &str| -> Result<i32> {
                i32::try_from(positive(what)?)
                    .map_err(|_| invalid(format!("{what} is too large: {value}")))
            };
            match name {
                "partitions" => options.partitions = small("partitions")?,
                "replication" => options.replication = small("replication")?,
                "min_insync_replicas" => {
                    options.min_insync_replicas = Some(small("min_insync_replicas")?);
                }
                "compression" if COMPRESSION_CODECS.contains(&value) => {
                    options.compression = value.to_owned();
                }
                "compression" => {
                    return Err(invalid(format!(
                        "compression {value:?} is not one of {}",
                        COMPRESSION_CODECS.join(", ")
                    )));
                }
                "linger_ms" => {
                    options.linger = Duration::from_millis(value.parse().map_err(|_| {
                        invalid(format!("linger_ms must be an integer, got {value:?}"))
                    })?);
                }
                "delivery_timeout_ms" => {
                    options.delivery_timeout =
                        Duration::from_millis(positive("delivery_timeout_ms")?);
                }
                "queue_max" => {
                    options.queue_max = u32::try_from(positive("queue_max")?)
                        .map_err(|_| invalid(format!("queue_max is too large: {value}")))?;
                }
                "session_timeout_ms" => {
                    options.session_timeout =
                        Duration::from_millis(positive("session_timeout_ms")?);
                }
                "connect_timeout_ms" => {
                    options.connect_timeout =
                        Duration::from_millis(positive("connect_timeout_ms")?);
                }
                "encoding" => {
                    options.encoding = ValueEncoding::parse(value).ok_or_else(|| {
                        invalid(format!("encoding {value:?} is not one of protobuf, json"))
                    })?;
                }
                other => match other.strip_prefix("librdkafka.") {
                    Some(setting) if !setting.is_empty() => {
                        options.extra.push((setting.to_owned(), value.to_owned()));
                    }
                    _ => {
                        return Err(invalid(format!(
                            "unknown option {other:?} (kafka:// takes partitions, replication, \
                             min_insync_replicas, compression, linger_ms, delivery_timeout_ms, queue_max, \
                             session_timeout_ms, connect_timeout_ms, encoding and \
                             librdkafka.<setting>)"
                        )));
                    }
                },
            }
        }
        if let Some(min) = options.min_insync_replicas
            && min > options.replication
        {
            return Err(invalid(format!(
                "min_insync_replicas {min} is more than replication {}: no write could ever be \
                 acknowledged",
                options.replication
            )));
        }
        Ok(options)
    }

    /// The URL these options came from, normalized (for logs and `describe`).
    pub fn describe(&self) -> String {
        let encoding = match self.encoding {
            ValueEncoding::Protobuf => "",
            ValueEncoding::Json => "&encoding=json",
        };
        let min_isr = self
            .min_insync_replicas
            .map(|n| format!("&min_insync_replicas={n}"))
            .unwrap_or_default();
        format!(
            "kafka://{}?partitions={}&replication={}{min_isr}&compression={}{encoding}",
            self.brokers, self.partitions, self.replication, self.compression
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Result<KafkaOptions> {
        KafkaOptions::parse(url, url.trim_start_matches("kafka://"))
    }

    #[test]
    fn production_durability_is_an_option() {
        let o = parse("kafka://a:1,b:2,c:3?replication=3&min_insync_replicas=2").unwrap();
        assert_eq!((o.replication, o.min_insync_replicas), (3, Some(2)));
        assert!(o.describe().contains("replication=3&min_insync_replicas=2"));
        assert_eq!(parse("kafka://a:1").unwrap().min_insync_replicas, None);
    }

    #[test]
    fn defaults_and_options() -> Result<()> {
        let o = parse("kafka://127.0.0.1:9092")?;
        assert_eq!((o.partitions, o.replication), (3, 1));
        assert_eq!(o.compression, "lz4");
        assert_eq!(o.encoding, ValueEncoding::Protobuf);
        assert_eq!(
            parse("kafka://h:1?encoding=json")?.encoding,
            ValueEncoding::Json
        );
        let o = parse(
            "kafka://a:1,b:2?partitions=6&replication=3&compression=gzip&linger_ms=0&librdkafka.client.id=x",
        )?;
        assert_eq!(o.brokers, "a:1,b:2");
        assert_eq!((o.partitions, o.replication), (6, 3));
        assert_eq!(o.linger, Duration::ZERO);
        assert_eq!(o.extra, vec![("client.id".to_owned(), "x".to_owned())]);
        Ok(())
    }

    #[test]
    fn bad_urls_name_what_is_wrong() {
        let err = |url: &str| parse(url).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err("kafka://").contains("expected kafka://host:port"));
        assert!(err("kafka://localhost").contains("\"localhost\" is not host:port"));
        assert!(err("kafka://h:1?partitions=0").contains("partitions must be a positive integer"));
        assert!(
            err("kafka://h:1?replication=1&min_insync_replicas=2")
                .contains("min_insync_replicas 2 is more than replication 1")
        );
        assert!(err("kafka://h:1?compression=brotli").contains("not one of none, gzip"));
        assert!(err("kafka://h:1?topic=x").contains("unknown option \"topic\""));
        assert!(err("kafka://h:1?encoding=avro").contains("not one of protobuf, json"));
    }
}
