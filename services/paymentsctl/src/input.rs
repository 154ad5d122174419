//! Reading payments from files: the seed's `{"transactions": [...]}` document, a JSON array,
//! or one payment per line (JSONL); each payment in the seed's JSON or in protobuf JSON.

use anyhow::Context;
use payments_core::pb;
use payments_core::seed_json::{JsonPaymentError, from_any_json, from_json_text};
use serde_json::Value;

/// One payment read from input, or why it could not be read; `origin` says where it was
/// (`file:line` or `file#index`).
#[derive(Debug)]
pub struct InputRecord {
    /// Where the record was.
    pub origin: String,
    /// The payment, or the reason it could not be read.
    pub payment: Result<pb::Payment, JsonPaymentError>,
}

/// Reads every payment in `path` (`-` is standard input). A record that cannot be read is
/// returned as an error record; the records around it are unaffected.
pub fn read_payments(path: &str) -> anyhow::Result<Vec<InputRecord>> {
    let text = if path == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading standard input")?
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?
    };
    Ok(parse_payments(path, &text))
}

/// Parses `text` (named `name` in origins); see [`read_payments`].
pub fn parse_payments(name: &str, text: &str) -> Vec<InputRecord> {
    let trimmed = text.trim_start();
    if (trimmed.starts_with('{') || trimmed.starts_with('['))
        && let Ok(doc) = serde_json::from_str::<Value>(text)
    {
        let items = match doc {
            Value::Array(items) => Some(items),
            Value::Object(mut obj) => match obj.remove("transactions") {
                Some(Value::Array(items)) => Some(items),
                Some(_) => None,
                None => Some(vec![Value::Object(obj)]),
            },
            _ => None,
        };
        if let Some(items) = items {
            return items
                .iter()
                .enumerate()
                .map(|(i, v)| InputRecord {
                    origin: format!("{name}#{i}"),
                    payment: from_any_json(v),
                })
                .collect();
        }
    }
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| InputRecord {
            origin: format!("{name}:{}", i + 1),
            payment: from_json_text(line.as_bytes()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_documents_arrays_and_lines() {
        let p = payments_core::sample::ach_payment("P-1", 0);
        let proto = serde_json::to_string(&p).unwrap_or_default();
        let seed =
            serde_json::to_string(&payments_core::seed_json::to_seed(&p)).unwrap_or_default();
        let doc = format!("{{\"transactions\": [{seed}, {proto}]}}");
        let got = parse_payments("doc", &doc);
        assert_eq!(got.len(), 2);
        assert!(
            got.iter()
                .all(|r| r.payment.as_ref().is_ok_and(|x| x.payment_id == "P-1"))
        );
        let lines = format!("{proto}\n\nnot json\n{seed}\n");
        let got = parse_payments("f", &lines);
        assert_eq!(
            got.iter().map(|r| r.origin.as_str()).collect::<Vec<_>>(),
            vec!["f:1", "f:3", "f:4"]
        );
        assert!(got[1].payment.is_err());
        assert!(got[2].payment.is_ok());
        assert_eq!(parse_payments("a", &format!("[{proto}]")).len(), 1);
    }
}
