//! CORS on the seed's routes, as its FastAPI app configured Starlette's `CORSMiddleware`:
//! every origin, method and header, with credentials. So a browser page that called the
//! seed's API calls ours: a preflight (`OPTIONS` with `access-control-request-method`) is
//! answered here, and every answer to a request with an `origin` names that origin.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// What Starlette allows with `allow_methods=["*"]`.
const ALLOWED_METHODS: &str = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT";

/// Seconds a browser may cache a preflight answer (Starlette's default).
const PREFLIGHT_MAX_AGE: &str = "600";

/// Whether `request` is a CORS preflight.
pub fn is_preflight(method: &Method, headers: &HeaderMap) -> bool {
    method == Method::OPTIONS
        && headers.contains_key(header::ORIGIN)
        && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// Answers preflights and adds the CORS headers the seed's app sent to every other answer.
pub async fn seed_cors(request: Request, next: Next) -> Response {
    let origin = request.headers().get(header::ORIGIN).cloned();
    if is_preflight(request.method(), request.headers()) {
        let requested_headers = request
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .cloned();
        let mut response = StatusCode::OK.into_response();
        let headers = response.headers_mut();
        allow(headers, origin);
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(ALLOWED_METHODS),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static(PREFLIGHT_MAX_AGE),
        );
        if let Some(requested) = requested_headers {
            headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested);
        }
        return response;
    }
    let mut response = next.run(request).await;
    if origin.is_some() {
        allow(response.headers_mut(), origin);
    }
    response
}

/// The origin (echoed, as any origin is allowed with credentials) and credentials headers.
fn allow(headers: &mut HeaderMap, origin: Option<HeaderValue>) {
    if let Some(origin) = origin {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
        HeaderValue::from_static("true"),
    );
}
