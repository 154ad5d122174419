//! The `PaymentTraffic` custom resource: a traffic run asked for with `kubectl apply`.

use kube::CustomResource;
use kube::CustomResourceExt;
use payments_core::names::parse_payment_type;
use payments_core::pb;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A traffic run: what to generate and where to send it. The generator that watches
/// PaymentTraffic objects starts the run, reports its progress in `status`, and stops it when
/// the object is deleted.
#[derive(CustomResource, Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[kube(
    group = "payments.dev",
    version = "v1alpha1",
    kind = "PaymentTraffic",
    plural = "paymenttraffics",
    shortname = "ptraffic",
    namespaced,
    status = "PaymentTrafficStatus",
    printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase"}"#,
    printcolumn = r#"{"name":"Rate","type":"integer","jsonPath":".spec.rate"}"#,
    printcolumn = r#"{"name":"Generated","type":"integer","jsonPath":".status.generated"}"#,
    printcolumn = r#"{"name":"Acknowledged","type":"integer","jsonPath":".status.acknowledged"}"#,
    printcolumn = r#"{"name":"Rejected","type":"integer","jsonPath":".status.rejected"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct PaymentTrafficSpec {
    /// Payments per second (1 to 1,000,000).
    #[schemars(range(min = 1, max = 1_000_000))]
    pub rate: u64,
    /// Stop after this many payments; unset, the run goes on until `durationSeconds` or
    /// until the object is deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// Stop after this many seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<u32>,
    /// Random seed: the same seed gives the same payments. Unset, one is drawn from the clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The rails to draw from (ach, wire, rtp, check, sepa, card, direct-debit,
    /// standing-order, p2p), each in its realistic share; empty means all of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<String>,
    /// Share of payments (0 to 0.5) that are injected, labeled AML scenarios (fan-in,
    /// scatter-gather, cycle, structuring…; 0.01 is one payment in 100); unset means none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 0.5))]
    pub scenario_rate: Option<f64>,
    /// gRPC address (`host:port`) of the IngestService to submit to; unset, the generator's
    /// default target (the chart sets it to the release's ingest service).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// Where a PaymentTraffic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum Phase {
    /// Accepted, not started yet.
    Pending,
    /// Generating.
    Running,
    /// Reached its count or duration.
    Completed,
    /// Stopped before its end (StopRun on the generator).
    Stopped,
    /// Could not run; `message` says why.
    Failed,
}

impl Phase {
    /// Whether the run is over: nothing more will happen to it.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Stopped | Self::Failed)
    }
}

/// The run's progress, as the generator reports it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentTrafficStatus {
    /// Where the run is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<Phase>,
    /// The generator's id for the run (`GeneratorService/GetRun`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// Payments generated so far.
    #[serde(default)]
    pub generated: u64,
    /// Payments ingest acknowledged.
    #[serde(default)]
    pub acknowledged: u64,
    /// Payments ingest rejected or that could not be submitted.
    #[serde(default)]
    pub rejected: u64,
    /// Acknowledged payments per second over the run so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual_rate: Option<f64>,
    /// When the run started (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// When the run ended (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// Why the run failed, or the last submission error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// A PaymentTraffic spec the generator cannot run, naming the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// An entry of `spec.types` names no rail.
    #[error(
        "spec.types[{index}]: {name:?} is not a payment type (ach, wire, rtp, check, sepa, card, \
         direct-debit, standing-order, p2p)"
    )]
    UnknownType {
        /// Its index in `spec.types`.
        index: usize,
        /// The name as written.
        name: String,
    },
}

impl PaymentTrafficSpec {
    /// The generator's run for this spec, submitting to `target` or else to
    /// `default_target` (or the generator's own bus when both are unset); an error names the
    /// field and what is wrong with it.
    pub fn to_run_spec(&self, default_target: Option<&str>) -> Result<pb::RunSpec, SpecError> {
        let types = self
            .types
            .iter()
            .enumerate()
            .map(|(i, name)| {
                parse_payment_type(name)
                    .map(|t| t as i32)
                    .ok_or_else(|| SpecError::UnknownType {
                        index: i,
                        name: name.clone(),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(pb::RunSpec {
            rate: self.rate,
            count: self.count.unwrap_or(0),
            duration_seconds: self.duration_seconds.unwrap_or(0),
            seed: self.seed.unwrap_or(0),
            types,
            scenario_rate: self.scenario_rate.unwrap_or(0.0),
            ingest_target: self
                .target
                .as_deref()
                .or(default_target)
                .unwrap_or_default()
                .to_owned(),
            ..Default::default()
        })
    }
}

/// The CustomResourceDefinition of PaymentTraffic as YAML, as the chart ships it in
/// `helm/payments/crds/paymenttraffics.yaml`.
pub fn crd_yaml() -> Result<String, serde_yaml::Error> {
    let header = "# Generated from the Rust types by `payments-generator --print-crd`; \
                  do not edit by hand.\n";
    Ok(format!(
        "{header}{}",
        serde_yaml::to_string(&PaymentTraffic::crd())?
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> PaymentTrafficSpec {
        PaymentTrafficSpec {
            rate: 500,
            count: Some(10_000),
            duration_seconds: None,
            seed: Some(42),
            types: vec!["ach".into(), "wire".into()],
            scenario_rate: Some(0.05),
            target: None,
        }
    }

    #[test]
    fn a_spec_becomes_the_generators_run_spec() {
        let run = spec().to_run_spec(Some("ingest:50054")).unwrap();
        assert_eq!(run.rate, 500);
        assert_eq!(run.count, 10_000);
        assert_eq!(run.duration_seconds, 0);
        assert_eq!(run.seed, 42);
        assert_eq!(
            run.types,
            vec![pb::PaymentType::Ach as i32, pb::PaymentType::Wire as i32]
        );
        assert_eq!(run.scenario_rate, 0.05);
        assert_eq!(run.ingest_target, "ingest:50054");
    }

    #[test]
    fn the_specs_own_target_wins_over_the_default() {
        let own = PaymentTrafficSpec {
            target: Some("other:1".into()),
            ..spec()
        };
        assert_eq!(
            own.to_run_spec(Some("ingest:50054")).unwrap().ingest_target,
            "other:1"
        );
        assert_eq!(spec().to_run_spec(None).unwrap().ingest_target, "");
    }

    #[test]
    fn an_unknown_type_is_named_with_its_index() {
        let bad = PaymentTrafficSpec {
            types: vec!["ach".into(), "bitcoin".into()],
            ..spec()
        };
        let error = bad.to_run_spec(None).unwrap_err().to_string();
        assert!(
            error.starts_with("spec.types[1]: \"bitcoin\" is not a payment type"),
            "{error}"
        );
    }

    #[test]
    fn the_crd_names_the_resource_and_its_status_subresource() {
        let yaml = crd_yaml().unwrap();
        for expected in [
            "name: paymenttraffics.payments.dev",
            "kind: PaymentTraffic",
            "- ptraffic",
            "status: {}",
            "jsonPath: .status.phase",
        ] {
            assert!(yaml.contains(expected), "{expected} missing from\n{yaml}");
        }
    }
}
