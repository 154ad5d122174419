//! The members of a seed document that the model does not hold, found by writing the read
//! payment back out and comparing: whatever the written document lacks is unmodeled, so a
//! producer's own keys (`generated_at`, an older generator's `confirmation_id`) are kept
//! with the payment and put back where they were in seed-shaped output.
//!
//! Members are keyed by their JSON Pointer (RFC 6901) in the source document, values kept as
//! compact JSON text. Only the outermost missing member is kept: an unmodeled object is one
//! entry, not one entry a leaf.

use serde_json::Value;
use std::collections::BTreeMap;

/// Every member of `source` that `written` lacks, by JSON Pointer, as compact JSON text.
///
/// Objects present in both are compared member by member, and arrays of equal length element
/// by element; a member present in both with any other shapes counts as modeled (the writer
/// normalizes values, it does not drop them).
pub fn unmodeled_members(source: &Value, written: &Value) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    collect(source, written, &mut String::new(), &mut found);
    found
}

fn collect(source: &Value, written: &Value, at: &mut String, found: &mut BTreeMap<String, String>) {
    match (source, written) {
        (Value::Object(source), Value::Object(written)) => {
            for (key, value) in source {
                let len = at.len();
                at.push('/');
                at.push_str(&escape(key));
                match written.get(key) {
                    None => {
                        found.insert(at.clone(), value.to_string());
                    }
                    // An object where the writer has nothing (null) is kept whole, unless
                    // it is empty: `{}` and null say the same.
                    Some(Value::Null) if value.as_object().is_some_and(|o| !o.is_empty()) => {
                        found.insert(at.clone(), value.to_string());
                    }
                    Some(written) => collect(value, written, at, found),
                }
                at.truncate(len);
            }
        }
        (Value::Array(source), Value::Array(written)) if source.len() == written.len() => {
            for (i, (value, written)) in source.iter().zip(written).enumerate() {
                let len = at.len();
                at.push('/');
                at.push_str(&i.to_string());
                collect(value, written, at, found);
                at.truncate(len);
            }
        }
        _ => {}
    }
}

/// Puts each unmodeled member back into `document` at its pointer. A member whose place is
/// taken (the model now writes it) keeps the model's value; one whose parent is missing, or is
/// not an object, is left out; text that is not JSON goes back as a JSON string.
pub fn restore(document: &mut Value, unmodeled: &BTreeMap<String, String>) {
    for (pointer, text) in unmodeled {
        let Some((parent, key)) = split_last(pointer) else {
            continue;
        };
        let Some(Value::Object(parent)) = document.pointer_mut(parent) else {
            continue;
        };
        let key = unescape(key);
        if parent.get(&key).is_none_or(Value::is_null) {
            let value = serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.clone()));
            parent.insert(key, value);
        }
    }
}

/// `(parent pointer, last reference token)` of a pointer; none for the root or text that is
/// not a pointer.
fn split_last(pointer: &str) -> Option<(&str, &str)> {
    if !pointer.starts_with('/') {
        return None;
    }
    pointer.rsplit_once('/')
}

/// A key as a JSON Pointer reference token: `~` → `~0`, `/` → `~1`.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// A reference token back to its key.
fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_the_outermost_missing_member_is_kept() {
        let source = json!({
            "payment_id": "P1",
            "generated_at": "2024-12-21T19:42:17",
            "confirmation": {"required": true, "confirmation_id": "CONF1", "nested": {"a": 1}},
            "processing": {"status_tracking": {"status_history": [{"status": "X", "by": "ops"}]}},
            "a/b~c": 1,
        });
        let written = json!({
            "payment_id": "P1",
            "confirmation": {"required": true},
            "processing": {"status_tracking": {"status_history": [{"status": "X"}]}},
        });
        let found = unmodeled_members(&source, &written);
        let expected: BTreeMap<String, String> = [
            ("/generated_at", "\"2024-12-21T19:42:17\""),
            ("/confirmation/confirmation_id", "\"CONF1\""),
            ("/confirmation/nested", "{\"a\":1}"),
            ("/processing/status_tracking/status_history/0/by", "\"ops\""),
            ("/a~1b~0c", "1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(found, expected);
        let mut out = written.clone();
        restore(&mut out, &found);
        assert_eq!(out, source);
    }

    #[test]
    fn an_object_the_writer_has_as_null_is_kept_and_an_empty_one_is_not() {
        let source = json!({"timing": {"x": 1}, "references": {}, "exchange_info": null});
        let written = json!({"timing": null, "references": null, "exchange_info": null});
        let found = unmodeled_members(&source, &written);
        assert_eq!(found.keys().collect::<Vec<_>>(), ["/timing"]);
        let mut out = written.clone();
        restore(&mut out, &found);
        assert_eq!(out["timing"], json!({"x": 1}));
    }

    #[test]
    fn restore_never_overwrites_the_model_and_skips_missing_parents() {
        let unmodeled: BTreeMap<String, String> = [
            ("/status", "\"OLD\""),
            ("/gone/child", "1"),
            ("/list/0", "2"),
            ("", "3"),
            ("/note", "not json"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let mut doc = json!({"status": "NEW", "list": [1]});
        restore(&mut doc, &unmodeled);
        assert_eq!(
            doc,
            json!({"status": "NEW", "list": [1], "note": "not json"})
        );
    }
}
