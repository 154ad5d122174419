//! API filters → store filters, with field-named errors.

use payments_core::pb;
use payments_core::time::{from_timestamp, timestamp_micros};
use payments_runtime::status::{invalid_field, specified_enum_values};
use payments_store::{Cursor, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageRequest, PaymentFilter};
use tonic::Status;

/// Checks an API filter and converts it; each bad field is named.
pub fn filter_from_proto(filter: Option<&pb::PaymentFilter>) -> Result<PaymentFilter, Status> {
    let Some(f) = filter else {
        return Ok(PaymentFilter::default());
    };
    let instant =
        |field: &str, ts: &Option<payments_core::pb::Timestamp>| -> Result<Option<i64>, Status> {
            match ts {
                None => Ok(None),
                Some(t) if from_timestamp(t).is_some() => Ok(Some(timestamp_micros(t))),
                Some(_) => Err(invalid_field(field, "is not a valid timestamp")),
            }
        };
    let payment_types = specified_enum_values::<pb::PaymentType>(
        "filter.payment_types",
        &f.payment_types,
        "payment type",
    )?;
    let statuses =
        specified_enum_values::<pb::PaymentStatus>("filter.statuses", &f.statuses, "status")?;
    let out = PaymentFilter {
        created_from_micros: instant("filter.created_from", &f.created_from)?,
        created_to_micros: instant("filter.created_to", &f.created_to)?,
        payment_types,
        originator_id: Some(f.originator_id.clone()).filter(|s| !s.is_empty()),
        beneficiary_id: Some(f.beneficiary_id.clone()).filter(|s| !s.is_empty()),
        statuses,
        min_amount_minor_units: f.min_amount_minor_units,
        max_amount_minor_units: f.max_amount_minor_units,
        currency: Some(f.currency.trim().to_ascii_uppercase()).filter(|s| !s.is_empty()),
    };
    if let (Some(from), Some(to)) = (out.created_from_micros, out.created_to_micros)
        && to < from
    {
        return Err(invalid_field(
            "filter.created_to",
            "is before filter.created_from",
        ));
    }
    if let (Some(min), Some(max)) = (out.min_amount_minor_units, out.max_amount_minor_units)
        && max < min
    {
        return Err(invalid_field(
            "filter.max_amount_minor_units",
            "is less than filter.min_amount_minor_units",
        ));
    }
    Ok(out)
}

/// Checks page size and token: 0 means [`DEFAULT_PAGE_SIZE`], larger than
/// [`MAX_PAGE_SIZE`] is capped, negative is an error; a token must be one we issued.
pub fn page_from_proto(page_size: i32, page_token: &str) -> Result<PageRequest, Status> {
    let size = match page_size {
        0 => DEFAULT_PAGE_SIZE,
        n if n < 0 => {
            return Err(invalid_field(
                "page_size",
                format!("must not be negative, got {n}"),
            ));
        }
        n => (n as u32).min(MAX_PAGE_SIZE),
    };
    let after = if page_token.is_empty() {
        None
    } else {
        Some(
            Cursor::from_token(page_token)
                .ok_or_else(|| invalid_field("page_token", "is not a token this service issued"))?,
        )
    };
    Ok(PageRequest { size, after })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_fields_are_named() {
        let f = pb::PaymentFilter {
            payment_types: vec![1, 77],
            ..Default::default()
        };
        let err = filter_from_proto(Some(&f))
            .err()
            .map(|s| s.message().to_owned())
            .unwrap_or_default();
        assert!(err.starts_with("filter.payment_types[1]"), "{err}");
        assert!(page_from_proto(-1, "").is_err());
        assert!(page_from_proto(10, "nonsense").is_err());
        assert_eq!(
            page_from_proto(0, "").map(|p| p.size).ok(),
            Some(DEFAULT_PAGE_SIZE)
        );
        assert_eq!(
            page_from_proto(5_000, "").map(|p| p.size).ok(),
            Some(MAX_PAGE_SIZE)
        );
    }
}
