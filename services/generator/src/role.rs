//! [`GeneratorRole`]: GeneratorService mounted on an app, with its traffic runs (and, when
//! asked, steady traffic and the PaymentTraffic controller) stopped first in a drain.

use crate::config::GeneratorArgs;
use crate::ingest_client::IngestClientError;
use crate::runs::RunRegistry;
use crate::{GeneratorConfig, GeneratorGrpc, PaymentGenerator, TrafficCounters, TrafficRun};
use payments_bus::Bus;
use payments_ingest::{Ingest, IngestConnection, IngestRole, bus_readiness};
use payments_runtime::{AppConfig, AppError, Mount, Role, ServeFlags, Shutdown, Stage};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// Why the generator role could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum GeneratorRoleError {
    /// The bus for runs without a target could not be reached.
    #[error("connecting to bus {url}")]
    Bus {
        /// The bus URL.
        url: String,
        /// What the bus answered.
        #[source]
        source: payments_bus::Error,
    },
    /// A flag on how to reach remote ingest is wrong.
    #[error(transparent)]
    IngestClient(#[from] IngestClientError),
    /// The Kubernetes API could not be reached.
    #[cfg(feature = "kubernetes")]
    #[error("connecting to the Kubernetes API (in-cluster service account or ~/.kube/config)")]
    Kubernetes(#[source] kube::Error),
    /// PaymentTraffic objects cannot be watched.
    #[cfg(feature = "kubernetes")]
    #[error(transparent)]
    Controller(#[from] crate::traffic_resource::ControllerError),
}

type Background = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The generator role.
pub struct GeneratorRole {
    service: GeneratorGrpc,
    stop_runs: Shutdown,
    local: Option<Arc<dyn Ingest>>,
    bus: Option<Bus>,
    steady: Option<TrafficRun>,
    traffic: Arc<TrafficCounters>,
    controller: Option<Background>,
}

impl GeneratorRole {
    /// A generator whose populations hold `customers` customers; runs naming no target
    /// submit to `local` (refused when `None`), others reach their target as `remote` says.
    pub fn new(customers: usize, local: Option<Arc<dyn Ingest>>, remote: IngestConnection) -> Self {
        let stop_runs = Shutdown::new();
        Self {
            service: GeneratorGrpc::new(customers, local.clone(), remote, stop_runs.clone()),
            stop_runs,
            local,
            bus: None,
            steady: None,
            traffic: Arc::default(),
            controller: None,
        }
    }

    /// The generator as the `payments-generator` flags describe: with `--bus`, runs naming no
    /// target go through an ingest of its own onto that bus; with `--watch-payment-traffic`,
    /// PaymentTraffic objects start runs.
    pub async fn connect(args: &GeneratorArgs) -> Result<Self, GeneratorRoleError> {
        let remote = args
            .ingest
            .connection(args.traffic.traffic_default_target.as_deref())?;
        let bus = match &args.bus {
            Some(url) => Some(
                Bus::connect_networked(url, "payments-generator", &[&args.topic])
                    .await
                    .map_err(|source| GeneratorRoleError::Bus {
                        url: url.clone(),
                        source,
                    })?,
            ),
            None => None,
        };
        let local = bus
            .as_ref()
            .map(|bus| IngestRole::new(bus.clone(), &args.topic, args.key).local());
        let mut role = Self::new(args.customers, local, remote);
        role.bus = bus;
        #[cfg(feature = "kubernetes")]
        if args.traffic.watch_payment_traffic {
            role = role.watching_payment_traffic(args).await?;
        }
        Ok(role)
    }

    #[cfg(feature = "kubernetes")]
    async fn watching_payment_traffic(
        mut self,
        args: &GeneratorArgs,
    ) -> Result<Self, GeneratorRoleError> {
        use crate::traffic_resource::{TrafficContext, TrafficWatch};
        let client = kube::Client::try_default()
            .await
            .map_err(GeneratorRoleError::Kubernetes)?;
        let context = Arc::new(TrafficContext::new(
            client,
            self.runs(),
            args.traffic.traffic_default_target.clone(),
            self.stop_runs.clone(),
        ));
        let watch =
            TrafficWatch::connect(args.traffic.traffic_namespace.as_deref(), context).await?;
        self.controller = Some(Box::pin(watch.run()));
        Ok(self)
    }

    /// The same generator, also sending `rate` payments per second (seeded by `seed`) to its
    /// local ingest from start to drain.
    pub fn with_steady_traffic(mut self, rate: u64, seed: u64, customers: usize) -> Self {
        self.steady = Some(TrafficRun {
            rate,
            count: None,
            duration: None,
            burst: None,
            generator: PaymentGenerator::new(GeneratorConfig {
                seed,
                customers,
                ..Default::default()
            }),
        });
        self
    }

    /// Its long runs (StartRun).
    pub fn runs(&self) -> Arc<RunRegistry> {
        self.service.runs()
    }

    /// Counters of the steady traffic (zero without it).
    pub fn traffic_counters(&self) -> Arc<TrafficCounters> {
        self.traffic.clone()
    }
}

impl Role for GeneratorRole {
    fn name(&self) -> &'static str {
        "generator"
    }

    fn mount(self: Box<Self>, mount: &mut Mount) {
        let Self {
            service,
            stop_runs,
            local,
            bus,
            steady,
            traffic,
            controller,
        } = *self;
        let runs = service.runs();
        mount.add_grpc_service(service.into_server());
        let drain = mount.drain();
        if let Some(run) = steady {
            match local {
                Some(local) => {
                    // Steady traffic stops with the runs.
                    let stop = stop_runs.child_token();
                    drain.spawn(Stage::Traffic, "steady traffic", async move {
                        run.run(local, traffic, stop).await;
                        Ok::<_, std::convert::Infallible>(())
                    });
                }
                None => tracing::warn!("steady traffic asked for without an ingest to send it to"),
            }
        }
        if let Some(controller) = controller {
            drain.spawn(Stage::Traffic, "payment traffic controller", async move {
                controller.await;
                Ok::<_, std::convert::Infallible>(())
            });
        }
        let token = drain.token(Stage::Traffic);
        drain.spawn(Stage::Traffic, "traffic runs", async move {
            token.cancelled().await;
            stop_runs.cancel();
            runs.wait_stopped().await;
            Ok::<_, std::convert::Infallible>(())
        });
        if let Some(bus) = bus {
            mount.add_readiness(bus_readiness(bus));
        }
    }
}

impl ServeFlags for GeneratorArgs {
    fn app_config(&self) -> Result<AppConfig, AppError> {
        let grace = Duration::from_secs(self.shutdown_grace);
        Ok(AppConfig::new(
            "payments-generator",
            &self.grpc_addr,
            &self.http_addr,
            grace,
        )
        .with_tls_flags(&self.tls)?
        .with_tokens_file(self.auth_tokens_file.as_deref())?)
    }
}
