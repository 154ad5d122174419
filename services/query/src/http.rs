//! The seed API's HTTP/JSON routes, with its request and response shapes:
//! `GET /health`, `POST /payments/time-range`, `POST /payments/type-customer`,
//! `POST /payments/date-type-customer`; plus `GET /v1/payments/{id}` (protobuf JSON, or the
//! seed's document with `?format=seed`).
//!
//! Dates are `YYYY-MM-DD` (UTC days, both ends inclusive); `customer_id` is the
//! originator's party id, as in the seed's row-key queries. Bad input answers 422 with
//! FastAPI's `{"detail": [{"type": ..., "loc": [...], "msg": ..., "input": ...}]}` shape, and
//! amounts are decimal strings, as the seed's FastAPI app (pydantic 2) answered.
//!
//! Every handler carries its OpenAPI description (`#[utoipa::path]`), and the routers are
//! built from those handlers ([`seed_api`], [`health_api`]), so `/openapi.json` describes
//! exactly the routes served.

use crate::grpc::AccountView;
use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use chrono::NaiveDate;
use payments_core::ServiceError;
use payments_core::money::format_minor_units;
use payments_core::names::{parse_payment_type, seed_type_name, status_name};
use payments_core::pb;
use payments_core::seed_json::to_seed;
use payments_core::time::format_seed_instant;
use payments_runtime::auth::Caller;
use payments_store::{PageRequest, PaymentFilter, RangeEnd, Store, range_bound};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::sync::Arc;
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Most payments one seed route returns; more are cut and flagged with `x-truncated: true`.
pub const MAX_SEED_RESULTS: usize = 10_000;

/// The seed's `GET /health` with its OpenAPI description; it holds no data and stays open
/// when the server requires tokens.
pub fn health_api() -> (Router, utoipa::openapi::OpenApi) {
    let (router, api) = OpenApiRouter::new()
        .routes(routes!(health))
        .split_for_parts();
    (
        router.layer(axum::middleware::from_fn(crate::cors::seed_cors)),
        api,
    )
}

/// The seed's `GET /health`.
pub fn health_route() -> Router {
    health_api().0
}

/// The seed-compatible routes, with the seed's CORS, and their OpenAPI description; the
/// router wants the store as its state.
pub fn seed_api() -> (Router<Arc<dyn Store>>, utoipa::openapi::OpenApi) {
    let (router, api) = OpenApiRouter::with_openapi(SeedComponents::openapi())
        .routes(routes!(time_range))
        .routes(routes!(type_customer))
        .routes(routes!(date_type_customer))
        .routes(routes!(get_payment))
        .split_for_parts();
    (
        router.layer(axum::middleware::from_fn(crate::cors::seed_cors)),
        api,
    )
}

/// The seed-compatible routes over `store`; `/v1/payments/{id}` shows account numbers as
/// `accounts` says, in full to a caller whose token has the `reveal-accounts` scope.
pub fn http_routes(store: Arc<dyn Store>, accounts: AccountView) -> Router {
    seed_api()
        .0
        .layer(axum::Extension(accounts))
        .with_state(store)
}

/// The seed's health answer.
#[derive(Serialize, ToSchema)]
pub struct HealthResponse {
    /// Always `healthy`.
    #[schema(example = "healthy")]
    pub status: String,
}

/// Whether the service answers; it reads no store.
#[utoipa::path(
    get,
    path = "/health",
    tag = "seed",
    responses((status = 200, description = "The service answers.", body = HealthResponse))
)]
async fn health() -> Json<HealthResponse> {
    Json(HealthResponse {
        status: "healthy".into(),
    })
}

/// `POST /payments/time-range`: payments created on the days from `start_date` through
/// `end_date` (UTC, both inclusive).
#[derive(Deserialize, ToSchema)]
pub struct TimeRangeRequest {
    /// First day, `YYYY-MM-DD`.
    #[schema(format = Date, example = "2024-12-21")]
    pub start_date: String,
    /// Last day, `YYYY-MM-DD`, not before `start_date`.
    #[schema(format = Date, example = "2024-12-22")]
    pub end_date: String,
}

/// `POST /payments/type-customer`: a rail's payments by one originator.
#[derive(Deserialize, ToSchema)]
pub struct TypeCustomerRequest {
    /// The rail, as the seed names it (`ACH`, `WIRE`, `SEPA_CREDIT_TRANSFER`…).
    #[schema(example = "ACH")]
    pub payment_type: String,
    /// The originator's party id.
    #[schema(example = "CUST2B14473F")]
    pub customer_id: String,
}

/// `POST /payments/date-type-customer`: both of the above at once.
#[derive(Deserialize, ToSchema)]
pub struct DateTypeCustomerRequest {
    /// First day, `YYYY-MM-DD`.
    #[schema(format = Date, example = "2024-12-21")]
    pub start_date: String,
    /// Last day, `YYYY-MM-DD`, not before `start_date`.
    #[schema(format = Date, example = "2024-12-22")]
    pub end_date: String,
    /// The rail, as the seed names it.
    #[schema(example = "ACH")]
    pub payment_type: String,
    /// The originator's party id.
    #[schema(example = "CUST2B14473F")]
    pub customer_id: String,
}

/// The seed's `PaymentResponse`, as its FastAPI app (pydantic 2's `Decimal`) sent it.
#[derive(Serialize, ToSchema)]
pub struct SeedPayment {
    /// The payment id.
    pub payment_id: String,
    /// The rail, as the seed names it.
    pub payment_type: String,
    /// The amount in major units, a decimal string printed from the exact minor units.
    #[schema(example = "900898.06")]
    pub amount: String,
    /// ISO 4217 currency.
    pub currency: String,
    /// The status.
    pub status: String,
    /// The originator's party id.
    pub originator_id: String,
    /// The originator's name.
    pub originator_name: String,
    /// The beneficiary's party id.
    pub beneficiary_id: String,
    /// The beneficiary's name.
    pub beneficiary_name: String,
    /// When the payment was created, UTC without a zone, as the seed wrote it.
    pub created_at: String,
}

/// One step of where a bad value is: a name, or an index in a list.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum LocationStep {
    /// A field or parameter name (`body`, `start_date`).
    Name(String),
    /// A position.
    Index(u64),
}

/// One bad value, as pydantic 2 reports it.
#[derive(Serialize, ToSchema)]
pub struct ValidationError {
    /// The error type (`missing`, `string_type`, `json_invalid`, `value_error`…).
    #[serde(rename = "type")]
    pub kind: String,
    /// Where: `["body", "start_date"]`, `["query", "format"]`.
    pub loc: Vec<LocationStep>,
    /// What is wrong.
    pub msg: String,
    /// The value given.
    pub input: Value,
}

/// FastAPI's 422 body: every bad value of the request.
#[derive(Serialize, ToSchema)]
pub struct ValidationErrors {
    /// One entry a bad value.
    pub detail: Vec<ValidationError>,
}

/// Schemas the handlers' descriptions name through [`SeedListAnswers`], which does not
/// register them itself.
#[derive(utoipa::OpenApi)]
#[openapi(components(schemas(SeedPayment, ValidationErrors, ErrorDetail)))]
struct SeedComponents;

/// What the seed's three list routes answer, for their OpenAPI description (the handlers
/// build these answers from the types each variant names).
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
enum SeedListAnswers {
    /// The payments.
    #[response(status = 200)]
    Payments(Vec<SeedPayment>),
    /// A bad body: every bad field, in FastAPI's shape.
    #[response(status = 422)]
    BadBody(ValidationErrors),
    /// The store is unavailable.
    #[response(status = 503)]
    StoreUnavailable(ErrorDetail),
    /// The store did not answer in time.
    #[response(status = 504)]
    StoreTimeout(ErrorDetail),
    /// The store failed.
    #[response(status = 500)]
    StoreFailed(ErrorDetail),
}

/// FastAPI's error body for anything but bad input (404, 503…).
#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// What went wrong.
    pub detail: String,
}

/// One bad request value, as pydantic 2 (the seed's FastAPI app) reports it.
struct BodyError(ValidationError);

impl BodyError {
    /// An error at body field `field`.
    fn at(field: &str, kind: &'static str, msg: impl Into<String>, input: Value) -> Self {
        Self::located(&["body", field], kind, msg, input)
    }

    /// An error at `loc`.
    fn located(loc: &[&str], kind: &'static str, msg: impl Into<String>, input: Value) -> Self {
        Self(ValidationError {
            kind: kind.into(),
            loc: loc
                .iter()
                .map(|s| LocationStep::Name((*s).into()))
                .collect(),
            msg: msg.into(),
            input,
        })
    }
}

/// A 422 listing every bad value in FastAPI's shape:
/// `{"detail": [{"type", "loc", "msg", "input"}]}`.
struct BodyErrors(Vec<BodyError>);

impl IntoResponse for BodyErrors {
    fn into_response(self) -> Response {
        let body = ValidationErrors {
            detail: self.0.into_iter().map(|e| e.0).collect(),
        };
        (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
    }
}

/// FastAPI's `{"detail": "..."}` with `status`.
fn error_detail(status: StatusCode, detail: String) -> Response {
    (status, Json(ErrorDetail { detail })).into_response()
}

/// The request body as JSON (any content type), or a 422 saying why not.
fn parse_body(body: &[u8]) -> Result<Value, BodyErrors> {
    serde_json::from_slice(body).map_err(|e| {
        BodyErrors(vec![BodyError(ValidationError {
            kind: "json_invalid".into(),
            loc: vec![
                LocationStep::Name("body".into()),
                LocationStep::Index(e.column() as u64),
            ],
            msg: format!("JSON decode error: {e}"),
            input: json!({}),
        })])
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
            errors.push(BodyError::located(
                &["body"],
                "model_attributes_type",
                "Input should be a valid dictionary or object to extract fields from",
                body.clone(),
            ));
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

/// Payments created on the days from `start_date` through `end_date` (UTC, both inclusive),
/// in creation order; at most 10,000, the header `x-truncated: true` saying more were cut.
#[utoipa::path(
    post,
    path = "/payments/time-range",
    tag = "seed",
    request_body = TimeRangeRequest,
    responses(SeedListAnswers)
)]
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

/// A rail's payments by one originator, in creation order; at most 10,000.
#[utoipa::path(
    post,
    path = "/payments/type-customer",
    tag = "seed",
    request_body = TypeCustomerRequest,
    responses(SeedListAnswers)
)]
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

/// A rail's payments by one originator on the days from `start_date` through `end_date`;
/// at most 10,000.
#[utoipa::path(
    post,
    path = "/payments/date-type-customer",
    tag = "seed",
    request_body = DateTypeCustomerRequest,
    responses(SeedListAnswers)
)]
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
                return error_detail(e.kind().http_status(), e.explain());
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

/// The seed's `PaymentResponse` of `p`: the amount a decimal string printed from the exact
/// minor units (`"900898.06"`).
fn seed_response(p: &pb::Payment) -> SeedPayment {
    let (amount, currency) = p
        .amount
        .as_ref()
        .map(|a| {
            (
                format_minor_units(a.minor_units, &a.currency),
                a.currency.clone(),
            )
        })
        .unwrap_or_default();
    let (originator_id, originator_name) = id_and_name(p.originator.as_ref());
    let (beneficiary_id, beneficiary_name) = id_and_name(p.beneficiary.as_ref());
    SeedPayment {
        payment_id: p.payment_id.clone(),
        payment_type: seed_type_name(p.payment_type()).into(),
        amount,
        currency,
        status: status_name(p.status()).into(),
        originator_id: originator_id.into(),
        originator_name: originator_name.into(),
        beneficiary_id: beneficiary_id.into(),
        beneficiary_name: beneficiary_name.into(),
        created_at: p
            .created_at
            .as_ref()
            .map(format_seed_instant)
            .unwrap_or_default(),
    }
}

/// The shapes `GET /v1/payments/{payment_id}` answers in.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PaymentFormatQuery {
    /// `json` (default): the payment as protobuf JSON (`payments.v1.Payment`); `seed`: the
    /// seed's document of it, with the members its producer sent that the model does not
    /// hold back where they were.
    #[param(pattern = "^(json|seed)$", example = "seed")]
    pub format: Option<String>,
}

/// One stored payment, by id, with account numbers masked unless the caller may see them.
#[utoipa::path(
    get,
    path = "/v1/payments/{payment_id}",
    tag = "payments",
    params(
        ("payment_id" = String, Path, description = "The payment id."),
        PaymentFormatQuery,
    ),
    responses(
        (status = 200, description = "The payment, as protobuf JSON or (format=seed) the seed's document.", body = Value),
        (status = 404, description = "No payment has this id.", body = ErrorDetail),
        (status = 422, description = "An unknown format, or a path or query that cannot be read.", body = ValidationErrors),
        (status = 503, description = "The store is unavailable.", body = ErrorDetail),
        (status = 504, description = "The store did not answer in time.", body = ErrorDetail),
        (status = 500, description = "The store failed.", body = ErrorDetail),
    )
)]
async fn get_payment(
    State(store): State<Arc<dyn Store>>,
    axum::Extension(accounts): axum::Extension<AccountView>,
    caller: Option<axum::Extension<Caller>>,
    payment_id: Result<Path<String>, PathRejection>,
    query: Result<Query<PaymentFormatQuery>, QueryRejection>,
) -> Response {
    let payment_id = match payment_id {
        Ok(Path(payment_id)) => payment_id,
        Err(rejection) => {
            return BodyErrors(vec![BodyError::located(
                &["path", "payment_id"],
                "path_invalid",
                rejection.body_text(),
                Value::Null,
            )])
            .into_response();
        }
    };
    let query = match query {
        Ok(Query(query)) => query,
        Err(rejection) => {
            return BodyErrors(vec![BodyError::located(
                &["query"],
                "query_invalid",
                rejection.body_text(),
                Value::Null,
            )])
            .into_response();
        }
    };
    let seed = match query.format.as_deref() {
        None | Some("json") => false,
        Some("seed") => true,
        Some(other) => {
            return BodyErrors(vec![BodyError::located(
                &["query", "format"],
                "enum",
                "Input should be 'json' or 'seed'",
                json!(other),
            )])
            .into_response();
        }
    };
    match store.get(&payment_id).await {
        Ok(Some(mut payment)) => {
            if !accounts.reveals_to_caller(caller.as_ref().map(|c| &c.0)) {
                payments_core::masking::mask_accounts(&mut payment);
            }
            if seed {
                Json(to_seed(&payment)).into_response()
            } else {
                Json(payment).into_response()
            }
        }
        Ok(None) => error_detail(
            StatusCode::NOT_FOUND,
            format!("payment {payment_id:?} is not stored"),
        ),
        Err(e) => error_detail(e.kind().http_status(), e.explain()),
    }
}
