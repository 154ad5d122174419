//! Bus URLs.

use crate::{Error, KafkaOptions, Result};

/// Default number of uncommitted records a memory topic holds before producers wait.
pub const DEFAULT_MEMORY_CAPACITY: usize = 10_000;

/// A parsed bus URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BusUrl {
    /// `memory://[?capacity=N]`.
    Memory {
        /// Uncommitted records a topic holds before producers wait.
        capacity: usize,
    },
    /// `kafka://host:port[,host:port][?option=value&…]`.
    Kafka(KafkaOptions),
    /// `file://PATH`: a durable segment log in the directory PATH (relative paths from the
    /// working directory; `file:///abs/path` for an absolute one).
    File {
        /// The bus's directory.
        path: std::path::PathBuf,
    },
}

/// Parses a bus URL, naming the supported schemes when the scheme is unknown.
pub fn parse_bus_url(url: &str) -> Result<BusUrl> {
    let invalid = |reason: String| Error::InvalidUrl {
        url: url.to_owned(),
        reason,
    };
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| invalid("expected scheme://…, e.g. memory://".into()))?;
    match scheme {
        "memory" => {
            let mut capacity = DEFAULT_MEMORY_CAPACITY;
            let query = rest.split_once('?').map(|(_, q)| q).unwrap_or("");
            for pair in query.split('&').filter(|p| !p.is_empty()) {
                match pair.split_once('=') {
                    Some(("capacity", n)) => {
                        capacity = n.parse().ok().filter(|c| *c > 0).ok_or_else(|| {
                            invalid(format!("capacity must be a positive integer, got {n:?}"))
                        })?;
                    }
                    _ => {
                        return Err(invalid(format!(
                            "unknown option {pair:?} (memory:// takes capacity=N)"
                        )));
                    }
                }
            }
            Ok(BusUrl::Memory { capacity })
        }
        "kafka" => Ok(BusUrl::Kafka(KafkaOptions::parse(url, rest)?)),
        "file" => {
            if rest.is_empty() || rest.contains('?') {
                return Err(invalid(
                    "expected file://PATH (e.g. file://payments-bus.db), with no options".into(),
                ));
            }
            Ok(BusUrl::File {
                path: std::path::PathBuf::from(rest),
            })
        }
        other => Err(invalid(format!(
            "unsupported scheme {other:?}; supported: memory://, file://PATH, kafka://host:port"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_memory() {
        assert_eq!(
            parse_bus_url("memory://").ok(),
            Some(BusUrl::Memory {
                capacity: DEFAULT_MEMORY_CAPACITY
            })
        );
        assert_eq!(
            parse_bus_url("memory://?capacity=8").ok(),
            Some(BusUrl::Memory { capacity: 8 })
        );
    }

    #[test]
    fn parses_file_paths_relative_and_absolute() {
        assert_eq!(
            parse_bus_url("file://payments-bus.db").ok(),
            Some(BusUrl::File {
                path: "payments-bus.db".into()
            })
        );
        assert_eq!(
            parse_bus_url("file:///var/lib/p/bus.db").ok(),
            Some(BusUrl::File {
                path: "/var/lib/p/bus.db".into()
            })
        );
        assert!(parse_bus_url("file://").is_err());
    }

    #[test]
    fn rejects_bad_urls_clearly() {
        let err = parse_bus_url("nats://x")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("unsupported scheme \"nats\""), "{err}");
        assert!(parse_bus_url("memory://?capacity=0").is_err());
        assert!(parse_bus_url("memory://?size=3").is_err());
        assert!(parse_bus_url("memory").is_err());
    }
}
