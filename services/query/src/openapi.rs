//! The HTTP API's OpenAPI 3.1 document, generated from the handlers' own descriptions, at
//! `GET /openapi.json`, and `GET /docs`, a page that renders it and lets a reader try each
//! route, as the seed's FastAPI app offered. Neither holds data: both stay open when the
//! server requires tokens.

use crate::http::{health_api, seed_api};
use axum::Json;
use axum::Router;
use axum::response::Html;
use axum::routing::get;
use std::sync::Arc;
use utoipa::openapi::OpenApi;

/// The page at `/docs`: it reads `/openapi.json` and renders every operation.
const DOCS_PAGE: &str = include_str!("docs.html");

/// The document describing every route the query service's HTTP port serves: the seed's
/// routes and `/v1/payments/{id}` ([`crate::http_routes`], [`crate::health_route`]) and the
/// probes every service has.
pub fn openapi_document() -> OpenApi {
    let mut document = health_api().1;
    document.merge(seed_api().1);
    document.merge(payments_runtime::http::probe_openapi());
    document.info.title = "payments query API".into();
    document.info.version = env!("CARGO_PKG_VERSION").into();
    document.info.description = Some(
        "Stored payments over HTTP: the seed system's FastAPI routes, with its request and \
         response shapes (amounts as decimal strings, FastAPI's 422 and error bodies), and \
         one payment by id as protobuf JSON or in the seed's shape. The same data is served \
         over gRPC as payments.v1.QueryService."
            .into(),
    );
    document.info.license = None;
    document.info.contact = None;
    document
}

/// `GET /openapi.json` and `GET /docs`.
pub fn openapi_routes() -> Router {
    let document = Arc::new(openapi_document());
    Router::new()
        .route(
            "/openapi.json",
            get(move || {
                let document = document.clone();
                async move { Json(document.as_ref().clone()) }
            }),
        )
        .route("/docs", get(|| async { Html(DOCS_PAGE) }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_openapi_3_1_and_describes_every_route() {
        let document = serde_json::to_value(openapi_document()).unwrap_or_default();
        assert_eq!(document["openapi"], "3.1.0");
        let mut paths: Vec<&str> = document["paths"]
            .as_object()
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default();
        paths.sort_unstable();
        assert_eq!(
            paths,
            [
                "/health",
                "/livez",
                "/metrics",
                "/payments/date-type-customer",
                "/payments/time-range",
                "/payments/type-customer",
                "/readyz",
                "/v1/payments/{payment_id}",
            ]
        );
        let schemas = &document["components"]["schemas"];
        for schema in [
            "SeedPayment",
            "ValidationErrors",
            "ErrorDetail",
            "TimeRangeRequest",
        ] {
            assert!(schemas[schema].is_object(), "{schema} is not described");
        }
        assert_eq!(
            schemas["SeedPayment"]["properties"]["amount"]["type"],
            "string"
        );
        // Every reference points at a schema the document holds.
        let mut refs = Vec::new();
        references(&document, &mut refs);
        assert!(!refs.is_empty());
        for reference in refs {
            let name = reference.trim_start_matches("#/components/schemas/");
            assert!(schemas[name].is_object(), "{reference} points nowhere");
        }
    }

    fn references(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, v) in map {
                    match (key.as_str(), v.as_str()) {
                        ("$ref", Some(reference)) => out.push(reference.to_owned()),
                        _ => references(v, out),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| references(v, out)),
            _ => {}
        }
    }
}
