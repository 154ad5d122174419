//! The seed system's JSON payment (`../shared/fixtures/seed-transactions.json`), read into a
//! [`pb::Payment`] with its values intact and written back out.
//!
//! Amounts become minor units exactly; zone-less timestamps are UTC; `version` is the
//! schema version; the seed's rail names (`SEPA_CREDIT_TRANSFER`, `CARD_PAYMENT`) map to
//! the model's types. The seed writes rail fields twice (top level and
//! `type_specific_data`); the top-level value wins, and a `type_specific_data` value that
//! differs from it, or has no field of its own, is kept in `metadata.attributes` under
//! `seed.type_specific_data.<key>` so nothing is lost. Any other member the model does not
//! hold (a producer's `generated_at`) is kept in the payment's `unmodeled` map and written
//! back where it was ([`unmodeled`]).
//!
//! A seed document read and written back ([`from_seed`] then [`to_seed`]) holds every member
//! of the original with an equal value, up to these normalizations: amounts are printed in
//! their currency's exponent (`1000.0` → `1000`); timestamps are UTC without a zone, with
//! microseconds; enum values are upper case; `{}` and null are the same; and members the
//! model always writes (`revision`, `type_specific_data`, unset fields as null) are added.

mod read;
mod read_rails;
mod round_trip;
pub mod unmodeled;
mod write;
mod write_direct;

pub use round_trip::round_trip_differences;
pub use write_direct::write_seed_json;

pub use read::{from_seed, is_seed_payment};

use crate::pb;

/// Why a JSON value is not a payment.
#[derive(Debug, thiserror::Error)]
pub enum JsonPaymentError {
    /// The text is not JSON at all.
    #[error("invalid JSON: {0}")]
    Syntax(serde_json::Error),
    /// A seed payment with fields that cannot be mapped; every one is listed.
    #[error("{}", join_fields(.0))]
    SeedFields(Vec<SeedFieldError>),
    /// Neither a seed payment nor a protobuf JSON payment: the first field that is wrong
    /// (its protobuf JSON path, `amount.minorUnits`; `.` for the document itself) and why.
    #[error(
        "not a payment (seed or protobuf JSON): {}{source}",
        field_prefix(field)
    )]
    NotAPayment {
        /// Where in the document.
        field: String,
        /// What is wrong there.
        source: serde_json::Error,
    },
}

/// `field: `, or nothing for the document itself.
fn field_prefix(field: &str) -> String {
    if field == "." {
        String::new()
    } else {
        format!("{field}: ")
    }
}

fn join_fields(errors: &[SeedFieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// A JSON payment in the seed's format or in protobuf JSON (told apart by
/// [`is_seed_payment`]); the error names every bad field.
pub fn from_any_json(value: &serde_json::Value) -> Result<pb::Payment, JsonPaymentError> {
    if is_seed_payment(value) {
        from_seed(value).map_err(JsonPaymentError::SeedFields)
    } else {
        serde_path_to_error::deserialize(value).map_err(|e| JsonPaymentError::NotAPayment {
            field: e.path().to_string(),
            source: e.into_inner(),
        })
    }
}

/// [`from_any_json`] of JSON text.
pub fn from_json_text(text: &[u8]) -> Result<pb::Payment, JsonPaymentError> {
    let value: serde_json::Value =
        serde_json::from_slice(text).map_err(JsonPaymentError::Syntax)?;
    from_any_json(&value)
}
pub use write::to_seed;

/// A value of the seed's JSON that cannot be mapped onto the model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {description}")]
pub struct SeedFieldError {
    /// Path of the seed field, e.g. `amount.value`.
    pub field: String,
    /// What is wrong with it.
    pub description: String,
}

/// Prefix of the metadata attributes that keep `type_specific_data` values.
pub const TYPE_SPECIFIC_ATTRIBUTE_PREFIX: &str = "seed.type_specific_data.";

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(text: &str) -> String {
        from_json_text(text.as_bytes())
            .expect_err("refused")
            .to_string()
    }

    #[test]
    fn a_protobuf_json_refusal_names_the_field() {
        assert_eq!(
            refusal(r#"{"paymentId":"X-1","createdAt":"not a time"}"#),
            "not a payment (seed or protobuf JSON): createdAt: premature end of input"
        );
        let nested = refusal(r#"{"paymentId":"X-1","amount":{"minorUnits":"abc"}}"#);
        assert!(
            nested.starts_with("not a payment (seed or protobuf JSON): amount.minorUnits: "),
            "{nested}"
        );
        let listed = refusal(
            r#"{"processing":{"statusHistory":[{"status":"PAYMENT_STATUS_PENDING"},{"status":7.5}]}}"#,
        );
        assert!(
            listed.contains("processing.statusHistory[1].status: "),
            "{listed}"
        );
        // The document itself: no field to name.
        assert_eq!(
            refusal("[1]"),
            "not a payment (seed or protobuf JSON): invalid type: sequence, expected struct payments.v1.Payment"
        );
    }

    #[test]
    fn protobuf_json_still_reads() {
        let payment = crate::sample::ach_payment("P-1", 2);
        let text = serde_json::to_vec(&payment).expect("writes");
        assert_eq!(from_json_text(&text).expect("reads"), payment);
    }
}
