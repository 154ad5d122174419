//! The web console as the query service serves it: its store, the metrics of the services
//! it is told about, the dead letters of a Kafka bus, and a generator's runs.

use crate::config::ConsoleArgs;
use payments_console::{
    Console, ConsoleRoutes, DeadLetterSource, MetricsSource, PipelineSampler, TrafficRuns,
    console_routes, runs::GrpcTrafficRuns,
};
use payments_runtime::Shutdown;
use payments_store::Store;
use std::sync::Arc;

/// Why the console could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleSetupError {
    /// The dead-letter bus is not a Kafka URL or cannot be reached.
    #[error("console dead-letter bus {url}")]
    Bus {
        /// The URL given.
        url: String,
        /// What went wrong.
        #[source]
        source: payments_bus::Error,
    },
    /// The generator address is not a gRPC address.
    #[error("console generator {address:?} is not a gRPC address")]
    Generator {
        /// The address given.
        address: String,
        /// What is wrong with it.
        #[source]
        source: tonic::transport::Error,
    },
    /// The generator token cannot travel in a header.
    #[error("--console-generator-token")]
    GeneratorToken(#[source] payments_runtime::auth::TokenError),
}

/// The console's routes as `args` describe them, or `None` with `--no-console`, or when
/// the server requires tokens (`requires_tokens`) and `--console-despite-auth` does not
/// expose its page (a browser loading the page cannot send a token; its API then takes
/// the token the user types in).
pub async fn console_from_args(
    args: &ConsoleArgs,
    store: Arc<dyn Store>,
    requires_tokens: bool,
    shutdown: Shutdown,
) -> Result<Option<ConsoleRoutes>, ConsoleSetupError> {
    if args.no_console {
        return Ok(None);
    }
    if requires_tokens && !args.console_despite_auth {
        tracing::info!(
            "console off: this server requires tokens and a browser cannot send one for the page (--console-despite-auth serves the page; its api still takes tokens)"
        );
        return Ok(None);
    }
    let source = if args.console_metrics_from.is_empty() {
        MetricsSource::Local
    } else {
        MetricsSource::Scrape(args.console_metrics_from.clone())
    };
    let dead_letters = match &args.console_bus {
        Some(url) => {
            let bus = connect_bus(url)
                .await
                .map_err(|source| ConsoleSetupError::Bus {
                    url: url.clone(),
                    source,
                })?;
            Some(DeadLetterSource {
                bus,
                topic: args.console_dead_letter_topic.clone(),
            })
        }
        None => None,
    };
    let authorization = args
        .console_generator_token
        .as_deref()
        .map(payments_runtime::auth::bearer_header)
        .transpose()
        .map_err(ConsoleSetupError::GeneratorToken)?;
    let runs = args
        .console_generator
        .as_deref()
        .map(|address| {
            GrpcTrafficRuns::new(address, args.console_ingest_target.clone())
                .map(|runs| runs.with_authorization(authorization.clone()))
                .map_err(|source| ConsoleSetupError::Generator {
                    address: address.to_owned(),
                    source,
                })
        })
        .transpose()?
        .map(|runs| Arc::new(runs) as Arc<dyn TrafficRuns>);
    Ok(Some(console_routes(Console {
        pipeline: PipelineSampler::start(source, shutdown),
        store,
        dead_letters,
        runs,
        trace_link: args.trace_link.clone(),
    })))
}

async fn connect_bus(url: &str) -> Result<payments_bus::Bus, payments_bus::Error> {
    payments_bus::require_networked(url, "payments-query")?;
    payments_bus::Bus::connect(url).await
}
