//! Bearer tokens and client certificates on the HTTP port: with tokens configured, the
//! roles' HTTP routes take the same `authorization: Bearer <token>` as their gRPC calls, and
//! with `--tls-client-ca` the same client certificate; they answer 401 without.
//! Probes and metrics (`/livez`, `/readyz`, `/metrics`) stay open, as gRPC health does, and
//! so do routes a role serves openly only because the operator said so
//! ([`crate::app::Mount::merge_open_http`]).

use crate::auth::BearerTokens;
use crate::tls::ClientCertificate;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The realm a 401 names in `www-authenticate`.
const REALM: &str = "Bearer realm=\"payments\"";

/// Admits a request whose `authorization` header names one of `tokens`, putting its
/// [`crate::auth::Caller`] in the request's extensions; answers anything else with 401 and
/// FastAPI's `{"detail": …}` body.
pub async fn require_bearer(
    State(tokens): State<BearerTokens>,
    mut request: Request,
    next: Next,
) -> Response {
    // A browser's CORS preflight never carries credentials; the route it asks about does.
    let preflight = request.method() == axum::http::Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        return next.run(request).await;
    }
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|value| value.as_bytes());
    let Some(caller) = tokens.caller(authorization) else {
        let why = if authorization.is_some() {
            "the bearer token is not one this service accepts"
        } else {
            "this route needs a bearer token: send `authorization: Bearer <token>`"
        };
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, REALM)],
            axum::Json(serde_json::json!({ "detail": why })),
        )
            .into_response();
    };
    request.extensions_mut().insert(caller);
    next.run(request).await
}

/// Admits a request whose connection presented a client certificate the server's
/// `--tls-client-ca` signed; answers anything else with 401.
pub async fn require_client_certificate(request: Request, next: Next) -> Response {
    let verified = request
        .extensions()
        .get::<ClientCertificate>()
        .is_some_and(|c| c.verified);
    if !verified {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(serde_json::json!({
                "detail": "this route needs a client certificate signed by the server's --tls-client-ca"
            })),
        )
            .into_response();
    }
    next.run(request).await
}
