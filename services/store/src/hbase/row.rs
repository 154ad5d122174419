//! A payment as an HBase row in family `cf`: the seed's columns (`payment_id`,
//! `payment_type`, `amount_value`, `amount_currency`, `originator_id`, `originator_name`,
//! `beneficiary_id`, `beneficiary_name`, `created_at`) as the text the seed wrote, plus
//! `status`, `revision` and `body`, the whole payment as protobuf JSON, which is what reads
//! decode. Every cell is UTF-8 text, so the seed's readers (happybase, decoding each cell as
//! UTF-8) read every row.
//!
//! Rows are read back from `body`; a body written before it was text (protobuf bytes) still
//! reads. A row the seed's own processor wrote has no body: it is read from its columns
//! ([`seed_row`]).

use crate::columns::decode_body;
use crate::{Error, Result};
use hbase_thrift::hbase::{Mutation, TRowResult};
use payments_core::money::format_minor_units;
use payments_core::names::seed_type_name;
use payments_core::pb;
use payments_core::time::format_rfc3339;

pub use super::seed_row::payment_from_seed_columns;

/// The column family every column lives in.
pub const FAMILY: &str = "cf";

/// `cf:` qualifiers.
pub mod column {
    /// The payment id.
    pub const PAYMENT_ID: &str = "payment_id";
    /// The rail as the seed names it (`ACH`, `SEPA_CREDIT_TRANSFER`…).
    pub const PAYMENT_TYPE: &str = "payment_type";
    /// The amount as a decimal string in the currency's exponent.
    pub const AMOUNT_VALUE: &str = "amount_value";
    /// ISO 4217 currency.
    pub const AMOUNT_CURRENCY: &str = "amount_currency";
    /// Originator party id.
    pub const ORIGINATOR_ID: &str = "originator_id";
    /// Originator name.
    pub const ORIGINATOR_NAME: &str = "originator_name";
    /// Beneficiary party id.
    pub const BENEFICIARY_ID: &str = "beneficiary_id";
    /// Beneficiary name.
    pub const BENEFICIARY_NAME: &str = "beneficiary_name";
    /// `created_at`, RFC 3339.
    pub const CREATED_AT: &str = "created_at";
    /// Status (protobuf enum name).
    pub const STATUS: &str = "status";
    /// Lifecycle revision, decimal.
    pub const REVISION: &str = "revision";
    /// The whole payment as protobuf JSON (UTF-8 text).
    pub const BODY: &str = "body";
    /// In the id index table: the payment's row key in the payments table.
    pub const ROW_KEY: &str = "row_key";
}

/// `cf:{qualifier}` as bytes.
pub fn qualified(qualifier: &str) -> Vec<u8> {
    format!("{FAMILY}:{qualifier}").into_bytes()
}

fn put(qualifier: &str, value: impl Into<Vec<u8>>) -> Mutation {
    Mutation {
        is_delete: Some(false),
        column: Some(qualified(qualifier)),
        value: Some(value.into()),
        write_to_w_a_l: Some(true),
    }
}

/// The status as stored in `cf:status`.
pub fn status_name(status: i32) -> &'static str {
    pb::PaymentStatus::try_from(status)
        .unwrap_or_default()
        .as_str_name()
}

/// The rail as stored in `cf:payment_type` and in the row key.
pub fn type_name(payment_type: i32) -> &'static str {
    pb::PaymentType::try_from(payment_type)
        .map(seed_type_name)
        .unwrap_or("UNSPECIFIED")
}

/// Every column of `payment`'s row; refused when the payment has no JSON form (an enum value
/// outside its type), which no other payment shares.
pub fn payment_mutations(payment: &pb::Payment) -> Result<Vec<Mutation>> {
    let body = serde_json::to_vec(payment).map_err(|e| {
        Error::refused(format!("hbase body of payment {:?}", payment.payment_id), e)
    })?;
    let party = |p: Option<&pb::Party>| {
        p.map(|p| (p.party_id.clone(), p.name.clone()))
            .unwrap_or_default()
    };
    let (originator_id, originator_name) = party(payment.originator.as_ref());
    let (beneficiary_id, beneficiary_name) = party(payment.beneficiary.as_ref());
    let (minor_units, currency) = payment
        .amount
        .as_ref()
        .map(|a| (a.minor_units, a.currency.clone()))
        .unwrap_or_default();
    Ok(vec![
        put(column::PAYMENT_ID, payment.payment_id.clone()),
        put(column::PAYMENT_TYPE, type_name(payment.payment_type)),
        put(
            column::AMOUNT_VALUE,
            format_minor_units(minor_units, &currency),
        ),
        put(column::AMOUNT_CURRENCY, currency),
        put(column::ORIGINATOR_ID, originator_id),
        put(column::ORIGINATOR_NAME, originator_name),
        put(column::BENEFICIARY_ID, beneficiary_id),
        put(column::BENEFICIARY_NAME, beneficiary_name),
        put(
            column::CREATED_AT,
            payment
                .created_at
                .as_ref()
                .map(format_rfc3339)
                .unwrap_or_default(),
        ),
        put(column::STATUS, status_name(payment.status)),
        put(column::REVISION, payment.revision.to_string()),
        put(column::BODY, body),
    ])
}

/// The id index row of a payment stored under `row_key`.
pub fn index_mutations(payment: &pb::Payment, row_key: &str) -> Vec<Mutation> {
    vec![
        put(column::ROW_KEY, row_key),
        put(column::REVISION, payment.revision.to_string()),
    ]
}

/// A cell's value in a returned row.
pub fn cell<'a>(row: &'a TRowResult, qualifier: &str) -> Option<&'a [u8]> {
    row.columns
        .as_ref()?
        .get(&qualified(qualifier))?
        .value
        .as_deref()
}

/// The text of a row's key.
pub fn key_of(row: &TRowResult) -> String {
    String::from_utf8_lossy(row.row.as_deref().unwrap_or_default()).into_owned()
}

/// The payment a row holds: decoded from `cf:body` (protobuf JSON, or the protobuf bytes
/// rows held before), or, for a row in the seed's own layout without one, read from its
/// columns.
pub fn payment_of(row: &TRowResult) -> Result<pb::Payment> {
    let key = key_of(row);
    match cell(row, column::BODY) {
        Some(body) if body.first() == Some(&b'{') => {
            serde_json::from_slice(body).map_err(|e| Error::Corrupt {
                payment_id: key,
                reason: format!("cf:body is not a payment in protobuf JSON: {e}"),
            })
        }
        Some(body) => decode_body(&key, body),
        None => payment_from_seed_columns(&key, row),
    }
}

/// A revision stored as decimal text; unreadable text counts as none stored.
pub fn revision_of(row: &TRowResult) -> Option<u32> {
    std::str::from_utf8(cell(row, column::REVISION)?)
        .ok()?
        .parse()
        .ok()
}
