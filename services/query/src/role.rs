//! [`QueryRole`]: QueryService, the seed's HTTP routes and (when asked) the web console,
//! mounted on an app, all reading one store.

use crate::config::QueryArgs;
use crate::{AccountView, QueryGrpc, console_from_args, health_route, http_routes, openapi_routes};
use payments_console::ConsoleRoutes;
use payments_runtime::http::{NotReady, readiness};
use payments_runtime::{AppConfig, AppError, Mount, Role, ServeFlags, Shutdown, Stage};
use payments_store::{CachedStore, Store};
use std::sync::Arc;
use std::time::Duration;

/// Why the query role could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum QueryRoleError {
    /// The store (or the cache) could not be opened.
    #[error("opening {what} {url}")]
    Store {
        /// `store` or `cache`.
        what: &'static str,
        /// The URL given.
        url: String,
        /// What the store answered.
        #[source]
        source: payments_store::Error,
    },
    /// The cache is not a Redis URL.
    #[error("cache {0}: the cache must be a redis:// URL")]
    CacheNotRedis(String),
    /// The console could not be set up.
    #[error(transparent)]
    Console(#[from] crate::ConsoleSetupError),
}

/// The query role.
pub struct QueryRole {
    store: Arc<dyn Store>,
    accounts: AccountView,
    console: Option<ConsoleRoutes>,
    /// Whether the console's page is served without a token (`--console-despite-auth`).
    console_page_open: bool,
    console_stop: Shutdown,
}

impl QueryRole {
    /// Queries over `store`, showing account numbers as `accounts` says.
    pub fn new(store: Arc<dyn Store>, accounts: AccountView) -> Self {
        Self {
            store,
            accounts,
            console: None,
            console_page_open: false,
            console_stop: Shutdown::new(),
        }
    }

    /// The query service as the `payments-query` flags describe.
    pub async fn connect(args: &QueryArgs) -> Result<Self, QueryRoleError> {
        let opened = |what, url: &str| {
            let url = url.to_owned();
            move |source| QueryRoleError::Store { what, url, source }
        };
        let mut store = payments_store::open(&args.store)
            .await
            .map_err(opened("store", &args.store))?;
        if let Some(url) = &args.cache {
            if !url.starts_with("redis://") {
                return Err(QueryRoleError::CacheNotRedis(url.clone()));
            }
            let cache = payments_store::redis::RedisSink::open(url)
                .await
                .map_err(opened("cache", url))?;
            store = Arc::new(CachedStore::new(store, Arc::new(cache)));
        }
        tracing::info!(store = %store.describe(), "serving queries");
        let accounts = if args.reveal_accounts {
            AccountView::Full
        } else {
            AccountView::MaskedUnlessAllowed
        };
        let mut role = Self::new(store, accounts);
        let requires_tokens = args.auth_tokens_file.is_some();
        let stop = role.console_stop();
        role.console =
            console_from_args(&args.console, role.store(), requires_tokens, stop).await?;
        role.console_page_open = requires_tokens && args.console.console_despite_auth;
        Ok(role)
    }

    /// The store it reads.
    pub fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    /// Cancelled when the app drains: what the console runs in the background watches it.
    pub fn console_stop(&self) -> Shutdown {
        self.console_stop.clone()
    }

    /// The same role, also serving the console's `routes` on the HTTP port.
    pub fn with_console(mut self, routes: ConsoleRoutes) -> Self {
        self.console = Some(routes);
        self
    }
}

impl Role for QueryRole {
    fn name(&self) -> &'static str {
        "query"
    }

    fn mount(self: Box<Self>, mount: &mut Mount) {
        let Self {
            store,
            accounts,
            console,
            console_page_open,
            console_stop,
        } = *self;
        mount.add_grpc_service(
            QueryGrpc::new(store.clone())
                .with_account_view(accounts)
                .into_server(),
        );
        mount.merge_open_http(health_route());
        mount.merge_open_http(openapi_routes());
        mount.merge_http(http_routes(store.clone(), accounts));
        if let Some(console) = console {
            if console_page_open {
                mount.merge_open_http(console.page);
            } else {
                mount.merge_http(console.page);
            }
            mount.merge_http(console.api);
        }
        let drain = mount.drain().token(Stage::Serving);
        mount
            .drain()
            .spawn(Stage::Serving, "console sampler", async move {
                drain.cancelled().await;
                console_stop.cancel();
                Ok::<_, std::convert::Infallible>(())
            });
        mount.add_readiness(readiness(move || {
            let store = store.clone();
            async move {
                store
                    .ping()
                    .await
                    .map_err(|e| NotReady::failed(format!("store {}", store.describe()), e))
            }
        }));
    }
}

impl ServeFlags for QueryArgs {
    fn app_config(&self) -> Result<AppConfig, AppError> {
        let grace = Duration::from_secs(self.shutdown_grace);
        Ok(
            AppConfig::new("payments-query", &self.grpc_addr, &self.http_addr, grace)
                .with_tls_flags(&self.tls)?
                .with_tokens_file(self.auth_tokens_file.as_deref())?,
        )
    }
}
