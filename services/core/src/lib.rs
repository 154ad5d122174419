//! Payment domain rules shared by every service: validation ([`PaymentValidator`]),
//! normalization, money and currencies, bank identifiers (ABA, IBAN, BIC), the seed's HBase
//! row key and the seed system's JSON payment format.

pub mod byte_scan;
pub mod compact_json;
pub mod identifiers;
pub mod masking;
pub mod metric_names;
pub mod money;
pub mod names;
pub mod normalize;
pub mod payment_value;
pub mod row_key;
pub mod sample;
pub mod seed_json;
pub mod service_error;
pub mod text_limits;
pub mod time;
pub mod validation;

pub use normalize::normalize;
pub use row_key::row_key;
pub use service_error::{ErrorKind, ServiceError};
pub use text_limits::TextLimits;
pub use validation::{FieldViolation, PaymentValidator, ValidationMode, ValidationOutcome};

/// The protobuf types every service speaks.
pub use payments_proto::v1 as pb;
