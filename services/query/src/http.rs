//! The seed API's HTTP/JSON routes, with its request and response shapes:
//! `GET /health`, `POST /payments/time-range`, `POST /payments/type-customer`,
//! `POST /payments/date-type-customer`; plus `GET /v1/payments/{id}` (protobuf JSON).
//!
//! Dates are `YYYY-MM-DD` (UTC days, both ends inclusive); `customer_id` is the
//! originator's party id, as in the seed's row-key queries. Bad input answers 422 with
//! FastAPI's `{"detail": [{"loc": [...], "msg": ..., "type": ...}]}` shape.

use crate::grpc::AccountView;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use payments_core::ServiceError;
use payments_core::money::minor_units_to_json_number;
use payments_core::names::{parse_payment_type, seed_type_name, status_name};
use payments_core::pb;
use payments_core::time::format_seed_instant;
use payments_runtime::auth::Caller;
use payments_store::{PageRequest, PaymentFilter, RangeEnd, Store, range_bound};
use serde_json::{Value, json};
use std::sync::Arc;

/// Most payments one seed route returns; more are cut and flagged with `x-truncated: true`.
pub const MAX_SEED_RESULTS: usize = 10_000;

/// The seed's `GET /health`, which holds no data and stays open when the server requires
/// tokens.
pub fn health_route() -> Router {
    Router::new().route(
        "/health",
        get(|| async { Json(json!({"status": "healthy"})) }),
    )
}

/// The seed-compatible routes over `store`; `/v1/payments/{id}` shows account numbers as
/// `accounts` says, in full to a caller whose token has the `reveal-accounts` scope.
pub fn http_routes(store: Arc<dyn Store>, accounts: AccountView) -> Router {
    Router::new()
        .route("/payments/time-range", post(time_range))
        .route("/payments/type-customer", post(type_customer))
        .route("/payments/date-type-customer", post(date_type_customer))
        .route("/v1/payments/{payment_id}", get(get_payment))
        .layer(axum::Extension(accounts))
        .with_state(store)
}

/// A 422 listing every bad body field.
struct BodyErrors(Vec<(String, String)>);

impl IntoResponse for BodyErrors {
    fn into_response(self) -> Response {
        let detail: Vec<Value> = self
            .0
            .into_iter()
            .map(|(field, msg)| json!({"loc": ["body", field], "msg": msg, "type": "value_error"}))
            .collect();
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "detail": detail })),
        )
            .into_response()
    }
}

/// The request body as JSON (any content type), or a 422 saying why not.
fn parse_body(body: &[u8]) -> Result<Value, BodyErrors> {
    serde_json::from_slice(body).map_err(|e| {
        BodyErrors(vec![(
            "$".to_owned(),
            format!("body is not valid JSON: {e}"),
        )])
    })
}

/// Reads the fields the seed's request models declare, collecting every error.
struct BodyReader<'a> {
    body: &'a Value,
    errors: Vec<(String, String)>,
}

impl<'a> BodyReader<'a> {
    fn new(body: &'a Value) -> Self {
        let mut errors = Vec::new();
        if !body.is_object() {
            errors.push(("$".to_owned(), "body must be a JSON object".to_owned()));
        }
        Self { body, errors }
    }

    fn text(&mut self, field: &str) -> Option<String> {
        match self.body.get(field) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            Some(Value::String(_)) => {
                self.errors.push((field.into(), "must not be empty".into()));
                None
            }
            None | Some(Value::Null) => {
                self.errors.push((field.into(), "field required".into()));
                None
            }
            Some(_) => {
                self.errors.push((field.into(), "must be a string".into()));
                None
            }
        }
    }

    fn date(&mut self, field: &str) -> Option<NaiveDate> {
        let text = self.text(field)?;
        let parsed = NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok();
        if parsed.is_none() {
            self.errors.push((
                field.into(),
                format!("{text:?} is not a date in YYYY-MM-DD format"),
            ));
        }
        parsed
    }

    fn payment_type(&mut self, field: &str) -> Option<pb::PaymentType> {
        let text = self.text(field)?;
        let parsed = parse_payment_type(&text);
        if parsed.is_none() {
            self.errors.push((
                field.into(),
                format!("{text:?} is not a payment type (e.g. ACH, WIRE, SEPA_CREDIT_TRANSFER)"),
            ));
        }
        parsed
    }

    fn finish(self) -> Result<(), BodyErrors> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(BodyErrors(self.errors))
        }
    }
}

fn day_range(
    filter: &mut PaymentFilter,
    r: &mut BodyReader<'_>,
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
) {
    if let (Some(start), Some(end)) = (start, end) {
        // The seed's days are inclusive at both ends, as `to=YYYY-MM-DD` is everywhere.
        let bound = |field, day: NaiveDate, end| range_bound(field, &day.to_string(), end);
        match bound("start_date", start, RangeEnd::Start) {
            Ok(micros) => filter.created_from_micros = Some(micros),
            Err(e) => r.errors.push((e.parameter.into(), e.problem)),
        }
        match bound("end_date", end, RangeEnd::End) {
            Ok(micros) => filter.created_to_micros = Some(micros),
            Err(e) => r.errors.push((e.parameter.into(), e.problem)),
        }
        if end < start {
            r.errors
                .push(("end_date".into(), "is before start_date".into()));
        }
    }
}

async fn time_range(State(store): State<Arc<dyn Store>>, body: Bytes) -> Response {
    let body = match parse_body(&body) {
        Ok(body) => body,
        Err(errors) => return errors.into_response(),
    };
    let mut r = BodyReader::new(&body);
    let (start, end) = (r.date("start_date"), r.date("end_date"));
    let mut filter = PaymentFilter::default();
    day_range(&mut filter, &mut r, start, end);
    respond(store.as_ref(), r, filter).await
}

async fn type_customer(State(store): State<Arc<dyn Store>>, body: Bytes) -> Response {
    let body = match parse_body(&body) {
        Ok(body) => body,
        Err(errors) => return errors.into_response(),
    };
    let mut r = BodyReader::new(&body);
    let filter = PaymentFilter {
        payment_types: r.payment_type("payment_type").into_iter().collect(),
        originator_id: r.text("customer_id"),
        ..Default::default()
    };
    respond(store.as_ref(), r, filter).await
}

async fn date_type_customer(State(store): State<Arc<dyn Store>>, body: Bytes) -> Response {
    let body = match parse_body(&body) {
        Ok(body) => body,
        Err(errors) => return errors.into_response(),
    };
    let mut r = BodyReader::new(&body);
    let (start, end) = (r.date("start_date"), r.date("end_date"));
    let mut filter = PaymentFilter {
        payment_types: r.payment_type("payment_type").into_iter().collect(),
        originator_id: r.text("customer_id"),
        ..Default::default()
    };
    day_range(&mut filter, &mut r, start, end);
    respond(store.as_ref(), r, filter).await
}

async fn respond(store: &dyn Store, reader: BodyReader<'_>, filter: PaymentFilter) -> Response {
    if let Err(errors) = reader.finish() {
        return errors.into_response();
    }
    let mut out = Vec::new();
    let mut page = PageRequest {
        size: 1000,
        after: None,
    };
    let truncated = loop {
        match store.list(&filter, &page).await {
            Ok(got) => {
                out.extend(got.payments.iter().map(seed_response));
                match got.next {
                    Some(_) if out.len() >= MAX_SEED_RESULTS => break true,
                    Some(next) => page.after = Some(next),
                    None => break false,
                }
            }
            Err(e) => {
                tracing::warn!(error = e.explain(), "seed route query failed");
                return (e.kind().http_status(), Json(json!({"detail": e.explain()})))
                    .into_response();
            }
        }
    };
    out.truncate(MAX_SEED_RESULTS);
    let mut response = Json(out).into_response();
    if truncated {
        response
            .headers_mut()
            .insert("x-truncated", axum::http::HeaderValue::from_static("true"));
    }
    response
}

fn id_and_name(party: Option<&pb::Party>) -> (&str, &str) {
    party
        .map(|x| (x.party_id.as_str(), x.name.as_str()))
        .unwrap_or_default()
}

/// The seed's `PaymentResponse`.
fn seed_response(p: &pb::Payment) -> Value {
    let (amount, currency) = p
        .amount
        .as_ref()
        .map(|a| {
            (
                minor_units_to_json_number(a.minor_units, &a.currency),
                a.currency.as_str(),
            )
        })
        .unwrap_or((0.0, ""));
    let (originator_id, originator_name) = id_and_name(p.originator.as_ref());
    let (beneficiary_id, beneficiary_name) = id_and_name(p.beneficiary.as_ref());
    json!({
        "payment_id": p.payment_id,
        "payment_type": seed_type_name(p.payment_type()),
        "amount": amount,
        "currency": currency,
        "status": status_name(p.status()),
        "originator_id": originator_id,
        "originator_name": originator_name,
        "beneficiary_id": beneficiary_id,
        "beneficiary_name": beneficiary_name,
        "created_at": p.created_at.as_ref().map(format_seed_instant).unwrap_or_default(),
    })
}

async fn get_payment(
    State(store): State<Arc<dyn Store>>,
    axum::Extension(accounts): axum::Extension<AccountView>,
    caller: Option<axum::Extension<Caller>>,
    Path(payment_id): Path<String>,
) -> Response {
    match store.get(&payment_id).await {
        Ok(Some(mut payment)) => {
            if !accounts.reveals_to_caller(caller.as_ref().map(|c| &c.0)) {
                payments_core::masking::mask_accounts(&mut payment);
            }
            Json(payment).into_response()
        }
        Ok(None) => (
            StatusCode::NOT_FOUND,
            Json(json!({"detail": format!("payment {payment_id:?} is not stored")})),
        )
            .into_response(),
        Err(e) => (e.kind().http_status(), Json(json!({"detail": e.explain()}))).into_response(),
    }
}
