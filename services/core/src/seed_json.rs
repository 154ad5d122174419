//! The seed system's JSON payment (`../shared/fixtures/seed-transactions.json`), read into a
//! [`pb::Payment`] with its values intact and written back out.
//!
//! Amounts become minor units exactly; zone-less timestamps are UTC; `version` is the
//! schema version; the seed's rail names (`SEPA_CREDIT_TRANSFER`, `CARD_PAYMENT`) map to
//! the model's types. The seed writes rail fields twice (top level and
//! `type_specific_data`); the top-level value wins, and a `type_specific_data` value that
//! differs from it, or has no field of its own, is kept in `metadata.attributes` under
//! `seed.type_specific_data.<key>` so nothing is lost.

mod read;
mod read_rails;
mod write;

pub use read::{from_seed, is_seed_payment};

use crate::pb;

/// A JSON payment in the seed's format or in protobuf JSON (told apart by
/// [`is_seed_payment`]); the error names every bad field.
pub fn from_any_json(value: &serde_json::Value) -> Result<pb::Payment, String> {
    if is_seed_payment(value) {
        from_seed(value).map_err(|errors| {
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        })
    } else {
        serde_json::from_value(value.clone())
            .map_err(|e| format!("not a payment (seed or protobuf JSON): {e}"))
    }
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
