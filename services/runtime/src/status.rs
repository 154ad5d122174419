//! Domain errors → gRPC statuses, in one place.

use payments_core::FieldViolation;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// `INVALID_ARGUMENT` carrying a `google.rpc.BadRequest` with one field violation per
/// failed rule, and a message that names them too (for clients that ignore details).
pub fn invalid_payment(payment_id: &str, violations: &[FieldViolation]) -> Status {
    let mut details = ErrorDetails::new();
    for v in violations {
        details.add_bad_request_violation(v.field.clone(), v.description.clone());
    }
    let listed: Vec<String> = violations
        .iter()
        .map(|v| format!("{}: {}", v.field, v.description))
        .collect();
    let subject = if payment_id.is_empty() {
        "payment".to_owned()
    } else {
        format!("payment {payment_id:?}")
    };
    Status::with_error_details(
        Code::InvalidArgument,
        format!(
            "{subject} is invalid ({} violation(s)): {}",
            violations.len(),
            listed.join("; ")
        ),
        details,
    )
}

/// `INVALID_ARGUMENT` for one bad request field (a filter, a page token).
pub fn invalid_field(field: &str, description: impl Into<String>) -> Status {
    field_status(Code::InvalidArgument, field, description)
}

/// A status with `code` whose message and `google.rpc.BadRequest` detail name `field`: for a
/// request refused because of one field's value other than as malformed (a target this
/// server may not reach is PERMISSION_DENIED).
pub fn field_status(code: Code, field: &str, description: impl Into<String>) -> Status {
    let description = description.into();
    let mut details = ErrorDetails::new();
    details.add_bad_request_violation(field, description.clone());
    Status::with_error_details(code, format!("{field}: {description}"), details)
}

/// Checks a repeated enum field: every value must be one the enum declares, other than its
/// `_UNSPECIFIED` zero. `what` names the enum in the error (`"payment type"`).
pub fn specified_enum_values<E>(field: &str, values: &[i32], what: &str) -> Result<Vec<E>, Status>
where
    E: TryFrom<i32>,
{
    values
        .iter()
        .enumerate()
        .map(|(i, v)| match E::try_from(*v) {
            Ok(e) if *v != 0 => Ok(e),
            _ => Err(invalid_field(
                &format!("{field}[{i}]"),
                format!("{v} is not a {what}"),
            )),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use payments_core::validation::Severity;

    #[test]
    fn bad_request_lists_every_field() {
        let v = |field: &str| FieldViolation {
            field: field.into(),
            description: "bad".into(),
            severity: Severity::Content,
        };
        let status = invalid_payment("P-1", &[v("amount.currency"), v("originator")]);
        assert_eq!(status.code(), Code::InvalidArgument);
        let fields: Vec<String> = status
            .get_details_bad_request()
            .map(|b| b.field_violations.into_iter().map(|f| f.field).collect())
            .unwrap_or_default();
        assert_eq!(fields, vec!["amount.currency", "originator"]);
        assert!(status.message().contains("amount.currency: bad"));
    }
}
