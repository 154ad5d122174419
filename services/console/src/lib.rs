//! The web console: the page a user keeps open while traffic runs. It shows the pipeline
//! live (payments per second by stage, end-to-end latency, consumer lag), browses the stored
//! payments with the seed's filters and the rest of ListPayments', sums them by type,
//! currency and status, lists dead letters, starts traffic runs, and lists the injected AML
//! scenarios found among the stored payments, drawing each as a graph. The page, its script
//! and its style are compiled in; it loads nothing from elsewhere.
//!
//! Account numbers and IBANs are always shown masked to their last four.

mod api;
mod assets;
pub mod dead_letters;
pub mod filters;
pub mod http_get;
pub mod pipeline;
pub mod prom_text;
pub mod runs;
pub mod scenarios;

use axum::Router;
use axum::routing::{get, post};
pub use dead_letters::DeadLetterSource;
use payments_store::Store;
pub use pipeline::{MetricsSource, PipelineSampler, PipelineView};
pub use runs::TrafficRuns;
use std::sync::Arc;

/// What the console reads and drives.
pub struct Console {
    /// The live pipeline's samples.
    pub pipeline: Arc<PipelineSampler>,
    /// The store the payments browser reads.
    pub store: Arc<dyn Store>,
    /// The dead-letter topic, when the console can read the bus.
    pub dead_letters: Option<DeadLetterSource>,
    /// The generator's runs, when the console can start them.
    pub runs: Option<Arc<dyn TrafficRuns>>,
    /// A URL template leading from a trace id to its trace (`{trace_id}` is replaced), e.g.
    /// `http://localhost:16686/trace/{trace_id}` for Jaeger.
    pub trace_link: Option<String>,
}

/// The console's routes, in two parts so that a server requiring bearer tokens can guard
/// the data while serving the page: the page and its assets hold no data, the JSON API does.
pub struct ConsoleRoutes {
    /// The page at `/`, its script and its style.
    pub page: Router,
    /// The JSON API under `/api/` (payments, stats, dead letters, runs, scenarios).
    pub api: Router,
}

impl ConsoleRoutes {
    /// Both parts as one router, for a server that requires no token.
    pub fn into_router(self) -> Router {
        self.page.merge(self.api)
    }
}

/// The console's routes over `console`. Its script sends the bearer token the user gives
/// it when the API answers 401, and keeps it for the browser tab's session.
pub fn console_routes(console: Console) -> ConsoleRoutes {
    let page = Router::new()
        .route("/", get(assets::index))
        .route("/console.js", get(assets::script))
        .route("/console.css", get(assets::style));
    let api = Router::new()
        .route("/api/about", get(api::about))
        .route("/api/pipeline", get(api::pipeline))
        .route("/api/payments", get(api::payments))
        .route("/api/payments/{payment_id}", get(api::payment))
        .route("/api/stats", get(api::stats))
        .route("/api/dead-letters", get(api::dead_letters))
        .route("/api/scenarios", get(api::scenarios))
        .route("/api/runs", get(api::runs).post(api::start_run))
        .route("/api/runs/{run_id}/stop", post(api::stop_run))
        .with_state(Arc::new(console));
    ConsoleRoutes { page, api }
}
