//! Sink names: each sink's pipeline reads in consumer group `<group>.<name>`, and its
//! metrics and dead letters (`sink:<name>`) carry the name. A `--sink` value is `URL` (named
//! after its scheme: `postgres`, `sqlite`, …) or `NAME=URL` (`archive=postgres://…`).

use payments_store::Sink;
use std::sync::Arc;

/// A sink and the name its pipeline goes by.
#[derive(Clone)]
pub struct NamedSink {
    /// `[A-Za-z0-9_-]+`, unique among a processor's sinks.
    pub name: String,
    /// The sink.
    pub sink: Arc<dyn Sink>,
}

impl NamedSink {
    /// `sink` named after the scheme of its description (`sqlite://…` is `sqlite`).
    pub fn by_scheme(sink: Arc<dyn Sink>) -> Self {
        let described = sink.describe();
        let name = described.split("://").next().unwrap_or("sink").to_owned();
        Self { name, sink }
    }

    /// The consumer group of its pipeline when the processor's group is `group`.
    pub fn group(&self, group: &str) -> String {
        format!("{group}.{}", self.name)
    }

    /// Its stage in the dead-letter headers of the records it refuses.
    pub fn stage(&self) -> String {
        format!("sink:{}", self.name)
    }
}

/// A `--sink` value that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SinkNameError {
    /// The name holds a character outside `[A-Za-z0-9_-]`, or is empty.
    #[error(
        "sink name {name:?} in {value:?}: use letters, digits, '-' and '_' (NAME=URL, e.g. archive=postgres://…)"
    )]
    Invalid {
        /// The name given.
        name: String,
        /// The whole `--sink` value.
        value: String,
    },
    /// Two sinks have one name; each needs its own consumer group.
    #[error(
        "two sinks are named {name:?} ({first} and {second}); name them apart, e.g. --sink {name}-2={second}"
    )]
    Duplicate {
        /// The name.
        name: String,
        /// The first sink's URL.
        first: String,
        /// The second sink's URL.
        second: String,
    },
}

/// Splits each `--sink` value into its name and URL, naming a bare URL after its scheme,
/// and checks that the names are valid and distinct.
pub fn name_sinks(values: &[String]) -> Result<Vec<(String, String)>, SinkNameError> {
    let mut named: Vec<(String, String)> = Vec::with_capacity(values.len());
    for value in values {
        let (name, url) = split_name(value);
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Err(SinkNameError::Invalid {
                name: name.to_owned(),
                value: value.clone(),
            });
        }
        if let Some((_, first)) = named.iter().find(|(n, _)| n == name) {
            return Err(SinkNameError::Duplicate {
                name: name.to_owned(),
                first: first.clone(),
                second: url.to_owned(),
            });
        }
        named.push((name.to_owned(), url.to_owned()));
    }
    Ok(named)
}

/// `(name, url)` of one `--sink` value: a `NAME=` before the URL's `://`, or the scheme.
fn split_name(value: &str) -> (&str, &str) {
    let scheme_end = value.find("://").unwrap_or(value.len());
    match value[..scheme_end].find('=') {
        Some(equals) => (&value[..equals], &value[equals + 1..]),
        None => (&value[..scheme_end], value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(values: &[&str]) -> Result<Vec<(String, String)>, SinkNameError> {
        name_sinks(&values.iter().map(|v| v.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn bare_urls_are_named_by_scheme_and_names_before_the_url_are_kept() {
        let named = names(&[
            "sqlite://payments.db",
            "archive=postgres://u@h/db?sslmode=require",
            "postgres://u@h/other?application_name=a=b",
        ])
        .unwrap();
        assert_eq!(
            named,
            vec![
                ("sqlite".into(), "sqlite://payments.db".into()),
                ("archive".into(), "postgres://u@h/db?sslmode=require".into()),
                (
                    "postgres".into(),
                    "postgres://u@h/other?application_name=a=b".into()
                ),
            ]
        );
    }

    #[test]
    fn duplicate_and_invalid_names_are_refused_saying_how_to_name_them() {
        let error = names(&["postgres://a/x", "postgres://b/y"]).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("--sink postgres-2=postgres://b/y")
        );
        let error = names(&["my.sink=sqlite://p.db"]).unwrap_err();
        assert!(matches!(error, SinkNameError::Invalid { name, .. } if name == "my.sink"));
    }
}
