//! What "a seed document comes back equal" means: every member of the original is in the
//! document written back, with an equal value up to the normalizations the writer makes.

use crate::time::parse_instant;
use serde_json::Value;

/// Where `written` departs from `original`, one line a member (`/amount/value: 12.5 became
/// 13`), empty when it holds every member of `original` with an equal value. Members only
/// `written` has are not differences. Equal up to these normalizations: numbers compare by
/// value (`1000.0` = `1000`) and a number may come back as the same decimal in a string;
/// date-times compare as instants (zone-less is UTC); text compares without regard to ASCII
/// case (enum names are written upper case); `{}` and null are the same; one object where the
/// model holds a list (an ACH's `addenda`) comes back as a list of one.
pub fn round_trip_differences(original: &Value, written: &Value) -> Vec<String> {
    let mut out = Vec::new();
    compare(original, written, &mut String::new(), &mut out);
    out
}

fn compare(original: &Value, written: &Value, at: &mut String, out: &mut Vec<String>) {
    match (original, written) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, value) in a {
                let len = at.len();
                at.push('/');
                at.push_str(key);
                match b.get(key) {
                    Some(w) => compare(value, w, at, out),
                    None if is_empty(value) => {}
                    None => out.push(format!("{at}: {value} is missing")),
                }
                at.truncate(len);
            }
        }
        // One record where the model holds a list (an ACH's `addenda`) comes back as a list of one.
        (Value::Object(_), Value::Array(b)) if b.len() == 1 => compare(original, &b[0], at, out),
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (value, w)) in a.iter().zip(b).enumerate() {
                let len = at.len();
                at.push_str(&format!("/{i}"));
                compare(value, w, at, out);
                at.truncate(len);
            }
        }
        (a, b) if scalars_equal(a, b) => {}
        (a, b) => out.push(format!("{at}: {a} became {b}")),
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn scalars_equal(a: &Value, b: &Value) -> bool {
    if a == b || (is_empty(a) && is_empty(b)) {
        return true;
    }
    if let (Value::Number(_), Some(x), Some(y)) = (a, number(a), number(b)) {
        return x == y;
    }
    match (a, b) {
        (Value::String(x), Value::String(y)) => {
            x.eq_ignore_ascii_case(y)
                || matches!((parse_instant(x), parse_instant(y)), (Some(p), Some(q)) if p == q)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn normalizations_are_not_differences_and_losses_are() {
        let original = json!({
            "amount": {"value": 1000.0, "currency": "usd"},
            "created_at": "2024-12-21T19:42:17.527713",
            "references": {},
            "status": "PENDING",
            "list": [1, 2],
        });
        let same = json!({
            "amount": {"value": 1000, "currency": "USD"},
            "created_at": "2024-12-21T19:42:17.527713Z",
            "status": "PENDING",
            "list": [1, 2],
            "revision": 1,
        });
        assert_eq!(
            round_trip_differences(&original, &same),
            Vec::<String>::new()
        );
        let changed = json!({"amount": {"value": 999, "currency": "USD"}, "list": [1, 3]});
        let mut found = round_trip_differences(&original, &changed);
        found.sort();
        assert_eq!(
            found,
            [
                "/amount/value: 1000.0 became 999",
                "/created_at: \"2024-12-21T19:42:17.527713\" is missing",
                "/list/1: 2 became 3",
                "/status: \"PENDING\" is missing",
            ]
        );
    }
}
