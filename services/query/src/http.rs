//! The seed API's HTTP/JSON routes, with its request and response shapes:
//! `GET /health`, `POST /payments/time-range`, `POST /payments/type-customer`,
//! `POST /payments/date-type-customer`; plus `GET /v1/payments/{id}` (protobuf JSON).
//!
//! Dates are `YYYY-MM-DD` (UTC days, both ends inclusive); `customer_id` is the
//! originator's party id, as in the seed's row-key queries. Bad input answers 422 with
//! FastAPI's `{"detail": [{"type": ..., "loc": [...], "msg": ..., "input": ...}]}` shape, and
//! amounts are decimal strings, as the seed's FastAPI app (pydantic 2) answered.

use crate::grpc::AccountView;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use payments_core::ServiceError;
use payments_core::money::format_minor_units;
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
    Router::new()
        .route(
            "/health",
            get(|| async { Json(json!({"status": "healthy"})) }),
        )
        .layer(axum::middleware::from_fn(crate::cors::seed_cors))
}

/// The seed-compatible routes over `store`, with the seed's CORS; `/v1/payments/{id}` shows
/// account numbers as `accounts` says, in full to a caller whose token has the
/// `reveal-accounts` scope.
pub fn http_routes(store: Arc<dyn Store>, accounts: AccountView) -> Router {
    Router::new()
        .route("/payments/time-range", post(time_range))
        .route("/payments/type-customer", post(type_customer))
        .route("/payments/date-type-customer", post(date_type_customer))
        .route("/v1/payments/{payment_id}", get(get_payment))
        .layer(axum::Extension(accounts))
        .layer(axum::middleware::from_fn(crate::cors::seed_cors))
        .with_state(store)
}

/// One bad body field, as pydantic 2 (the seed's FastAPI app) reports it: where, its error
/// type, a message and the input it was given.
struct BodyError {
    loc: Value,
    kind: &'static str,
    msg: String,
    input: Value,
}

impl BodyError {
    /// An error at body field `field`.
    fn at(field: &str, kind: &'static str, msg: impl Into<String>, input: Value) -> Self {
        Self {
            loc: json!(["body", field]),
            kind,
            msg: msg.into(),
            input,
        }
    }
}

/// A 422 listing every bad body field in FastAPI's shape:
/// `{"detail": [{"type", "loc", "msg", "input"}]}`.
struct BodyErrors(Vec<BodyError>);

impl IntoResponse for BodyErrors {
    fn into_response(self) -> Response {
        let detail: Vec<Value> = self
            .0
            .into_iter()
            .map(|e| json!({"type": e.kind, "loc": e.loc, "msg": e.msg, "input": e.input}))
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
        BodyErrors(vec![BodyError {
            loc: json!(["body", e.column()]),
            kind: "json_invalid",
            msg: format!("JSON decode error: {e}"),
            input: json!({}),
        }])
    })
}

/// Reads the fields the seed's request models declare, collecting every error.
struct BodyReader<'a> {
    body: &'a Value,
    errors: Vec<BodyError>,
}

impl<'a> BodyReader<'a> {
    fn new(body: &'a Value) -> Self {
        let mut errors = Vec::new();
        if !body.is_object() {
            errors.push(BodyError {
                loc: json!(["body"]),
                kind: "model_attributes_type",
                msg: "Input should be a valid dictionary or object to extract fields from".into(),
                input: body.clone(),
            });
        }
        Self { body, errors }
    }

    /// Notes that body field `field` (given as `input`) is wrong.
    fn refuse(&mut self, field: &str, msg: impl Into<String>, input: Value) {
        self.errors
            .push(BodyError::at(field, "value_error", msg, input));
    }

    fn text(&mut self, field: &str) -> Option<String> {
        match self.body.get(field) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            Some(Value::String(s)) => {
                self.refuse(field, "must not be empty", json!(s));
                None
            }
            None | Some(Value::Null) if self.body.is_object() => {
                let body = self.body.clone();
                self.errors
                    .push(BodyError::at(field, "missing", "Field required", body));
                None
            }
            None | Some(Value::Null) => None,
            Some(other) => {
                let other = other.clone();
                self.errors.push(BodyError::at(
                    field,
                    "string_type",
                    "Input should be a valid string",
                    other,
                ));
                None
            }
        }
    }

    fn date(&mut self, field: &str) -> Option<NaiveDate> {
        let text = self.text(field)?;
        let parsed = NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok();
        if parsed.is_none() {
            self.errors.push(BodyError::at(
                field,
                "date_from_datetime_parsing",
                format!("{text:?} is not a date in YYYY-MM-DD format"),
                json!(text),
            ));
        }
        parsed
    }

    fn payment_type(&mut self, field: &str) -> Option<pb::PaymentType> {
        let text = self.text(field)?;
        let parsed = parse_payment_type(&text);
        if parsed.is_none() {
            self.refuse(
                field,
                format!("{text:?} is not a payment type (e.g. ACH, WIRE, SEPA_CREDIT_TRANSFER)"),
                json!(text),
            );
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
            Err(e) => r.refuse(e.parameter, e.problem, json!(start.to_string())),
        }
        match bound("end_date", end, RangeEnd::End) {
            Ok(micros) => filter.created_to_micros = Some(micros),
            Err(e) => r.refuse(e.parameter, e.problem, json!(end.to_string())),
        }
        if end < start {
            r.refuse("end_date", "is before start_date", json!(end.to_string()));
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

/// The seed's `PaymentResponse`, as its FastAPI app (pydantic 2's `Decimal`) sends it: the
/// amount a decimal string printed from the exact minor units (`"900898.06"`).
fn seed_response(p: &pb::Payment) -> Value {
    let (amount, currency) = p
        .amount
        .as_ref()
        .map(|a| {
            (
                format_minor_units(a.minor_units, &a.currency),
                a.currency.as_str(),
            )
        })
        .unwrap_or_default();
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
