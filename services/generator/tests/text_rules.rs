//! The text rules reach every text field: a control character put into any one string of a
//! generated payment of any rail (through its proto3 JSON, so no list of fields is needed
//! here either) is found by `TextLimits::check`.

use payments_core::TextLimits;
use payments_core::pb;
use payments_generator::{GeneratorConfig, PaymentGenerator};
use serde_json::Value;
use std::collections::BTreeSet;

/// Every string of `value` (map keys included), as the JSON pointer to it and whether it
/// is a key.
fn strings(value: &Value, pointer: String, out: &mut Vec<(String, bool)>) {
    match value {
        Value::String(_) => out.push((pointer, false)),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                strings(item, format!("{pointer}/{i}"), out);
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                let escaped = key.replace('~', "~0").replace('/', "~1");
                out.push((format!("{pointer}/{escaped}"), true));
                strings(item, format!("{pointer}/{escaped}"), out);
            }
        }
        _ => {}
    }
}

/// `json` with a NUL put before the string (or the key) at `pointer`; none when nothing
/// is there.
fn with_nul(json: &Value, pointer: &str, key: bool) -> Option<Value> {
    let mut changed = json.clone();
    if key {
        let (parent, name) = pointer.rsplit_once('/')?;
        let name = name.replace("~1", "/").replace("~0", "~");
        let object = changed.pointer_mut(parent)?.as_object_mut()?;
        let item = object.remove(&name)?;
        object.insert(format!("\u{0}{name}"), item);
    } else {
        let Value::String(text) = changed.pointer_mut(pointer)? else {
            return None;
        };
        text.insert(0, '\u{0}');
    }
    Some(changed)
}

#[test]
fn a_nul_in_any_text_field_of_any_rail_is_found() {
    let every_rail: Vec<pb::PaymentType> = (1..=9)
        .map(|n| pb::PaymentType::try_from(n).expect("payment types 1 to 9"))
        .collect();
    let generator = PaymentGenerator::new(GeneratorConfig {
        seed: 7,
        types: every_rail.clone(),
        scenario_rate: 0.3,
        ..Default::default()
    });
    let mut rails = BTreeSet::new();
    let mut text_fields = BTreeSet::new();
    for i in 0..300 {
        let payment = generator.payment(i);
        assert!(TextLimits::check(&payment).is_empty());
        rails.insert(payment.payment_type());
        let json = serde_json::to_value(&payment).expect("a generated payment has JSON");
        let mut found = Vec::new();
        strings(&json, String::new(), &mut found);
        for (pointer, key) in found {
            let changed = with_nul(&json, &pointer, key).expect("the string found is there");
            // Enum names, 64-bit numbers, timestamps and bytes are strings in JSON but not
            // text: with a NUL they no longer parse, and are no field of this test.
            let Ok(changed) = serde_json::from_value::<pb::Payment>(changed) else {
                continue;
            };
            let violations = TextLimits::check(&changed);
            assert!(
                violations
                    .iter()
                    .any(|v| v.description.contains("control character U+0000")),
                "a NUL at {pointer} (key: {key}) of payment {i} was not found: {violations:?}"
            );
            // The field, without indexes and map keys, for the coverage check below.
            let field: String = pointer
                .split('/')
                .filter(|step| !step.is_empty() && !step.chars().all(|c| c.is_ascii_digit()))
                .collect::<Vec<_>>()
                .join(".");
            text_fields.insert(field);
        }
    }
    assert_eq!(
        rails,
        every_rail.into_iter().collect(),
        "not every rail was made"
    );
    assert!(
        text_fields.len() > 40,
        "only {} text fields reached: {text_fields:?}",
        text_fields.len()
    );
}
