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
    /// Bearer tokens every gRPC call but health and reflection must carry (none: open).
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
            tokens: None,
            max_concurrent_calls: None,
        }
    }

    /// The same app serving gRPC over the TLS its flags describe (plaintext without them).
    pub fn with_tls_flags(mut self, flags: &ServerTlsArgs) -> Result<Self, PemError> {
        self.tls = flags.server_config()?;
        Ok(self)
    }

    /// The same app requiring a bearer token from `file` on every gRPC call (none: open).
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
    checks: Vec<ReadinessCheck>,
    drain: Drain,
}

impl Mount {
    /// Serves `service` on the app's gRPC port (with health and reflection for it).
    pub fn add_grpc_service<S: GrpcService>(&mut self, service: S) {
        self.grpc = std::mem::take(&mut self.grpc).add_service(service);
    }

    /// Serves `router`'s routes on the app's HTTP port.
    pub fn merge_http(&mut self, router: Router) {
        self.http = std::mem::take(&mut self.http).merge(router);
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
            tokens,
            max_concurrent_calls,
        } = self.config;
        let (grpc_listener, grpc_addr) = bind(&grpc_addr).await?;
        let (http_listener, http_addr) = bind(&http_addr).await?;
        let drain = Drain::new(grace);
        let mut mount = Mount {
            grpc: GrpcRoutes::new()
                .with_tls(tls)
                .require_bearer(tokens)
                .limit_concurrent_calls(max_concurrent_calls),
            http: Router::new(),
            checks: Vec::new(),
            drain: drain.clone(),
        };
        let roles: Vec<&'static str> = self.roles.iter().map(|r| r.name()).collect();
        for role in self.roles {
            role.mount(&mut mount);
        }
        let Mount {
            grpc, http, checks, ..
        } = mount;
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
        let router = http.merge(probe_routes(ready, drain.token(Stage::Traffic)));
        let serving = drain.token(Stage::Serving);
        drain.spawn(
            Stage::Serving,
            "grpc server",
            grpc.serve(grpc_listener, serving.clone()),
        );
        drain.spawn(
            Stage::Serving,
            "http server",
            serve(http_listener, router, serving),
        );
        tracing::info!(app = name, ?roles, %grpc_addr, %http_addr, "listening");
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
