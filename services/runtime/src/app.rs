//! [`App`]: the one way a process is assembled. An app is a list of [`Role`]s (generator,
//! ingest, processor, query) served on one gRPC port and one HTTP port, stopped by one
//! [`Drain`]. A service binary is an app with one role; `paymentsctl up` is all of them.

use crate::auth::{BearerTokens, TokenError};
use crate::drain::{Drain, DrainError, Stage};
use crate::grpc::{GrpcRoutes, GrpcService, bind};
use crate::http::{NotReady, ReadinessCheck, probe_routes, readiness, serve};
use crate::tls::{PemError, ServerTlsArgs};
use axum::Router;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

/// Where and how an app serves.
#[derive(Clone)]
pub struct AppConfig {
    /// The app's name, for logs (`payments-ingest`).
    pub name: &'static str,
    /// gRPC listen address (`127.0.0.1:0` picks a free port).
    pub grpc_addr: String,
    /// HTTP listen address: probes, metrics and the roles' routes.
    pub http_addr: String,
    /// Longest the drain may take once it begins.
    pub grace: Duration,
    /// TLS for the gRPC port (plaintext when `None`).
    pub tls: Option<tonic::transport::ServerTlsConfig>,
    /// TLS for the HTTP port when a role serves data on it, from the same files (plaintext
    /// when `None`).
    pub http_tls: Option<crate::tls::HttpTls>,
    /// Bearer tokens every gRPC call but health and reflection, and every HTTP route but
    /// probes, metrics and routes opened explicitly, must carry (none: open).
    pub tokens: Option<BearerTokens>,
    /// Calls served at once before more are refused with RESOURCE_EXHAUSTED (no bound:
    /// `None`).
    pub max_concurrent_calls: Option<usize>,
}

impl AppConfig {
    /// Plaintext, unauthenticated, unbounded serving of `name` on the two addresses,
    /// draining within `grace`.
    pub fn new(name: &'static str, grpc_addr: &str, http_addr: &str, grace: Duration) -> Self {
        Self {
            name,
            grpc_addr: grpc_addr.to_owned(),
            http_addr: http_addr.to_owned(),
            grace,
            tls: None,
            http_tls: None,
            tokens: None,
            max_concurrent_calls: None,
        }
    }

    /// The same app serving gRPC and HTTP over the TLS its flags describe (plaintext
    /// without them).
    pub fn with_tls_flags(mut self, flags: &ServerTlsArgs) -> Result<Self, PemError> {
        self.tls = flags.server_config()?;
        self.http_tls = flags.http_tls()?;
        Ok(self)
    }

    /// The same app requiring a bearer token from `file` on every gRPC call and HTTP route
    /// (none: open).
    pub fn with_tokens_file(mut self, file: Option<&Path>) -> Result<Self, TokenError> {
        self.tokens = BearerTokens::load(file)?;
        Ok(self)
    }

    /// The same app refusing calls past `limit` at once (0: no bound).
    pub fn with_call_limit(mut self, limit: usize) -> Self {
        self.max_concurrent_calls = Some(limit).filter(|n| *n > 0);
        self
    }
}

/// The serving flags a service binary's arguments provide.
pub trait ServeFlags {
    /// The app configuration these flags describe; a file they name that cannot be used
    /// (TLS, tokens) is an error.
    fn app_config(&self) -> Result<AppConfig, AppError>;
}

/// Why an app could not start or did not stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A port could not be bound.
    #[error(transparent)]
    Bind(#[from] std::io::Error),
    /// A task failed, or the drain overran its grace period.
    #[error(transparent)]
    Drain(#[from] DrainError),
    /// A TLS file cannot be used.
    #[error(transparent)]
    Tls(#[from] PemError),
    /// A bearer-token file cannot be used.
    #[error(transparent)]
    Tokens(#[from] TokenError),
}

/// What a role adds to the app it is mounted on.
pub struct Mount {
    grpc: GrpcRoutes,
    http: Router,
    open_http: Router,
    serves_data_over_http: bool,
    checks: Vec<ReadinessCheck>,
    drain: Drain,
}

impl Mount {
    /// Serves `service` on the app's gRPC port (with health and reflection for it).
    pub fn add_grpc_service<S: GrpcService>(&mut self, service: S) {
        self.grpc = std::mem::take(&mut self.grpc).add_service(service);
    }

    /// Serves `router`'s routes on the app's HTTP port, behind the app's bearer tokens
    /// when it has any (401 without one; the caller's scopes in the request's extensions).
    pub fn merge_http(&mut self, router: Router) {
        self.http = std::mem::take(&mut self.http).merge(router);
        self.serves_data_over_http = true;
    }

    /// Serves `router`'s routes on the app's HTTP port without a token even when the app
    /// requires one: only for routes that hold no payment data (`/health`), or that the
    /// operator exposed explicitly by a flag.
    pub fn merge_open_http(&mut self, router: Router) {
        self.open_http = std::mem::take(&mut self.open_http).merge(router);
    }

    /// Makes `/readyz` also depend on `check`.
    pub fn add_readiness(&mut self, check: ReadinessCheck) {
        self.checks.push(check);
    }

    /// The app's drain, to run background work in one of its stages.
    pub fn drain(&self) -> &Drain {
        &self.drain
    }
}

/// One part of the system that an app can run: it mounts its services, routes, readiness
/// checks and background tasks.
pub trait Role: Send {
    /// The role's name, for logs (`ingest`).
    fn name(&self) -> &'static str;

    /// Adds the role to the app being built.
    fn mount(self: Box<Self>, mount: &mut Mount);
}

/// Entry point of the builder.
pub struct App;

impl App {
    /// An app serving as `config` says, with no roles yet.
    pub fn builder(config: AppConfig) -> AppBuilder {
        AppBuilder {
            config,
            roles: Vec::new(),
        }
    }
}

/// An app being assembled.
pub struct AppBuilder {
    config: AppConfig,
    roles: Vec<Box<dyn Role>>,
}

impl AppBuilder {
    /// Adds `role`.
    pub fn with_role(mut self, role: impl Role + 'static) -> Self {
        self.roles.push(Box::new(role));
        self
    }

    /// Adds `role` when there is one (a role this process does not run is left out).
    pub fn with_optional_role(self, role: Option<impl Role + 'static>) -> Self {
        match role {
            Some(role) => self.with_role(role),
            None => self,
        }
    }

    /// Binds both ports, mounts every role and starts serving; returns once all listen.
    pub async fn start(self) -> Result<RunningApp, AppError> {
        let AppConfig {
            name,
            grpc_addr,
            http_addr,
            grace,
            tls,
            http_tls,
            tokens,
            max_concurrent_calls,
        } = self.config;
        let (grpc_listener, grpc_addr) = bind(&grpc_addr).await?;
        let (http_listener, http_addr) = bind(&http_addr).await?;
        let drain = Drain::new(grace);
        let mut mount = Mount {
            grpc: GrpcRoutes::new()
                .with_tls(tls)
                .require_bearer(tokens.clone())
                .limit_concurrent_calls(max_concurrent_calls),
            http: Router::new(),
            open_http: Router::new(),
            serves_data_over_http: false,
            checks: Vec::new(),
            drain: drain.clone(),
        };
        let roles: Vec<&'static str> = self.roles.iter().map(|r| r.name()).collect();
        for role in self.roles {
            role.mount(&mut mount);
        }
        let Mount {
            grpc,
            http,
            open_http,
            serves_data_over_http,
            checks,
            ..
        } = mount;
        // Probes and metrics alone stay plaintext (the kubelet, Prometheus, the console's
        // scrapes); a port that serves data speaks TLS whenever gRPC does.
        let http_tls = http_tls.filter(|_| serves_data_over_http);
        let http = guard_data_routes(http, tokens, http_tls.as_ref());
        let failed = drain.failure_token();
        let ready = readiness(move || {
            let (checks, failed) = (checks.clone(), failed.clone());
            async move {
                if failed.is_cancelled() {
                    return Err(NotReady::because("a task of this app failed"));
                }
                for check in &checks {
                    check().await?;
                }
                Ok(())
            }
        });
        let router = http
            .merge(open_http)
            .merge(probe_routes(ready, drain.token(Stage::Traffic)));
        let serving = drain.token(Stage::Serving);
        drain.spawn(
            Stage::Serving,
            "grpc server",
            grpc.serve(grpc_listener, serving.clone()),
        );
        let http_tls_on = http_tls.is_some();
        match http_tls {
            Some(tls) => drain.spawn(
                Stage::Serving,
                "https server",
                crate::http_tls::serve_tls(http_listener, router, tls, serving),
            ),
            None => drain.spawn(
                Stage::Serving,
                "http server",
                serve(http_listener, router, serving),
            ),
        }
        let http_tls = http_tls_on;
        tracing::info!(app = name, ?roles, %grpc_addr, %http_addr, http_tls, "listening");
        Ok(RunningApp {
            grpc_addr,
            http_addr,
            drain,
        })
    }

    /// Starts the app and runs it until SIGINT, SIGTERM or a failed task, then drains.
    pub async fn run(self) -> Result<(), AppError> {
        self.start().await?.run_until_signal().await
    }
}

/// The roles' data routes behind the app's bearer tokens and, with mutual TLS, its client
/// certificates.
fn guard_data_routes(
    http: Router,
    tokens: Option<BearerTokens>,
    tls: Option<&crate::tls::HttpTls>,
) -> Router {
    let http = match tokens {
        Some(tokens) => http.layer(axum::middleware::from_fn_with_state(
            tokens,
            crate::http_auth::require_bearer,
        )),
        None => http,
    };
    if tls.is_some_and(|tls| tls.requires_client_certificate) {
        http.layer(axum::middleware::from_fn(
            crate::http_auth::require_client_certificate,
        ))
    } else {
        http
    }
}

/// A started app.
pub struct RunningApp {
    /// Where gRPC listens.
    pub grpc_addr: SocketAddr,
    /// Where HTTP listens.
    pub http_addr: SocketAddr,
    drain: Drain,
}

impl RunningApp {
    /// The app's drain (to watch for a failure, or to add work).
    pub fn drain(&self) -> &Drain {
        &self.drain
    }

    /// Waits for SIGINT, SIGTERM or a failed task, then drains.
    pub async fn run_until_signal(self) -> Result<(), AppError> {
        let failed = self.drain.failure_token();
        tokio::select! {
            signal = crate::shutdown::wait_for_signal() => {
                tracing::info!(signal, "shutdown requested; draining");
            }
            () = failed.cancelled() => {}
        }
        self.shutdown().await
    }

    /// Drains every stage in order within the grace period.
    pub async fn shutdown(self) -> Result<(), AppError> {
        self.drain.run().await?;
        tracing::info!("drained");
        Ok(())
    }
}
