//! The page and its script and style, compiled into the binary: no front-end toolchain to
//! build it, no CDN to load it.

use axum::http::header;
use axum::response::IntoResponse;

/// The console page.
pub const INDEX_HTML: &str = include_str!("../assets/index.html");
/// Its script (charts drawn on canvas, no libraries).
pub const CONSOLE_JS: &str = include_str!("../assets/console.js");
/// Its style sheet.
pub const CONSOLE_CSS: &str = include_str!("../assets/console.css");

/// `GET /`.
pub async fn index() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        INDEX_HTML,
    )
}

/// `GET /console.js`.
pub async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        CONSOLE_JS,
    )
}

/// `GET /console.css`.
pub async fn style() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        CONSOLE_CSS,
    )
}
