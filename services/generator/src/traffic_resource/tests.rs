//! The reconciler against a mocked Kubernetes API server (an in-memory store of
//! PaymentTraffic objects answering kube's GET and PATCH calls as the API server does) and
//! a real [`RunRegistry`] whose runs submit to a counting sink.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::runs::RunRegistry;
use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::BodyExt;
use kube::api::ObjectMeta;
use payments_core::pb;
use payments_ingest::{Ingest, IngestConnection};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const NAMESPACE: &str = "payments";
const COLLECTION: &str = "/apis/payments.dev/v1alpha1/namespaces/payments/paymenttraffics/";

/// PaymentTraffic objects as the API server would keep them.
#[derive(Default)]
struct MockApiServer {
    objects: Mutex<BTreeMap<String, Value>>,
    resource_version: AtomicU64,
    /// Every call, as "METHOD path".
    calls: Mutex<Vec<String>>,
}

impl MockApiServer {
    fn create(&self, traffic: &PaymentTraffic) {
        let mut object = serde_json::to_value(traffic).unwrap();
        let name = traffic.metadata.name.clone().unwrap();
        object["metadata"]["generation"] = json!(1);
        object["metadata"]["resourceVersion"] = json!("1");
        object["metadata"]["uid"] = json!(format!("uid-{name}"));
        self.objects.lock().unwrap().insert(name, object);
    }

    /// What `kubectl edit` of the spec does: a new spec and the next generation.
    fn edit_spec(&self, name: &str, spec: &PaymentTrafficSpec) {
        let mut objects = self.objects.lock().unwrap();
        let object = objects.get_mut(name).unwrap();
        object["spec"] = serde_json::to_value(spec).unwrap();
        let generation = object["metadata"]["generation"].as_i64().unwrap();
        object["metadata"]["generation"] = json!(generation + 1);
    }

    fn get(&self, name: &str) -> Option<PaymentTraffic> {
        let objects = self.objects.lock().unwrap();
        objects
            .get(name)
            .map(|o| serde_json::from_value(o.clone()).unwrap())
    }

    /// What `kubectl delete` does to an object with finalizers: marks it.
    fn mark_deleted(&self, name: &str) {
        let mut objects = self.objects.lock().unwrap();
        objects.get_mut(name).unwrap()["metadata"]["deletionTimestamp"] =
            json!("2026-11-25T12:00:00Z");
    }

    fn handle(
        &self,
        method: &http::Method,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> (u16, Value) {
        self.calls.lock().unwrap().push(format!("{method} {path}"));
        if method == http::Method::GET && format!("{path}/") == COLLECTION {
            let items: Vec<Value> = self.objects.lock().unwrap().values().cloned().collect();
            return (
                200,
                json!({"kind": "PaymentTrafficList", "apiVersion": "payments.dev/v1alpha1",
                       "metadata": {"resourceVersion": "1"}, "items": items}),
            );
        }
        let Some(rest) = path.strip_prefix(COLLECTION) else {
            return (404, status(404, "NotFound", &format!("no route {path}")));
        };
        let (name, subresource) = match rest.split_once('/') {
            Some((name, sub)) => (name, Some(sub)),
            None => (rest, None),
        };
        let mut objects = self.objects.lock().unwrap();
        let Some(object) = objects.get_mut(name) else {
            return (
                404,
                status(
                    404,
                    "NotFound",
                    &format!("paymenttraffics {name:?} not found"),
                ),
            );
        };
        match (method.as_str(), subresource) {
            ("GET", None) => return (200, object.clone()),
            ("PATCH", None) if content_type == "application/json-patch+json" => {
                let patch: json_patch::Patch = serde_json::from_slice(body).unwrap();
                let mut patched = object.clone();
                // Like the API server's JSON patch, a missing field tests equal to null.
                let metadata = patched["metadata"].as_object_mut().unwrap();
                metadata.entry("finalizers").or_insert(Value::Null);
                if let Err(e) = json_patch::patch(&mut patched, &patch) {
                    return (422, status(422, "Invalid", &e.to_string()));
                }
                if patched["metadata"]["finalizers"].is_null() {
                    patched["metadata"]
                        .as_object_mut()
                        .unwrap()
                        .remove("finalizers");
                }
                *object = patched;
            }
            ("PATCH", None) if content_type == "application/merge-patch+json" => {
                let patch: Value = serde_json::from_slice(body).unwrap();
                // resourceVersion in a patch is a precondition, as the API server treats it.
                if let Some(expected) = patch["metadata"]["resourceVersion"].as_str()
                    && object["metadata"]["resourceVersion"].as_str() != Some(expected)
                {
                    return (409, status(409, "Conflict", "the object has been modified"));
                }
                json_patch::merge(object, &patch);
            }
            ("PATCH", Some("status")) if content_type == "application/merge-patch+json" => {
                let patch: Value = serde_json::from_slice(body).unwrap();
                // The status subresource changes only the status.
                let mut status_doc =
                    json!({ "status": object.get("status").cloned().unwrap_or(Value::Null) });
                json_patch::merge(&mut status_doc, &json!({ "status": patch["status"] }));
                object["status"] = status_doc["status"].clone();
            }
            _ => {
                return (
                    405,
                    status(405, "MethodNotAllowed", &format!("{method} {path}")),
                );
            }
        }
        let version = self.resource_version.fetch_add(1, Ordering::Relaxed) + 2;
        object["metadata"]["resourceVersion"] = json!(version.to_string());
        let answer = object.clone();
        let deleting = object["metadata"].get("deletionTimestamp").is_some();
        let finalizers = object["metadata"]["finalizers"]
            .as_array()
            .map_or(0, Vec::len);
        if deleting && finalizers == 0 {
            objects.remove(name);
        }
        (200, answer)
    }
}

fn status(code: u16, reason: &str, message: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
           "message": message, "reason": reason, "code": code})
}

/// A kube client whose every call the mock answers.
fn client_of(mock: Arc<MockApiServer>) -> kube::Client {
    let service = tower::service_fn(move |request: http::Request<kube::client::Body>| {
        let mock = mock.clone();
        async move {
            let (parts, body) = request.into_parts();
            let body = body.collect().await.unwrap().to_bytes();
            let content_type = parts
                .headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let (code, answer) = mock.handle(&parts.method, parts.uri.path(), &content_type, &body);
            let response = http::Response::builder()
                .status(code)
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(kube::client::Body::from(Bytes::from(
                    serde_json::to_vec(&answer).unwrap(),
                )))
                .unwrap();
            Ok::<_, Infallible>(response)
        }
    });
    kube::Client::new(service, NAMESPACE)
}

/// Accepts every payment and counts them.
#[derive(Default)]
struct CountingSink {
    accepted: AtomicU64,
}

#[async_trait]
impl Ingest for CountingSink {
    async fn submit_batch(
        &self,
        payments: &[pb::Payment],
    ) -> Result<pb::SubmitPaymentsResponse, tonic::Status> {
        let accepted = payments.len() as u64;
        self.accepted.fetch_add(accepted, Ordering::Relaxed);
        Ok(pb::SubmitPaymentsResponse {
            received: accepted,
            accepted,
            ..Default::default()
        })
    }
}

struct Harness {
    mock: Arc<MockApiServer>,
    sink: Arc<CountingSink>,
    context: Arc<TrafficContext>,
}

impl Harness {
    fn new() -> Self {
        let mock = Arc::new(MockApiServer::default());
        let sink = Arc::new(CountingSink::default());
        let shutdown = payments_runtime::Shutdown::new();
        let runs = Arc::new(RunRegistry::new(
            200,
            Some(sink.clone() as Arc<dyn Ingest>),
            IngestConnection::default(),
            shutdown.clone(),
        ));
        let context = Arc::new(TrafficContext::new(
            client_of(mock.clone()),
            runs,
            None,
            shutdown,
        ));
        Self {
            mock,
            sink,
            context,
        }
    }

    /// Reconciles `name` as the controller would on each change, until `done` holds or
    /// the object is gone; returns the phases it went through, in order, without repeats.
    async fn drive(&self, name: &str, done: impl Fn(&PaymentTraffic) -> bool) -> Vec<Phase> {
        let mut phases: Vec<Phase> = Vec::new();
        for _ in 0..600 {
            let Some(traffic) = self.mock.get(name) else {
                break;
            };
            if let Some(phase) = traffic.status.as_ref().and_then(|s| s.phase)
                && phases.last() != Some(&phase)
            {
                phases.push(phase);
            }
            if done(&traffic) {
                break;
            }
            reconcile(Arc::new(traffic), self.context.clone())
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        phases
    }
}

fn traffic(name: &str, spec: PaymentTrafficSpec) -> PaymentTraffic {
    PaymentTraffic {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            uid: Some(format!("uid-{name}")),
            namespace: Some(NAMESPACE.to_owned()),
            ..Default::default()
        },
        spec,
        status: None,
    }
}

fn spec(rate: u64, count: Option<u64>) -> PaymentTrafficSpec {
    PaymentTrafficSpec {
        rate,
        count,
        duration_seconds: None,
        seed: Some(7),
        types: vec!["ach".into(), "wire".into(), "sepa".into()],
        scenario_rate: None,
        target: None,
    }
}

fn phase_of(traffic: &PaymentTraffic) -> Option<Phase> {
    traffic.status.as_ref().and_then(|s| s.phase)
}

#[tokio::test]
async fn payment_traffic_goes_pending_running_completed_with_the_generators_counts() {
    let harness = Harness::new();
    harness
        .mock
        .create(&traffic("steady", spec(2_000, Some(600))));

    let phases = harness
        .drive("steady", |t| phase_of(t) == Some(Phase::Completed))
        .await;

    assert_eq!(phases, [Phase::Pending, Phase::Running, Phase::Completed]);
    let done = harness.mock.get("steady").unwrap();
    assert_eq!(done.metadata.finalizers, Some(vec![FINALIZER.to_owned()]));
    let status = done.status.unwrap();
    let produced = harness.sink.accepted.load(Ordering::Relaxed);
    assert_eq!(produced, 600, "the sink received what the spec asked for");
    assert_eq!(status.generated, 600);
    assert_eq!(status.acknowledged, produced);
    assert_eq!(status.rejected, 0);
    let run = harness
        .context
        .runs
        .get(status.run_id.as_deref().unwrap())
        .unwrap();
    assert_eq!((run.generated, run.acknowledged), (600, 600));
    assert!(status.started_at.is_some() && status.finished_at.is_some());
    assert_eq!(status.observed_generation, Some(1));
    assert_eq!(status.message, None);
}

#[tokio::test]
async fn deleting_a_running_payment_traffic_stops_its_run_and_releases_the_object() {
    let harness = Harness::new();
    harness.mock.create(&traffic("endless", spec(500, None)));
    let phases = harness
        .drive("endless", |t| {
            phase_of(t) == Some(Phase::Running)
                && t.status.as_ref().is_some_and(|s| s.generated > 0)
        })
        .await;
    assert_eq!(phases, [Phase::Pending, Phase::Running]);
    let run_id = harness
        .mock
        .get("endless")
        .unwrap()
        .status
        .unwrap()
        .run_id
        .unwrap();

    harness.mock.mark_deleted("endless");
    harness.drive("endless", |_| false).await;

    assert!(
        harness.mock.get("endless").is_none(),
        "the finalizer was not removed"
    );
    let run = harness.context.runs.get(&run_id).unwrap();
    assert_eq!(run.state, pb::RunState::Stopped as i32);
    let stopped_at = run.generated;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        harness.context.runs.get(&run_id).unwrap().generated,
        stopped_at,
        "the run went on after its object was deleted"
    );
    assert_eq!(
        harness.sink.accepted.load(Ordering::Relaxed),
        run.acknowledged
    );
}

#[tokio::test]
async fn a_bad_spec_fails_with_the_field_named_and_starts_nothing() {
    let harness = Harness::new();
    let mut bad = spec(100, Some(10));
    bad.types = vec!["ach".into(), "bitcoin".into()];
    harness.mock.create(&traffic("bad-type", bad));
    let mut zero_rate = spec(0, Some(10));
    zero_rate.types.clear();
    harness.mock.create(&traffic("zero-rate", zero_rate));

    for (name, says) in [
        (
            "bad-type",
            "spec.types[1]: \"bitcoin\" is not a payment type",
        ),
        ("zero-rate", "spec.rate"),
    ] {
        let phases = harness
            .drive(name, |t| phase_of(t).is_some_and(Phase::is_final))
            .await;
        assert_eq!(phases, [Phase::Pending, Phase::Failed], "{name}");
        let message = harness
            .mock
            .get(name)
            .unwrap()
            .status
            .unwrap()
            .message
            .unwrap();
        assert!(message.contains(says), "{name}: {message}");
    }
    assert!(harness.context.runs.list().is_empty());
    // A failed object is left alone until it changes.
    let calls = harness.mock.calls.lock().unwrap().len();
    let failed = harness.mock.get("bad-type").unwrap();
    reconcile(Arc::new(failed), harness.context.clone())
        .await
        .unwrap();
    assert_eq!(harness.mock.calls.lock().unwrap().len(), calls);

    // Fixing its spec runs it.
    harness.mock.edit_spec("bad-type", &spec(2_000, Some(50)));
    let phases = harness
        .drive("bad-type", |t| phase_of(t) == Some(Phase::Completed))
        .await;
    assert_eq!(
        phases,
        [
            Phase::Failed,
            Phase::Pending,
            Phase::Running,
            Phase::Completed
        ]
    );
    let status = harness.mock.get("bad-type").unwrap().status.unwrap();
    assert_eq!(
        (status.acknowledged, status.observed_generation),
        (50, Some(2))
    );
}

#[tokio::test]
async fn editing_a_running_spec_stops_the_old_run_and_starts_the_new_one() {
    let harness = Harness::new();
    harness.mock.create(&traffic("edited", spec(300, None)));
    harness
        .drive("edited", |t| phase_of(t) == Some(Phase::Running))
        .await;
    let first = harness
        .mock
        .get("edited")
        .unwrap()
        .status
        .unwrap()
        .run_id
        .unwrap();

    harness.mock.edit_spec("edited", &spec(2_000, Some(80)));
    harness
        .drive("edited", |t| phase_of(t) == Some(Phase::Completed))
        .await;

    let first_run = harness.context.runs.get(&first).unwrap();
    assert_eq!(first_run.state, pb::RunState::Stopped as i32);
    let status = harness.mock.get("edited").unwrap().status.unwrap();
    assert_ne!(status.run_id.as_deref(), Some(first.as_str()));
    assert_eq!(status.acknowledged, 80);
    assert_eq!(harness.context.runs.list().len(), 2);
}

#[tokio::test]
async fn a_stale_view_of_a_pending_object_does_not_start_a_second_run() {
    let harness = Harness::new();
    harness.mock.create(&traffic("once", spec(100, None)));
    harness
        .drive("once", |t| phase_of(t) == Some(Phase::Pending))
        .await;
    let pending = Arc::new(harness.mock.get("once").unwrap());
    // The controller's cache may hand the same Pending object over twice.
    reconcile(pending.clone(), harness.context.clone())
        .await
        .unwrap();
    reconcile(pending, harness.context.clone()).await.unwrap();
    assert_eq!(harness.context.runs.list().len(), 1);
    assert_eq!(
        phase_of(&harness.mock.get("once").unwrap()),
        Some(Phase::Running)
    );
}

#[tokio::test]
async fn a_stopping_controller_releases_its_finalizers_so_deletes_do_not_hang() {
    let harness = Harness::new();
    harness.mock.create(&traffic("kept", spec(2_000, Some(20))));
    harness
        .drive("kept", |t| phase_of(t) == Some(Phase::Completed))
        .await;
    harness
        .mock
        .create(&traffic("deleting", spec(100, Some(10))));
    harness
        .drive("deleting", |t| phase_of(t) == Some(Phase::Running))
        .await;
    harness.mock.mark_deleted("deleting");
    let api: kube::Api<PaymentTraffic> =
        kube::Api::namespaced(harness.context.client.clone(), NAMESPACE);

    assert_eq!(release_finalizers(&api).await.unwrap(), 2);

    let kept = harness.mock.get("kept").unwrap();
    assert_eq!(kept.metadata.finalizers, Some(vec![]));
    assert!(
        harness.mock.get("deleting").is_none(),
        "a deleted object was kept by our finalizer"
    );
    assert_eq!(release_finalizers(&api).await.unwrap(), 0);
}

#[tokio::test]
async fn a_run_lost_to_a_generator_restart_is_started_again() {
    let harness = Harness::new();
    let mut lost = traffic("lost", spec(2_000, Some(100)));
    lost.status = Some(PaymentTrafficStatus {
        phase: Some(Phase::Running),
        run_id: Some("run-from-the-last-generator".into()),
        generated: 40,
        ..Default::default()
    });
    lost.metadata.finalizers = Some(vec![FINALIZER.to_owned()]);
    harness.mock.create(&lost);

    let phases = harness
        .drive("lost", |t| phase_of(t) == Some(Phase::Completed))
        .await;

    assert_eq!(
        phases,
        [
            Phase::Running,
            Phase::Pending,
            Phase::Running,
            Phase::Completed
        ]
    );
    let status = harness.mock.get("lost").unwrap().status.unwrap();
    assert_ne!(
        status.run_id.as_deref(),
        Some("run-from-the-last-generator")
    );
    assert_eq!(status.acknowledged, 100);
}

#[test]
fn the_crd_in_the_chart_is_the_one_the_rust_types_generate() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../helm/payments/crds/paymenttraffics.yaml");
    let shipped = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    assert!(
        shipped == crd_yaml().unwrap(),
        "{} is out of date: regenerate it with \
         `cargo run -p payments-generator -- --print-crd > helm/payments/crds/paymenttraffics.yaml`",
        path.display()
    );
}

#[test]
fn the_example_payment_traffic_is_a_valid_object() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/examples/traffic.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let example: PaymentTraffic = serde_yaml::from_str(&text).unwrap();
    assert!(example.spec.to_run_spec(Some("ingest:50054")).is_ok());
}
