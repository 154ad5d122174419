//! The controller loop: watches PaymentTraffic objects and reconciles each change.

use super::reconcile::FINALIZER;
use super::reconcile::{TrafficContext, reconcile, retry_after_error};
use super::resource::PaymentTraffic;
use futures::StreamExt;
use kube::ResourceExt;
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::runtime::{Controller, watcher};
use std::sync::Arc;

/// Why the controller could not start.
#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    /// PaymentTraffic objects cannot be listed: the CRD is missing or the service account
    /// may not read them.
    #[error(
        "cannot list PaymentTraffic objects in {scope}: {source}; install the CRD \
         (helm/payments/crds/paymenttraffics.yaml, or `payments-generator --print-crd | \
         kubectl apply -f -`) and let the generator's service account read them"
    )]
    CannotList {
        /// The namespace watched, or "every namespace".
        scope: String,
        /// What the API answered.
        source: kube::Error,
    },
}

/// A checked watch on PaymentTraffic objects, ready to run.
pub struct TrafficWatch {
    api: Api<PaymentTraffic>,
    context: Arc<TrafficContext>,
}

impl TrafficWatch {
    /// Checks that PaymentTraffic objects in `namespace` (every namespace when `None`) can
    /// be read with the context's client.
    pub async fn connect(
        namespace: Option<&str>,
        context: Arc<TrafficContext>,
    ) -> Result<Self, ControllerError> {
        let client = context.client.clone();
        let (api, scope): (Api<PaymentTraffic>, String) = match namespace {
            Some(ns) => (Api::namespaced(client, ns), format!("namespace {ns}")),
            None => (Api::all(client), "every namespace".to_owned()),
        };
        api.list(&ListParams::default().limit(1))
            .await
            .map_err(|source| ControllerError::CannotList {
                scope: scope.clone(),
                source,
            })?;
        tracing::info!(%scope, "watching payment traffic");
        Ok(Self { api, context })
    }

    /// Reconciles every change until the context's shutdown is cancelled, then lets go of
    /// the objects (see [`release_finalizers`]).
    pub async fn run(self) {
        let shutdown = self.context.shutdown.clone();
        Controller::new(self.api.clone(), watcher::Config::default())
            .graceful_shutdown_on(async move { shutdown.cancelled_owned().await })
            .run(reconcile, retry_after_error, self.context)
            .for_each(|outcome| async move {
                if let Err(error) = outcome {
                    tracing::debug!(%error, "payment traffic controller event");
                }
            })
            .await;
        match release_finalizers(&self.api).await {
            Ok(released) => tracing::info!(released, "payment traffic controller stopped"),
            Err(error) => {
                tracing::warn!(%error, "payment traffic controller stopped; finalizers not released");
            }
        }
    }
}

/// Removes this controller's finalizer from every PaymentTraffic `api` sees; returns how
/// many it released. Runs live in the generator's process and end with it, so a stopping
/// generator has nothing left to stop on delete: without this, objects deleted while no
/// generator runs (`helm uninstall`, a namespace deleted) would hang in Terminating. The next
/// generator adds the finalizer back when it takes an object over.
pub async fn release_finalizers(api: &Api<PaymentTraffic>) -> Result<usize, kube::Error> {
    let mut released = 0;
    for traffic in api.list(&ListParams::default()).await? {
        let finalizers = traffic.finalizers();
        if !finalizers.iter().any(|f| f == FINALIZER) {
            continue;
        }
        let rest: Vec<&String> = finalizers.iter().filter(|f| *f != FINALIZER).collect();
        // The resourceVersion makes the patch fail rather than drop a finalizer added since.
        let patch = serde_json::json!({
            "metadata": {
                "finalizers": rest,
                "resourceVersion": traffic.resource_version(),
            }
        });
        let name = traffic.name_any();
        let namespaced: Api<PaymentTraffic> = match traffic.namespace() {
            Some(ns) => Api::namespaced(api.clone().into_client(), &ns),
            None => api.clone(),
        };
        namespaced
            .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
        released += 1;
    }
    Ok(released)
}
