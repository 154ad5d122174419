//! `PaymentTraffic`, a Kubernetes custom resource for traffic runs: `kubectl apply` starts
//! a run on this generator, `kubectl get paymenttraffic` shows its progress, deleting the
//! object stops it. The CRD YAML is generated from the Rust types ([`crd_yaml`]).
//!
//! One generator replica should watch a namespace: two would each start a run for the
//! same object.

mod controller;
mod ledger;
mod reconcile;
mod resource;
#[cfg(test)]
mod tests;

pub use controller::{ControllerError, TrafficWatch, release_finalizers};
pub use reconcile::{
    FINALIZER, PROGRESS_INTERVAL, ReconcileError, StepError, TrafficContext, reconcile,
    retry_after_error,
};
pub use resource::{PaymentTraffic, PaymentTrafficSpec, PaymentTrafficStatus, Phase, crd_yaml};
