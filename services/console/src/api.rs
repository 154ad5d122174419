//! The console's JSON API: `/api/pipeline`, `/api/payments`, `/api/payments/{id}`,
//! `/api/stats`, `/api/dead-letters`, `/api/runs`, `/api/scenarios`.

use crate::filters::{BadParameter, PaymentQuery};
use crate::{Console, dead_letters};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use payments_core::masking::mask_accounts;
use payments_core::money::format_minor_units;
use payments_core::names::{parse_payment_type, seed_type_name, status_name};
use payments_core::pb;
use payments_core::time::format_rfc3339_seconds;
use payments_core::{ErrorKind, ServiceError};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

/// An error answer: `{"error": …, "parameter": …}` with the status its kind calls for.
pub struct ApiError {
    status: StatusCode,
    message: String,
    parameter: Option<String>,
}

impl<E: ServiceError> From<E> for ApiError {
    fn from(error: E) -> Self {
        Self {
            status: error.kind().http_status(),
            message: error.explain(),
            parameter: error.parameter().map(str::to_owned),
        }
    }
}

impl ApiError {
    /// The answer for a generator's gRPC status; `spec.<field>` in its message becomes the
    /// form's parameter name.
    fn from_status(status: tonic::Status) -> Self {
        let parameter = ["rate", "count", "seed", "types"]
            .into_iter()
            .find(|field| status.message().starts_with(&format!("spec.{field}")))
            .map(str::to_owned);
        Self {
            parameter,
            ..Self::from(status)
        }
    }

    fn no_generator() -> Self {
        Self {
            status: ErrorKind::Unimplemented.http_status(),
            message: "this console has no generator to run traffic with".into(),
            parameter: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"error": self.message, "parameter": self.parameter})),
        )
            .into_response()
    }
}

/// `GET /api/about`: which panels this console can fill.
pub async fn about(State(console): State<Arc<Console>>) -> Json<Value> {
    Json(json!({
        "dead_letters": console.dead_letters.is_some(),
        "runs": console.runs.is_some(),
        "tracing": payments_runtime::telemetry::exporting(),
        "trace_link": console.trace_link,
    }))
}

/// `GET /api/pipeline`: rates by stage over the last five minutes, lag and latency.
pub async fn pipeline(State(console): State<Arc<Console>>) -> Json<crate::PipelineView> {
    Json(console.pipeline.view())
}

/// One payment as a row of the browser.
fn summary(payment: &pb::Payment) -> Value {
    let party = |p: &Option<pb::Party>| {
        p.as_ref()
            .map_or(json!(null), |p| json!({"id": p.party_id, "name": p.name}))
    };
    let amount = payment.amount.as_ref();
    json!({
        "payment_id": payment.payment_id,
        "type": seed_type_name(payment.payment_type()),
        "status": status_name(payment.status()),
        "amount": amount.map(|a| format_minor_units(a.minor_units, &a.currency)),
        "currency": amount.map(|a| a.currency.clone()),
        "created_at": payment.created_at.as_ref().map(format_rfc3339_seconds),
        "revision": payment.revision,
        "originator": party(&payment.originator),
        "beneficiary": party(&payment.beneficiary),
        "warnings": payment.warnings.len(),
        "scenario": payment.scenario.as_ref().map(|s| s.typology().as_str_name().trim_start_matches("TYPOLOGY_").to_owned()),
    })
}

/// A W3C trace id: 32 lowercase hex digits, not all zero.
fn is_trace_id(id: &str) -> bool {
    id.len() == 32
        && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        && id.bytes().any(|b| b != b'0')
}

/// `GET /api/payments?type=…&customer=…&from=…&to=…&status=…&currency=…&min_amount=…&max_amount=…&page_size=…&page_token=…`.
pub async fn payments(
    State(console): State<Arc<Console>>,
    Query(query): Query<PaymentQuery>,
) -> Result<Json<Value>, ApiError> {
    let filter = query.filter()?;
    let page = query.page()?;
    let got = console.store.list(&filter, &page).await?;
    Ok(Json(json!({
        "payments": got.payments.iter().map(summary).collect::<Vec<_>>(),
        "next_page_token": got.next.map(|c| c.to_token()),
    })))
}

/// `GET /api/payments/{id}`: the whole payment, account numbers masked, with its trace id
/// when the processor kept one.
pub async fn payment(
    State(console): State<Arc<Console>>,
    Path(payment_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let found = console.store.get(&payment_id).await?;
    let Some(mut payment) = found else {
        return Err(ApiError {
            status: StatusCode::NOT_FOUND,
            message: format!("payment {payment_id:?} is not stored"),
            parameter: None,
        });
    };
    mask_accounts(&mut payment);
    let trace_id = payment
        .metadata
        .as_ref()
        .and_then(|m| m.attributes.get("trace_id"))
        .filter(|id| is_trace_id(id))
        .cloned();
    Ok(Json(json!({
        "summary": summary(&payment),
        "trace_id": trace_id,
        "payment": payment,
    })))
}

/// `GET /api/stats?…` (the browser's filter): counts and sums by type, currency and status.
pub async fn stats(
    State(console): State<Arc<Console>>,
    Query(query): Query<PaymentQuery>,
) -> Result<Json<Value>, ApiError> {
    let filter = query.filter()?;
    let stats = console.store.stats(&filter).await?;
    let buckets = |list: &[payments_store::StatsBucket], prefix: &str| {
        list.iter()
            .map(|b| {
                json!({
                    "key": b.key.strip_prefix(prefix).unwrap_or(&b.key),
                    "count": b.count,
                    "totals": b.totals.iter().map(|(currency, minor)| json!({
                        "currency": currency,
                        "amount": format_minor_units(*minor, currency),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect::<Vec<_>>()
    };
    Ok(Json(json!({
        "total_count": stats.total_count,
        "by_type": buckets(&stats.by_type, "PAYMENT_TYPE_"),
        "by_currency": buckets(&stats.by_currency, ""),
        "by_status": buckets(&stats.by_status, "PAYMENT_STATUS_"),
    })))
}

/// `?limit=` of `/api/dead-letters`.
#[derive(Debug, Deserialize)]
pub struct Limit {
    limit: Option<String>,
}

/// `GET /api/dead-letters?limit=N`: the dead-letter topic's records (at most 500).
pub async fn dead_letters(
    State(console): State<Arc<Console>>,
    Query(Limit { limit }): Query<Limit>,
) -> Result<Json<Value>, ApiError> {
    let Some(source) = &console.dead_letters else {
        return Ok(Json(json!({"available": false, "records": []})));
    };
    let limit = match limit.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
        None => 100,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=500).contains(n))
            .ok_or_else(|| BadParameter {
                parameter: "limit",
                problem: format!("must be a number from 1 to 500, got {text:?}"),
            })?,
    };
    let records = dead_letters::read(source, limit).await?;
    Ok(Json(json!({"available": true, "records": records})))
}

/// The body of `POST /api/runs`.
#[derive(Debug, Deserialize)]
pub struct StartRun {
    rate: u64,
    #[serde(default)]
    count: u64,
    #[serde(default)]
    seed: u64,
    #[serde(default)]
    types: Vec<String>,
    /// Share of payments that are laundering (0 to 0.5); absent means none.
    #[serde(default)]
    scenario_rate: f64,
}

/// `GET /api/scenarios?scan=…` (and the browser's filter): the AML scenarios among the
/// first `scan` stored payments that match the filter (default 100,000, at most 1,000,000),
/// most recent first, at most 200.
#[derive(Debug, Deserialize)]
pub struct ScenarioScan {
    scan: Option<String>,
}

/// `GET /api/scenarios`.
pub async fn scenarios(
    State(console): State<Arc<Console>>,
    Query(query): Query<PaymentQuery>,
    Query(scan): Query<ScenarioScan>,
) -> Result<Json<Value>, ApiError> {
    use crate::scenarios::{DEFAULT_SCAN, MAX_SCAN, ScenarioGroups};
    let limit = match scan
        .scan
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => DEFAULT_SCAN,
        Some(text) => text
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=MAX_SCAN).contains(n))
            .ok_or_else(|| BadParameter {
                parameter: "scan",
                problem: format!("must be a number from 1 to {MAX_SCAN}, got {text:?}"),
            })?,
    };
    let filter = query.filter()?;
    let mut page = payments_store::PageRequest {
        size: payments_store::MAX_PAGE_SIZE,
        after: None,
    };
    let (mut groups, mut scanned, mut complete) = (ScenarioGroups::default(), 0u64, false);
    while scanned < limit {
        let got = console.store.list(&filter, &page).await?;
        scanned += got.payments.len() as u64;
        for p in &got.payments {
            groups.add(p);
        }
        match got.next {
            Some(next) => page.after = Some(next),
            None => {
                complete = true;
                break;
            }
        }
    }
    Ok(Json(json!({
        "scanned": scanned,
        "complete": complete,
        "found": groups.len(),
        "scenarios": groups.to_json(200),
    })))
}

/// `GET /api/runs`: every traffic run, newest first.
pub async fn runs(State(console): State<Arc<Console>>) -> Result<Json<Value>, ApiError> {
    let Some(runs) = &console.runs else {
        return Ok(Json(json!({"available": false, "runs": []})));
    };
    let list = runs.list().await.map_err(ApiError::from_status)?;
    Ok(Json(
        json!({"available": true, "runs": list.iter().map(run_view).collect::<Vec<_>>()}),
    ))
}

/// `POST /api/runs` with `{"rate": 500, "count": 10000, "seed": 42, "types": ["ach"]}`.
pub async fn start_run(
    State(console): State<Arc<Console>>,
    Json(body): Json<StartRun>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Some(runs) = &console.runs else {
        return Err(ApiError::no_generator());
    };
    let types = body
        .types
        .iter()
        .filter(|t| !t.trim().is_empty())
        .map(|t| {
            parse_payment_type(t)
                .map(|t| t as i32)
                .ok_or_else(|| BadParameter {
                    parameter: "types",
                    problem: format!("{t:?} is not a payment type"),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let spec = pb::RunSpec {
        rate: body.rate,
        count: body.count,
        seed: body.seed,
        types,
        scenario_rate: body.scenario_rate,
        ..Default::default()
    };
    let run = runs.start(spec).await.map_err(ApiError::from_status)?;
    Ok((StatusCode::CREATED, Json(run_view(&run))))
}

/// `POST /api/runs/{id}/stop`.
pub async fn stop_run(
    State(console): State<Arc<Console>>,
    Path(run_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let Some(runs) = &console.runs else {
        return Err(ApiError::no_generator());
    };
    let run = runs.stop(&run_id).await.map_err(ApiError::from_status)?;
    Ok(Json(run_view(&run)))
}

fn run_view(run: &pb::Run) -> Value {
    let spec = run.spec.clone().unwrap_or_default();
    json!({
        "run_id": run.run_id,
        "state": pb::RunState::try_from(run.state).map_or("UNKNOWN", |s| s.as_str_name().trim_start_matches("RUN_STATE_")),
        "rate": spec.rate,
        "count": spec.count,
        "generated": run.generated,
        "acknowledged": run.acknowledged,
        "rejected": run.rejected,
        "actual_rate": (run.actual_rate * 10.0).round() / 10.0,
        "started_at": run.started_at.as_ref().map(format_rfc3339_seconds),
        "finished_at": run.finished_at.as_ref().map(format_rfc3339_seconds),
        "last_error": run.last_error,
    })
}

#[cfg(test)]
mod tests {
    use super::is_trace_id;

    #[test]
    fn only_w3c_trace_ids_are_linked() {
        assert!(is_trace_id("4bf92f3577b34da6a3ce929d0e0e4736"));
        assert!(!is_trace_id("00000000000000000000000000000000"));
        assert!(!is_trace_id("4BF92F3577B34DA6A3CE929D0E0E4736"));
        assert!(!is_trace_id("javascript:alert(1)"));
        assert!(!is_trace_id(""));
    }
}
