"""Checks of the Helm chart helm/payments.

Run from the repository root:

    python3 -m pip install helm-python-sdk kubernetes-validate pytest pyyaml
    python3 -m pytest tests/deploy/test_chart.py -q

What they check: the chart lints strictly; it renders with the default values and with every
optional feature on; every rendered object validates against the Kubernetes 1.32 schemas in
strict mode; each container's probes target its gRPC port (the one PAYMENTS_GRPC_ADDR binds);
every env var the chart sets is one the binary reads (from `payments-<service> --help`);
terminationGracePeriodSeconds covers the preStop sleep and the shutdown grace; the values schema
rejects bad values; the PaymentTraffic controller's env, RBAC and CustomResourceDefinition agree.

The env test runs the debug binaries (binaries.py says where; build them with
`cargo build --workspace --bins`).
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import helm_python as helm
import jsonschema
import kubernetes_validate
import pytest
import yaml
from binaries import binary_dir

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "helm" / "payments"
CRD_FILE = CHART / "crds" / "paymenttraffics.yaml"
BINARIES = binary_dir()

KUBE_VERSION = "1.32.0"
RELEASE = "pay"
NAMESPACE = "payments-test"
COMPONENTS = ("generator", "ingest", "processor", "query")

# Env vars the binaries read outside clap (the telemetry code in services/runtime reads them
# with std::env::var), so `--help` does not list them. Nothing else may be set without a flag.
TELEMETRY_ENV_ALLOWLIST = frozenset(
    {
        "RUST_LOG",  # log filter (tracing_subscriber EnvFilter)
        "LOG_FORMAT",  # json: one JSON object per line
        "OTEL_EXPORTER_OTLP_ENDPOINT",  # turns span export on
        "OTEL_SERVICE_NAME",  # service.name of the spans
        "OTEL_RESOURCE_ATTRIBUTES",  # extra resource attributes
    }
)

# Kinds the Kubernetes 1.32 schemas do not hold (a CRD's objects): checked structurally instead
# (apiVersion, kind, metadata.name and metadata.namespace present). PaymentTraffic objects are
# also validated against the CRD's openAPIV3Schema when crds/paymenttraffics.yaml is present.
KINDS_OUTSIDE_KUBERNETES = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("payments.dev/v1alpha1", "PaymentTraffic"),
}


def load_values(name: str) -> dict[str, Any]:
    return yaml.safe_load((CHART / "ci" / name).read_text())


def without_tls(values: dict[str, Any]) -> dict[str, Any]:
    values = copy.deepcopy(values)
    values["tls"] = {"enabled": False}
    return values


ALL_FEATURES = load_values("all-features-values.yaml")

# Value sets every test renders: the defaults, every optional feature on, the same without TLS
# (so the gRPC probes are checked with auth, tracing, HPA… on), and Secrets the operator manages.
SCENARIOS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "all-features": ALL_FEATURES,
    "all-features-plaintext": without_tls(ALL_FEATURES),
    "existing-secrets": load_values("existing-secrets-values.yaml"),
}


# --- helpers -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chart():
    with helm.Chart.load(str(CHART)) as loaded:
        yield loaded


def render(chart, values: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """Rendered objects (NOTES.txt aside) and the NOTES text."""
    manifests = chart.render(copy.deepcopy(values), name=RELEASE, namespace=NAMESPACE)
    objects: list[dict[str, Any]] = []
    notes = ""
    for path, text in sorted(manifests.items()):
        if path.endswith("NOTES.txt"):
            notes = text
            continue
        for doc in yaml.safe_load_all(text):
            if doc:
                doc.setdefault("_template", path)
                objects.append(doc)
    return objects, notes


@pytest.fixture(scope="module")
def rendered(chart) -> dict[str, list[dict[str, Any]]]:
    return {name: render(chart, values)[0] for name, values in SCENARIOS.items()}


def strip(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k != "_template"}


def of_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def by_name(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in of_kind(objects, kind)}


def component_of(obj: dict[str, Any]) -> str:
    return obj["metadata"]["labels"]["app.kubernetes.io/component"]


def containers(deployment: dict[str, Any]) -> list[dict[str, Any]]:
    return deployment["spec"]["template"]["spec"]["containers"]


def env_map(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env", [])}


def port_named(container: dict[str, Any], name: str) -> int:
    ports = [p["containerPort"] for p in container["ports"] if p["name"] == name]
    assert len(ports) == 1, f"container {container['name']} has no single port named {name}"
    return ports[0]


def tls_on(scenario: str) -> bool:
    return bool(SCENARIOS[scenario].get("tls", {}).get("enabled"))


def selector_matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


_HELP_ENV = re.compile(r"\[env: ([A-Za-z_][A-Za-z0-9_]*)")
_help_cache: dict[str, set[str]] = {}


def binary_env_names(component: str) -> set[str]:
    """The env var names a binary's flags read, from the `[env: NAME=…]` lines of `--help`."""
    if component not in _help_cache:
        binary = BINARIES / f"payments-{component}"
        if not binary.is_file():
            pytest.fail(
                f"{binary} is missing: run `cargo build --workspace --bins` first "
                "(the env var check reads each binary's --help)"
            )
        result = subprocess.run(
            [str(binary), "--help"], capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 0, f"{binary} --help failed: {result.stderr}"
        names = set(_HELP_ENV.findall(result.stdout))
        assert "PAYMENTS_GRPC_ADDR" in names, f"no [env: …] names in {binary} --help"
        _help_cache[component] = names
    return _help_cache[component]


def lint_problems(values: dict[str, Any] | None, kube_version: str) -> list[str]:
    report = helm.lint(str(CHART), values, strict=True, kube_version=kube_version)
    problems = list(report.get("errors") or [])
    problems += [
        f"{m['path']}: {m['error']}" for m in report.get("messages", []) if m["severity"] >= 2
    ]
    return problems


# --- 1. lint -------------------------------------------------------------------------------


@pytest.mark.parametrize("kube_version", ["v1.32.0", "v1.28.0"])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_chart_lints_strictly(scenario: str, kube_version: str) -> None:
    assert lint_problems(SCENARIOS[scenario], kube_version) == []


def test_chart_metadata_matches_workspace() -> None:
    chart_yaml = yaml.safe_load((CHART / "Chart.yaml").read_text())
    cargo = tomllib.loads((REPO / "Cargo.toml").read_text())
    assert chart_yaml["apiVersion"] == "v2"
    assert chart_yaml["version"] == "0.1.0"
    assert chart_yaml["appVersion"] == cargo["workspace"]["package"]["version"]
    assert chart_yaml["kubeVersion"] == ">=1.28.0-0"


# --- 2. render and validate ----------------------------------------------------------------


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_rendered_objects_validate_against_kubernetes_1_32(rendered, scenario: str) -> None:
    objects = rendered[scenario]
    assert objects, "nothing rendered"
    seen: set[tuple[str, str]] = set()
    for obj in objects:
        where = f"{obj['_template']}: {obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
        key = (obj["kind"], obj["metadata"]["name"])
        assert key not in seen, f"{where} rendered twice"
        seen.add(key)
        assert obj["metadata"].get("namespace") == NAMESPACE, f"{where} is not namespaced"
        if (obj["apiVersion"], obj["kind"]) in KINDS_OUTSIDE_KUBERNETES:
            # Not in the Kubernetes 1.32 schemas: structural check only.
            assert obj["metadata"]["name"] and isinstance(obj.get("spec"), dict), where
            continue
        try:
            kubernetes_validate.validate(strip(obj), KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as e:
            path = ".".join(str(p) for p in e.path)
            pytest.fail(f"{where} is invalid for Kubernetes {KUBE_VERSION} at {path}: {e.message}")
        except kubernetes_validate.SchemaNotFoundError as e:
            pytest.fail(f"{where}: {e.message}")


def is_headless(service: dict) -> bool:
    return service["spec"].get("clusterIP") == "None"


def test_default_render_has_one_of_each_per_component(rendered) -> None:
    objects = rendered["defaults"]
    for kind in ("Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy"):
        found = [o for o in of_kind(objects, kind) if not (kind == "Service" and is_headless(o))]
        names = sorted(component_of(o) for o in found)
        assert names == sorted(COMPONENTS), kind
    # The console reads every pod's metrics through a headless Service per pipeline service.
    headless = [s for s in of_kind(objects, "Service") if is_headless(s)]
    assert sorted(component_of(s) for s in headless) == sorted(c for c in COMPONENTS if c != "query")
    for service in headless:
        assert service["metadata"]["name"].endswith("-pods")
        assert [p["name"] for p in service["spec"]["ports"]] == ["http"]
    assert of_kind(objects, "HorizontalPodAutoscaler") == []
    assert of_kind(objects, "ServiceMonitor") == []
    assert [o["metadata"]["name"] for o in of_kind(objects, "Secret")] == [f"{RELEASE}-payments-backends"]


def test_all_features_render_everything_optional(rendered) -> None:
    objects = rendered["all-features"]
    hpas = of_kind(objects, "HorizontalPodAutoscaler")
    assert sorted(component_of(h) for h in hpas) == ["ingest", "processor", "query"]
    assert len(of_kind(objects, "ServiceMonitor")) == 1
    assert len(of_kind(objects, "PaymentTraffic")) == 1
    assert {s["metadata"]["name"] for s in of_kind(objects, "Secret")} == {
        f"{RELEASE}-payments-backends",
        f"{RELEASE}-payments-auth",
    }


def test_existing_secrets_are_referenced_not_created(rendered) -> None:
    objects = rendered["existing-secrets"]
    assert of_kind(objects, "Secret") == []
    refs = set()
    for deployment in of_kind(objects, "Deployment"):
        for container in containers(deployment):
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    refs.add(ref["name"])
    assert refs == {"payments-backends", "payments-auth"}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_secret_references_resolve(rendered, scenario: str) -> None:
    """Every secretKeyRef and secret volume names a Secret the chart renders (holding the key)
    or the one the values name as existing."""
    objects = rendered[scenario]
    values = SCENARIOS[scenario]
    created = {
        name: set((s.get("stringData") or {}) | (s.get("data") or {}))
        for name, s in by_name(objects, "Secret").items()
    }
    external = {
        values.get(section, {}).get("existingSecret")
        for section in ("backends", "auth", "tls")
        if values.get(section, {}).get("existingSecret")
    }
    for deployment in of_kind(objects, "Deployment"):
        spec = deployment["spec"]["template"]["spec"]
        for container in spec["containers"]:
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if not ref:
                    continue
                if ref["name"] in external:
                    continue
                assert ref["name"] in created, f"{env['name']} reads Secret {ref['name']}, not rendered"
                assert ref["key"] in created[ref["name"]] or ref.get("optional"), (
                    f"{env['name']} reads key {ref['key']} missing from Secret {ref['name']}"
                )
        for volume in spec.get("volumes", []):
            if "secret" in volume:
                name = volume["secret"]["secretName"]
                assert name in created or name in external, f"volume {volume['name']}: {name}"


# --- 3. probes -----------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_probes_target_the_grpc_port(rendered, scenario: str) -> None:
    """Native gRPC probes (grpc.health.v1) on the port PAYMENTS_GRPC_ADDR binds. With TLS on,
    the kubelet's gRPC probe (plaintext only) cannot reach the port, so the chart probes the
    plain HTTP port's /livez and /readyz instead; that is checked here too."""
    deployments = of_kind(rendered[scenario], "Deployment")
    assert sorted(component_of(d) for d in deployments) == sorted(COMPONENTS)
    for deployment in deployments:
        for container in containers(deployment):
            name = f"{scenario}/{container['name']}"
            grpc_port = port_named(container, "grpc")
            http_port = port_named(container, "http")
            env = env_map(container)
            assert int(env["PAYMENTS_GRPC_ADDR"]["value"].rsplit(":", 1)[1]) == grpc_port, name
            assert int(env["PAYMENTS_HTTP_ADDR"]["value"].rsplit(":", 1)[1]) == http_port, name
            for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
                probe = container.get(kind)
                assert probe, f"{name} has no {kind}"
                if tls_on(scenario):
                    assert probe["httpGet"]["port"] in ("http", http_port), f"{name} {kind}"
                    assert probe["httpGet"]["path"] in ("/livez", "/readyz"), f"{name} {kind}"
                    # The query service's HTTP port serves payments, so it speaks TLS too.
                    expected = "HTTPS" if component_of(deployment) == "query" else "HTTP"
                    assert probe["httpGet"].get("scheme", "HTTP") == expected, f"{name} {kind}"
                else:
                    assert set(probe) & {"grpc", "httpGet", "tcpSocket", "exec"} == {"grpc"}, (
                        f"{name} {kind} is not a gRPC probe"
                    )
                    assert probe["grpc"]["port"] == grpc_port, f"{name} {kind} port"


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_services_expose_the_container_ports(rendered, scenario: str) -> None:
    objects = rendered[scenario]
    deployments = {component_of(d): d for d in of_kind(objects, "Deployment")}
    for service in of_kind(objects, "Service"):
        deployment = deployments[component_of(service)]
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert selector_matches(service["spec"]["selector"], pod_labels)
        container = containers(deployment)[0]
        ports = {p["name"]: p for p in service["spec"]["ports"]}
        assert ports["http"]["targetPort"] == "http"
        assert ports["http"]["port"] == port_named(container, "http")
        if is_headless(service):
            continue
        assert ports["grpc"]["targetPort"] == "grpc"
        assert ports["grpc"]["port"] == port_named(container, "grpc")
        assert ports["http"]["targetPort"] == "http"


# --- 4. env vars the binaries read ---------------------------------------------------------


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_env_var_is_a_flag_of_the_binary(rendered, scenario: str) -> None:
    unknown = []
    for deployment in of_kind(rendered[scenario], "Deployment"):
        component = component_of(deployment)
        accepted = binary_env_names(component) | TELEMETRY_ENV_ALLOWLIST
        for container in containers(deployment):
            assert "envFrom" not in container, "envFrom would set names the binary may not read"
            for name in env_map(container):
                if name not in accepted:
                    unknown.append(f"payments-{component}: {name}")
    assert unknown == [], (
        "env vars the chart sets that no flag of the binary reads "
        "(see `target/debug/payments-<service> --help`): " + ", ".join(unknown)
    )


def test_backends_reach_the_right_env_vars(rendered) -> None:
    deployments = {component_of(d): d for d in of_kind(rendered["defaults"], "Deployment")}

    def secret_key(component: str, var: str) -> str:
        env = env_map(containers(deployments[component])[0])
        return env[var]["valueFrom"]["secretKeyRef"]["key"]

    assert secret_key("ingest", "PAYMENTS_BUS") == "bus"
    assert secret_key("processor", "PAYMENTS_BUS") == "bus"
    assert secret_key("processor", "PAYMENTS_SINKS") == "sinks"
    assert secret_key("query", "PAYMENTS_STORE") == "store"
    assert secret_key("query", "PAYMENTS_CACHE") == "cache"


def test_optional_features_set_their_env(rendered) -> None:
    deployments = {component_of(d): d for d in of_kind(rendered["all-features"], "Deployment")}
    for component, deployment in deployments.items():
        container = containers(deployment)[0]
        env = env_map(container)
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"]["value"] == ALL_FEATURES["tracing"]["otlpEndpoint"]
        assert env["OTEL_SERVICE_NAME"]["value"] == f"payments-{component}"
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        for var in ("PAYMENTS_TLS_CERT", "PAYMENTS_TLS_KEY", "PAYMENTS_TLS_CLIENT_CA"):
            assert env[var]["value"].startswith(mounts["tls"] + "/"), f"{component} {var}"
        if component in ("generator", "ingest", "query"):
            assert env["PAYMENTS_AUTH_TOKENS_FILE"]["value"] == mounts["auth"] + "/tokens"
        else:
            assert "PAYMENTS_AUTH_TOKENS_FILE" not in env
    generator = env_map(containers(deployments["generator"])[0])
    assert generator["PAYMENTS_INGEST_TOKEN"]["valueFrom"]["secretKeyRef"]["key"] == "generator-token"
    assert "PAYMENTS_INGEST_TLS_CA" in generator
    # Runs may reach this release's ingest, and nothing else unless the values add it.
    ingest_service = f"{RELEASE}-payments-ingest.{NAMESPACE}.svc:"
    allowed = generator["PAYMENTS_ALLOW_INGEST_TARGETS"]["value"].split(",")
    assert allowed[0].startswith(ingest_service), allowed
    processor = env_map(containers(deployments["processor"])[0])
    assert processor["PAYMENTS_INSTANCE_ID"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"


# --- 5. shutdown ---------------------------------------------------------------------------


def prestop_sleep_seconds(container: dict[str, Any]) -> int:
    pre_stop = container.get("lifecycle", {}).get("preStop")
    if not pre_stop:
        return 0
    if "sleep" in pre_stop:
        return int(pre_stop["sleep"]["seconds"])
    command = pre_stop["exec"]["command"]
    assert command[0] == "sleep", command
    return int(command[1])


@pytest.mark.parametrize(
    "scenario_values",
    [
        *SCENARIOS.values(),
        {"shutdown": {"graceSeconds": 120, "preStopSleepSeconds": 0, "marginSeconds": 1}},
    ],
    ids=[*SCENARIOS, "long-grace-no-prestop"],
)
def test_termination_grace_covers_prestop_and_drain(chart, scenario_values) -> None:
    objects, _ = render(chart, scenario_values)
    for deployment in of_kind(objects, "Deployment"):
        spec = deployment["spec"]["template"]["spec"]
        for container in spec["containers"]:
            grace = int(env_map(container)["PAYMENTS_SHUTDOWN_GRACE"]["value"])
            sleep = prestop_sleep_seconds(container)
            assert spec["terminationGracePeriodSeconds"] > grace + sleep, container["name"]
    expected = scenario_values.get("shutdown", {})
    if expected:
        first = containers(of_kind(objects, "Deployment")[0])[0]
        assert prestop_sleep_seconds(first) == expected["preStopSleepSeconds"]


def test_prestop_uses_sleep_action_on_1_30_and_later(rendered) -> None:
    # Helm renders against its default Kubernetes version (>= 1.30): the sleep action, which
    # needs no shell or sleep binary in the image.
    for deployment in of_kind(rendered["defaults"], "Deployment"):
        pre_stop = containers(deployment)[0]["lifecycle"]["preStop"]
        assert pre_stop == {"sleep": {"seconds": 5}}


# --- security ------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_pods_run_non_root_read_only(rendered, scenario: str) -> None:
    for deployment in of_kind(rendered[scenario], "Deployment"):
        spec = deployment["spec"]["template"]["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        tmp_volumes = {v["name"] for v in spec["volumes"] if "emptyDir" in v}
        for container in spec["containers"]:
            sc = container["securityContext"]
            assert sc["runAsNonRoot"] is True
            assert sc["runAsUser"] == 65532
            assert sc["readOnlyRootFilesystem"] is True
            assert sc["allowPrivilegeEscalation"] is False
            assert sc["capabilities"]["drop"] == ["ALL"]
            assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
            tmp = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
            assert len(tmp) == 1 and tmp[0]["name"] in tmp_volumes
            assert container["resources"]["requests"] and container["resources"]["limits"]


# --- HPA, PDB, NetworkPolicy, ServiceMonitor -----------------------------------------------


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_autoscalers_pdbs_and_policies_select_the_pods(rendered, scenario: str) -> None:
    objects = rendered[scenario]
    deployments = by_name(objects, "Deployment")
    for hpa in of_kind(objects, "HorizontalPodAutoscaler"):
        target = hpa["spec"]["scaleTargetRef"]
        assert target["kind"] == "Deployment" and target["name"] in deployments
        assert "replicas" not in deployments[target["name"]]["spec"], "the HPA owns replicas"
        assert hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    pod_labels = {
        component_of(d): d["spec"]["template"]["metadata"]["labels"] for d in deployments.values()
    }
    for kind, selector_path in (
        ("PodDisruptionBudget", ("selector", "matchLabels")),
        ("NetworkPolicy", ("podSelector", "matchLabels")),
    ):
        found = set()
        for obj in of_kind(objects, kind):
            selector = obj["spec"][selector_path[0]][selector_path[1]]
            matched = [c for c, labels in pod_labels.items() if selector_matches(selector, labels)]
            assert matched == [component_of(obj)], f"{kind} {obj['metadata']['name']} selects {matched}"
            found.add(component_of(obj))
        assert found == set(pod_labels), kind
    for policy in of_kind(objects, "NetworkPolicy"):
        ingress_ports = {p["port"] for rule in policy["spec"]["ingress"] for p in rule["ports"]}
        assert ingress_ports == {"grpc", "http"}
        if "Egress" in policy["spec"]["policyTypes"]:
            dns = [
                rule
                for rule in policy["spec"]["egress"]
                if {(p["port"], p["protocol"]) for p in rule.get("ports", [])} >= {(53, "UDP"), (53, "TCP")}
            ]
            assert dns, f"{policy['metadata']['name']} blocks DNS"


def test_service_monitor_scrapes_every_service(rendered) -> None:
    objects = rendered["all-features"]
    (monitor,) = of_kind(objects, "ServiceMonitor")
    selector = monitor["spec"]["selector"]["matchLabels"]
    services = of_kind(objects, "Service")
    assert all(selector_matches(selector, s["metadata"]["labels"]) for s in services)
    assert monitor["spec"]["endpoints"][0]["port"] == "http"
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
    assert all("http" in {p["name"] for p in s["spec"]["ports"]} for s in services)
    # With TLS on, the query service is scraped over TLS (trusting the release's CA), the
    # others in plaintext: each service by exactly one endpoint.
    plain, tls = monitor["spec"]["endpoints"]
    assert (plain["scheme"], tls["scheme"]) == ("http", "https")
    assert plain["relabelings"][0]["action"] == "drop" and tls["relabelings"][0]["action"] == "keep"
    assert tls["tlsConfig"]["ca"]["secret"]["key"] == "ca.crt"


# --- 6. values schema ----------------------------------------------------------------------


BAD_VALUES = {
    "replicas-not-a-number": {"ingest": {"replicas": "three"}},
    "unknown-key": {"query": {"replica": 2}},
    "unknown-top-level-key": {"replicaCount": 2},
    "port-out-of-range": {"processor": {"grpcPort": 70000}},
    "bad-validation-mode": {"processor": {"config": {"validation": "loose"}}},
    "existing-secret-missing": {"backends": {"create": False, "existingSecret": ""}},
    "tls-without-secret": {"tls": {"enabled": True}},
    "tracing-without-endpoint": {"tracing": {"enabled": True}},
    # Two controllers would each start a run for the same PaymentTraffic object.
    "two-generators-with-the-traffic-controller": {"generator": {"replicas": 2}},
}


@pytest.mark.parametrize("bad", list(BAD_VALUES.values()), ids=list(BAD_VALUES))
def test_schema_rejects_bad_values(chart, bad) -> None:
    with pytest.raises(helm.HelmValuesError):
        chart.render(copy.deepcopy(bad), name=RELEASE, namespace=NAMESPACE)
    assert lint_problems(bad, "v1.32.0"), "helm lint accepted bad values"


def test_schema_is_draft_07_and_closed() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["additionalProperties"] is False
    defaults = yaml.safe_load((CHART / "values.yaml").read_text())
    # Every default key is described by the schema.
    assert set(defaults) <= set(schema["properties"])
    for component in COMPONENTS:
        assert set(defaults[component]) <= set(schema["properties"][component]["properties"])


# --- NOTES ---------------------------------------------------------------------------------


def test_notes_show_grpcurl_and_port_forward(chart) -> None:
    _, notes = render(chart, {})
    assert f"kubectl -n {NAMESPACE} port-forward svc/{RELEASE}-payments-query" in notes
    assert "grpcurl -plaintext localhost:50056 list" in notes
    assert "grpc.health.v1.Health/Check" in notes
    assert "payments.v1.QueryService/GetStats" in notes
    assert "payments.v1.QueryService/ListPayments" in notes
    assert "payments.v1.GeneratorService/StartRun" in notes


# --- the PaymentTraffic controller ---------------------------------------------------------


def test_traffic_controller_env_and_rbac(rendered) -> None:
    objects = rendered["defaults"]
    deployments = {component_of(d): d for d in of_kind(objects, "Deployment")}
    generator = deployments["generator"]
    pod = generator["spec"]["template"]["spec"]
    env = env_map(pod["containers"][0])
    assert env["PAYMENTS_WATCH_PAYMENT_TRAFFIC"]["value"] == "true"
    assert env["PAYMENTS_TRAFFIC_NAMESPACE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"
    ingest_service = by_name(objects, "Service")[f"{RELEASE}-payments-ingest"]
    ingest_port = next(p["port"] for p in ingest_service["spec"]["ports"] if p["name"] == "grpc")
    assert env["PAYMENTS_TRAFFIC_DEFAULT_TARGET"]["value"] == (
        f"{RELEASE}-payments-ingest.{NAMESPACE}.svc:{ingest_port}"
    )
    assert pod["automountServiceAccountToken"] is True
    for other in ("ingest", "processor", "query"):
        assert deployments[other]["spec"]["template"]["spec"]["automountServiceAccountToken"] is False

    account = pod["serviceAccountName"]
    assert account in by_name(objects, "ServiceAccount")
    (role,) = of_kind(objects, "Role")
    (binding,) = of_kind(objects, "RoleBinding")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": account, "namespace": NAMESPACE}]
    granted: dict[tuple[str, str], set[str]] = {}
    for rule in role["rules"]:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                granted.setdefault((group, resource), set()).update(rule["verbs"])
    for resource in ("paymenttraffics", "paymenttraffics/status", "paymenttraffics/finalizers"):
        assert granted[("payments.dev", resource)] >= {"get", "list", "watch", "patch", "update"}
    # Least privilege: the controller records no Events, so it may not write them.
    assert ("", "events") not in granted


def test_traffic_controller_off_drops_env_and_rbac(rendered) -> None:
    objects = rendered["existing-secrets"]
    generator = next(d for d in of_kind(objects, "Deployment") if component_of(d) == "generator")
    env = env_map(containers(generator)[0])
    assert not {n for n in env if "TRAFFIC" in n}
    assert generator["spec"]["template"]["spec"]["automountServiceAccountToken"] is False
    assert of_kind(objects, "Role") == [] and of_kind(objects, "RoleBinding") == []


def load_crd() -> dict[str, Any]:
    assert CRD_FILE.is_file(), (
        f"{CRD_FILE.relative_to(REPO)} is missing: it is generated by the generator's Rust code "
        "(the PaymentTraffic CustomResourceDefinition)"
    )
    docs = [d for d in yaml.safe_load_all(CRD_FILE.read_text()) if d]
    assert len(docs) == 1, "crds/paymenttraffics.yaml should hold exactly one object"
    return docs[0]


def test_payment_traffic_crd(chart) -> None:
    """crds/paymenttraffics.yaml: a valid 1.32 CustomResourceDefinition for
    paymenttraffics.payments.dev/v1alpha1 that the Role and the chart's PaymentTraffic objects fit."""
    crd = load_crd()
    try:
        kubernetes_validate.validate(crd, KUBE_VERSION, strict=True)
    except kubernetes_validate.ValidationError as e:
        pytest.fail(f"CRD invalid at {'.'.join(map(str, e.path))}: {e.message}")
    assert crd["apiVersion"] == "apiextensions.k8s.io/v1"
    assert crd["kind"] == "CustomResourceDefinition"
    spec = crd["spec"]
    assert crd["metadata"]["name"] == "paymenttraffics.payments.dev"
    assert spec["group"] == "payments.dev"
    assert spec["scope"] == "Namespaced"
    assert spec["names"]["kind"] == "PaymentTraffic"
    assert spec["names"]["plural"] == "paymenttraffics"
    versions = {v["name"]: v for v in spec["versions"]}
    assert versions["v1alpha1"]["served"] and versions["v1alpha1"]["storage"]
    # Helm loads it as a CRD (installed before the templates).
    assert [Path(c["filename"]).name for c in chart.crds] == ["paymenttraffics.yaml"]

    # The chart's PaymentTraffic objects fit the CRD's schema.
    schema = versions["v1alpha1"]["schema"]["openAPIV3Schema"]
    objects, _ = render(chart, ALL_FEATURES)
    for obj in of_kind(objects, "PaymentTraffic"):
        try:
            jsonschema.validate({"spec": obj["spec"]}, {**schema, "required": []})
        except jsonschema.ValidationError as e:
            pytest.fail(f"PaymentTraffic {obj['metadata']['name']} does not fit the CRD: {e.message}")


def test_the_query_consoles_metrics_urls_name_headless_services_of_the_release(rendered) -> None:
    objects = rendered["defaults"]
    services = {s["metadata"]["name"]: s for s in of_kind(objects, "Service")}
    query = next(d for d in of_kind(objects, "Deployment") if component_of(d) == "query")
    env = env_map(containers(query)[0])
    urls = env["PAYMENTS_CONSOLE_METRICS_FROM"]["value"].split(",")
    assert len(urls) == 3
    for url in urls:
        match = re.fullmatch(r"http://([a-z0-9-]+)\.([a-z0-9-]+)\.svc:(\d+)/metrics", url)
        assert match, url
        name, namespace, port = match.groups()
        assert namespace == NAMESPACE
        assert is_headless(services[name]), f"{name} is not headless: the console would see one pod"
        assert int(port) in [p["port"] for p in services[name]["spec"]["ports"]]
